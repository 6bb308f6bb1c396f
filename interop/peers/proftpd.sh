#!/usr/bin/env bash
# Peer: ProFTPD with mod_tls as an FTPS server on 127.0.0.1, in the foreground, as a child of the
# test.
#
#   bash proftpd.sh install   # only when missing: unpacks Debian's proftpd-core and
#                             # proftpd-mod-crypto (mod_tls) into interop/.pkg/proftpd (see
#                             # below), apt-installs their libraries; creates the test user
#                             # (see ../ftp.sh)
#   bash proftpd.sh check     # exit 0 when that proftpd runs, mod_tls is there, and the user is
#   bash proftpd.sh run WORKDIR MODE PORT PASV_MIN PASV_MAX CERT KEY TLS_MAX ROOT
#
# Debian's FTP servers all declare `Conflicts: ftp-server`, so apt installs only one of them
# (vsftpd, see vsftpd.sh): proftpd is unpacked with `dpkg-deb -x` instead (apt_unpack in
# ../apt.sh), into the git-ignored interop/.pkg/proftpd, and runs from there with its modules.
#
# `run` writes WORKDIR/proftpd.conf and execs `proftpd -n` (no daemon: the spawned PID is the
# listener's), which forks a session process per client; killing the listener leaves them
# running (the harness, FtpServer in src/ftp.rs, kills them by PID too).
#
#   MODE      implicit (TLSOptions UseImplicitSSL: TLS from the first byte) or explicit (AUTH TLS)
#   PORT      control port on 127.0.0.1
#   PASV_MIN, PASV_MAX   passive data ports; PASV replies name 127.0.0.1 (MasqueradeAddress)
#   CERT KEY  PEM chain (leaf first) and its ECDSA key
#   TLS_MAX   1.2 (TLSProtocol TLSv1.2) or 1.3 (TLSv1.2 TLSv1.3)
#   ROOT      what the test user sees as "/" (DefaultRoot, a chroot); made owned by the test user
#
# TLS is required on control and data connections (`TLSRequired on`), and every data connection
# must resume the control connection's TLS session: mod_tls's default, kept (no `TLSOptions
# NoSessionReuseRequired`; note that `TLSSessionCache off` would turn that option on). A client
# that does not reuse the session gets `150` and then the data connection is closed. Uploads,
# overwriting, MKD, DELE, RNFR/RNTO, APPE and REST (upload and download) are allowed. The log
# (stderr) has startup and login messages; WORKDIR/commands.log every command and its reply
# code, WORKDIR/tls.log the TLS details.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../apt.sh"
. "$here/../ftp.sh"

PKGS=(proftpd-core proftpd-mod-crypto)
DIR=$FTP_PKG_DIR/proftpd
BIN=$DIR/usr/sbin/proftpd
MODULES=$DIR/usr/lib/proftpd

check() {
    [ -x "$BIN" ] && [ -f "$MODULES/mod_tls.so" ] || return 1
    # Runs: every shared library it and mod_tls need is installed.
    "$BIN" -v >/dev/null 2>&1 || return 1
    ! ldd "$MODULES/mod_tls.so" | grep -q 'not found' || return 1
    ftp_user_check
}

install() {
    if check; then
        echo "proftpd: already installed ($("$BIN" -v 2>&1), in $DIR)"
        return 0
    fi
    if ! { [ -x "$BIN" ] && "$BIN" -v >/dev/null 2>&1 && [ -f "$MODULES/mod_tls.so" ]; }; then
        apt_unpack proftpd "$DIR" "${PKGS[@]}"
    fi
    ftp_user_install
    check && echo "proftpd: installed ($("$BIN" -v 2>&1), in $DIR)"
}

