#!/usr/bin/env bash
# Peer: vsftpd as an FTPS server on 127.0.0.1, in the foreground, as a child of the test.
#
#   bash vsftpd.sh install   # apt-get install vsftpd, only when missing; creates the test user
#                            # (see ../ftp.sh) and the PAM service redy-ftp (see below)
#   bash vsftpd.sh check     # exit 0 when vsftpd, the test user and the PAM service are there
#   bash vsftpd.sh run WORKDIR MODE PORT PASV_MIN PASV_MAX CERT KEY TLS_MAX ROOT
#
# `run` writes WORKDIR/vsftpd.conf and execs vsftpd on it (`background=NO`), so the spawned PID
# is the listener's. It forks a process pair per client, which ends with the client's session;
# killing the listener leaves them running (the harness, FtpServer in src/ftp.rs, kills them by
# PID too).
#
#   MODE      implicit (TLS from the first byte) or explicit (AUTH TLS); one listener is one
#             mode (`implicit_ssl` applies to the whole listener)
#   PORT      control port on 127.0.0.1
#   PASV_MIN, PASV_MAX   passive data ports; PASV replies name 127.0.0.1
#   CERT KEY  PEM chain (leaf first) and its key
#   TLS_MAX   1.2 (TLS 1.2 only) or 1.3 (TLS 1.2 and 1.3)
#   ROOT      what the test user sees as "/" (chroot); made owned by the test user
#
# TLS is required for login and for every data connection, and each data connection must resume
# the control connection's TLS session (`require_ssl_reuse=YES`, vsftpd's default, which real
# deployments run): without it vsftpd answers `522 SSL connection failed: session reuse
# required`. Uploads, MKD, DELE, RNFR/RNTO, APPE and REST are allowed. vsftpd logs each FTP
# command and reply, and TLS details, to WORKDIR/vsftpd.log.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$here/../apt.sh"
. "$here/../ftp.sh"

BIN=/usr/sbin/vsftpd
PKG=vsftpd
# Our own PAM service: Debian's /etc/pam.d/vsftpd requires a shell listed in /etc/shells
# (pam_shells) and the test user has none. This one checks the password and the account only.
PAM_SERVICE=redy-ftp
PAM_FILE=/etc/pam.d/$PAM_SERVICE

check() {
    [ -x "$BIN" ] && [ -f "$PAM_FILE" ] && ftp_user_check
}

version() {
    # vsftpd -v prints its version to fd 0 (stdin, the client socket under inetd), not stdout.
    "$BIN" -v 0>&1 | head -n1 || true
}

install() {
    if check; then
        echo "vsftpd: already installed ($(version))"
        return 0
    fi
    if [ ! -x "$BIN" ]; then
        apt_install vsftpd "$PKG"
        # The package starts a vsftpd service on port 21 unless policy-rc.d forbids it (Docker
        # images do). Tests run their own instances: stop the one the package may have started.
        if [ ! -x /usr/sbin/policy-rc.d ]; then
            invoke-rc.d vsftpd stop >/dev/null 2>&1 || true
        fi
    fi
    apt_require_root vsftpd "$PKG"
    cat >"$PAM_FILE" <<'PAM'
# Written by redy's interop/peers/vsftpd.sh: password check for the FTP test user, no shell check.
auth     required pam_unix.so
account  required pam_unix.so
session  required pam_permit.so
PAM
    ftp_user_install
    check && echo "vsftpd: installed ($(version))"
}

