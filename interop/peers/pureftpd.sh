#!/usr/bin/env bash
# Peer: Pure-FTPd as an FTPS server (explicit AUTH TLS only) on 127.0.0.1, in the foreground, as a
# child of the test.
#
#   bash pureftpd.sh install   # only when missing: unpacks Debian's pure-ftpd into
#                              # interop/.pkg/pure-ftpd (see below), apt-installs its libraries;
#                              # creates the test user (see ../ftp.sh)
#   bash pureftpd.sh check     # exit 0 when that pure-ftpd runs and the test user is there
#   bash pureftpd.sh run WORKDIR MODE PORT PASV_MIN PASV_MAX CERT KEY TLS_MAX ROOT
#
# Debian's FTP servers all declare `Conflicts: ftp-server`, so apt installs only one of them
# (vsftpd, see vsftpd.sh): pure-ftpd is unpacked with `dpkg-deb -x` instead (apt_unpack in
# ../apt.sh), into the git-ignored interop/.pkg/pure-ftpd, and runs from there.
#
# `run` writes a puredb with the test user (its own user database: `-l puredb:`) into WORKDIR and
# execs pure-ftpd in the foreground (its default without -B), so the spawned PID is the
# listener's; it forks session processes per client (the harness, FtpServer in src/ftp.rs, kills
# them by PID when it stops the listener). It accepts at most half as many clients at once as it
# has passive ports.
#
#   MODE      explicit only: pure-ftpd has no implicit TLS (anything else is an error)
#   PORT      control port on 127.0.0.1
#   PASV_MIN, PASV_MAX   passive data ports; PASV replies name 127.0.0.1 (--forcepassiveip)
#   CERT KEY  PEM chain (leaf first) and its key
#   TLS_MAX   1.2 (TLS 1.2 only) or 1.3 (TLS 1.2 and 1.3)
#   ROOT      what the test user sees as "/" (chroot); made owned by the test user
#
# `--tls 3`: no login and no data connection without TLS (`PROT P` required). pure-ftpd does not
# require the data connection to resume the control connection's TLS session. Uploads, MKD,
# DELE, RNFR/RNTO, APPE and REST are allowed. pure-ftpd logs only to syslog (none here, so its log
# is nearly empty); transfers are logged to WORKDIR/transfer.log.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../apt.sh"
. "$here/../ftp.sh"

PKGS=(pure-ftpd)
DIR=$FTP_PKG_DIR/pure-ftpd
BIN=$DIR/usr/sbin/pure-ftpd
PURE_PW=$DIR/usr/bin/pure-pw

# Runs: every shared library it needs is installed (`--help` prints the version and exits).
runs() {
    [ -x "$BIN" ] && [ -x "$PURE_PW" ] && "$BIN" --help >/dev/null 2>&1
}

version() {
    "$BIN" --help 2>&1 | head -n1
}

check() {
    runs && ftp_user_check
}

install() {
    if check; then
        echo "pure-ftpd: already installed ($(version), in $DIR)"
        return 0
    fi
    if ! runs; then
        apt_unpack pure-ftpd "$DIR" "${PKGS[@]}"
    fi
    ftp_user_install
    check && echo "pure-ftpd: installed ($(version), in $DIR)"
}

run() {
    if [ $# -ne 9 ]; then
        echo "usage: $0 run WORKDIR MODE PORT PASV_MIN PASV_MAX CERT KEY TLS_MAX ROOT" >&2
        exit 2
    fi
    local workdir mode port pasv_min pasv_max cert key tls_max root uid gid
    workdir=$(cd "$1" && pwd)
    mode=$2 port=$3 pasv_min=$4 pasv_max=$5 tls_max=$8
    # Absolute paths: the server chroots.
    cert=$(realpath "$6")
    key=$(realpath "$7")
    root=$(cd "$9" && pwd)
    if [ "$mode" != explicit ]; then
        echo "pure-ftpd: MODE must be explicit (pure-ftpd has no implicit TLS), not '$mode'" >&2
        exit 2
    fi
    check || { echo "pure-ftpd: not installed (run bash interop/setup.sh)" >&2; exit 1; }
    if [ "$(id -u)" -ne 0 ]; then
        echo "pure-ftpd: run needs root (it switches to the test user's uid and chroots)" >&2
        exit 1
    fi

    # The session process changes into ROOT as the test user: it must reach it.
    chmod 0755 "$workdir"
    ftp_prepare_root "$root"
    # pure-ftpd has no TLS version setting: cap it through OpenSSL.
    ftp_openssl_conf "$workdir/openssl.cnf" "$tls_max"

    # The puredb user, written by hand: `pure-pw useradd` hashes with argon2id, which costs
    # ~4 s per login here; an `openssl passwd -6` (SHA-512 crypt) hash is checked at once.
    # Fields: user:hash:uid:gid:gecos:home (/./ = chroot there):bandwidth, ratio, quota and
    # IP/time restrictions (empty: none).
    uid=$(id -u "$FTP_USER")
    gid=$(id -g "$FTP_USER")
    printf '%s:%s:%s:%s::%s/./::::::::::::\n' "$FTP_USER" "$(openssl passwd -6 "$FTP_PASSWORD")" \
        "$uid" "$gid" "$root" >"$workdir/pureftpd.passwd"
    "$PURE_PW" mkdb "$workdir/pureftpd.pdb" -f "$workdir/pureftpd.passwd"

    OPENSSL_CONF=$workdir/openssl.cnf exec "$BIN" \
        --bind "127.0.0.1,$port" \
        --ipv4only \
        --dontresolve \
        --login "puredb:$workdir/pureftpd.pdb" \
        --noanonymous \
        --chrooteveryone \
        --passiveportrange "$pasv_min:$pasv_max" \
        --forcepassiveip 127.0.0.1 \
        --tls 3 \
        --certfile "$cert,$key" \
        --umask 133:022 \
        --maxclientsnumber 50 \
        --maxclientsperip 50 \
        --pidfile "$workdir/pure-ftpd.pid" \
        --altlog "clf:$workdir/transfer.log"
}

case "${1:-}" in
    install) install ;;
    check) check ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 install|check|run WORKDIR MODE PORT PASV_MIN PASV_MAX CERT KEY TLS_MAX ROOT" >&2; exit 2 ;;
esac