run() {
    if [ $# -ne 9 ]; then
        echo "usage: $0 run WORKDIR MODE PORT PASV_MIN PASV_MAX CERT KEY TLS_MAX ROOT" >&2
        exit 2
    fi
    local workdir mode port pasv_min pasv_max cert key tls_max root implicit protocols
    workdir=$(cd "$1" && pwd)
    mode=$2 port=$3 pasv_min=$4 pasv_max=$5 tls_max=$8
    # Absolute paths: proftpd requires them, and the servers chroot.
    cert=$(realpath "$6")
    key=$(realpath "$7")
    root=$(cd "$9" && pwd)
    case "$mode" in
        implicit) implicit="TLSOptions UseImplicitSSL" ;;
        explicit) implicit="# explicit: AUTH TLS on the control connection" ;;
        *) echo "proftpd: MODE must be implicit or explicit, not '$mode'" >&2; exit 2 ;;
    esac
    case "$tls_max" in
        1.2) protocols="TLSv1.2" ;;
        1.3) protocols="TLSv1.2 TLSv1.3" ;;
        *) echo "proftpd: TLS_MAX must be 1.2 or 1.3, not '$tls_max'" >&2; exit 2 ;;
    esac
    check || { echo "proftpd: not installed (run bash interop/setup.sh)" >&2; exit 1; }
    if [ "$(id -u)" -ne 0 ]; then
        echo "proftpd: run needs root (it logs in a system user and chroots)" >&2
        exit 1
    fi

    # The session process changes into ROOT as the test user: it must reach it.
    chmod 0755 "$workdir"
    ftp_prepare_root "$root"

    cat >"$workdir/proftpd.conf" <<CONF
# Written by interop/peers/proftpd.sh for one test run.
ServerName "redy interop proftpd"
ServerType standalone
# One listener on 127.0.0.1 only, IPv4.
Port $port
DefaultAddress 127.0.0.1
SocketBindTight on
UseIPv6 off
# Before login, session processes run as nobody; after login as the logged-in user.
User nobody
Group nogroup
# Everything proftpd writes stays in WORKDIR; no wtmp, no DNS.
PidFile $workdir/proftpd.pid
ScoreboardFile $workdir/proftpd.scoreboard
# mod_delay pads USER/PASS replies to hide timing differences (hundreds of ms per login): not
# wanted in tests.
DelayEngine off
WtmpLog off
UseReverseDNS off
TransferLog $workdir/xferlog
# Every command with its reply code.
ExtendedLog $workdir/commands.log ALL
MaxInstances 50

# Log in system users from /etc/passwd and /etc/shadow, not PAM; the test user has no shell
# (RequireValidShell off) and /etc/ftpusers is not consulted.
AuthPAM off
AuthOrder mod_auth_unix.c
RequireValidShell off
UseFtpUsers off
# chroot into ROOT.
DefaultRoot $root

# Passive mode on the harness's ports, announcing 127.0.0.1.
PassivePorts $pasv_min $pasv_max
MasqueradeAddress 127.0.0.1

# Uploads, overwriting, and REST for uploads as well as downloads.
Umask 022
AllowOverwrite on
AllowStoreRestart on
AllowRetrieveRestart on

# mod_tls, from the unpacked proftpd-mod-crypto.
ModulePath $MODULES
LoadModule mod_tls.c
<IfModule mod_tls.c>
    TLSEngine on
    TLSLog $workdir/tls.log
    TLSProtocol $protocols
    TLSECCertificateFile $cert
    TLSECCertificateKeyFile $key
    # Control and data connections must be TLS (no login, no transfer in clear text).
    TLSRequired on
    TLSVerifyClient off
    TLSRenegotiate none
    # Session reuse on data connections stays required (mod_tls's default): no
    # NoSessionReuseRequired, and the session cache stays on.
    $implicit
</IfModule>
CONF
    chmod 0644 "$workdir/proftpd.conf"
    # -n: stay in the foreground and log to stderr (the peer's log; no -q, which silences it).
    exec "$BIN" -n -c "$workdir/proftpd.conf"
}

case "${1:-}" in
    install) install ;;
    check) check ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 install|check|run WORKDIR MODE PORT PASV_MIN PASV_MAX CERT KEY TLS_MAX ROOT" >&2; exit 2 ;;
esac