run() {
    if [ $# -ne 9 ]; then
        echo "usage: $0 run WORKDIR MODE PORT PASV_MIN PASV_MAX CERT KEY TLS_MAX ROOT" >&2
        exit 2
    fi
    local workdir mode port pasv_min pasv_max cert key tls_max root implicit
    workdir=$(cd "$1" && pwd)
    mode=$2 port=$3 pasv_min=$4 pasv_max=$5 tls_max=$8
    # Absolute paths: proftpd requires them, and the servers chroot.
    cert=$(realpath "$6")
    key=$(realpath "$7")
    root=$(cd "$9" && pwd)
    case "$mode" in
        implicit) implicit=YES ;;
        explicit) implicit=NO ;;
        *) echo "vsftpd: MODE must be implicit or explicit, not '$mode'" >&2; exit 2 ;;
    esac
    check || { echo "vsftpd: not installed (run bash interop/setup.sh)" >&2; exit 1; }
    if [ "$(id -u)" -ne 0 ]; then
        echo "vsftpd: run needs root (it logs in a system user and chroots)" >&2
        exit 1
    fi

    # The session process changes into ROOT as the test user: it must reach it.
    chmod 0755 "$workdir"
    ftp_prepare_root "$root"
    # Where vsftpd chroots its unprivileged helper process: empty, owned by root, not writable
    # by the test user (Debian's /var/run/vsftpd/empty may be gone after a reboot).
    mkdir -p "$workdir/empty"
    chmod 0555 "$workdir/empty"
    # vsftpd has no TLS version setting but TLS 1.0 (ssl_tlsv1): cap it through OpenSSL.
    ftp_openssl_conf "$workdir/openssl.cnf" "$tls_max"

    cat >"$workdir/vsftpd.conf" <<CONF
# Written by interop/peers/vsftpd.sh for one test run.
# In the foreground, one listener on 127.0.0.1 only.
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$port
background=NO
# vsftpd's seccomp filter kills sessions under OpenSSL 3 in containers (syscalls it does not
# expect); the notes in /work/shared/notes/interop-peers.md.
seccomp_sandbox=NO
secure_chroot_dir=$workdir/empty
pam_service_name=$PAM_SERVICE
tcp_wrappers=NO
# No /etc/vsftpd.user_list.
userlist_enable=NO

# Local users only (the test user), chrooted into ROOT, which is writable (vsftpd refuses a
# writable chroot root unless allow_writeable_chroot).
anonymous_enable=NO
local_enable=YES
local_root=$root
chroot_local_user=YES
allow_writeable_chroot=YES
write_enable=YES
local_umask=022
# Listings show names, not uids.
hide_ids=NO
use_localtime=NO

# Passive mode only on the harness's ports, announcing 127.0.0.1. Active mode (PORT) stays
# allowed, but the server connects from its own ephemeral port, not port 20.
pasv_enable=YES
pasv_min_port=$pasv_min
pasv_max_port=$pasv_max
pasv_address=127.0.0.1
connect_from_port_20=NO

# TLS: implicit or AUTH TLS, required for login and data, with session reuse on data.
ssl_enable=YES
implicit_ssl=$implicit
rsa_cert_file=$cert
rsa_private_key_file=$key
ssl_sslv2=NO
ssl_sslv3=NO
ssl_tlsv1=NO
# Debian's default is ECDHE-RSA-AES256-GCM-SHA384 only: no TLS 1.2 handshake with an ECDSA key.
# (TLS 1.3's suites are not set by this.)
ssl_ciphers=ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384
# No client certificate asked for.
ssl_request_cert=NO
require_cert=NO
require_ssl_reuse=YES
force_local_logins_ssl=YES
force_local_data_ssl=YES
allow_anon_ssl=NO
debug_ssl=YES

# The log: every command and reply, and transfers.
vsftpd_log_file=$workdir/vsftpd.log
xferlog_enable=YES
xferlog_std_format=NO
log_ftp_protocol=YES
CONF
    chmod 0644 "$workdir/vsftpd.conf"
    # vsftpd, an inetd-style server, writes its startup errors ("500 OOPS: ...") to fd 0, which
    # is /dev/null or closed under the harness: point fd 0 at stderr, the peer's log.
    OPENSSL_CONF=$workdir/openssl.cnf exec "$BIN" "$workdir/vsftpd.conf" 0>&2
}

case "${1:-}" in
    install) install ;;
    check) check ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 install|check|run WORKDIR MODE PORT PASV_MIN PASV_MAX CERT KEY TLS_MAX ROOT" >&2; exit 2 ;;
esac
