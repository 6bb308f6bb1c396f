# Sourced by the FTP server peer scripts (peers/vsftpd.sh, peers/proftpd.sh, peers/pureftpd.sh):
# the test user they log in, where unpacked servers live, and the TLS version cap.
#
# The test user is a local system account, because vsftpd and proftpd log in system users:
#
#   user     redyftp
#   password redy-interop-ftp
#   home     /      (vsftpd refuses a login whose home directory is missing; the FTP root is set
#                    per run with local_root / DefaultRoot / the puredb home instead)
#   shell    /usr/sbin/nologin (no shell logins; the servers are told not to check the shell)
#
# Its password is published here: it is a throw-away account for tests on a test machine.
# pure-ftpd logs in its own (puredb) user of the same name and password, mapped to this account's
# uid and gid, so every server writes the uploaded files as redyftp.

FTP_USER=redyftp
FTP_PASSWORD=redy-interop-ftp
FTP_SHELL=/usr/sbin/nologin
# Where apt_unpack puts the servers that cannot be apt-installed next to vsftpd (git-ignored).
FTP_PKG_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/.pkg

# Exit 0 when the test user exists as described above.
ftp_user_check() {
    local entry
    entry=$(getent passwd "$FTP_USER") || return 1
    # name:x:uid:gid:gecos:home:shell
    [ "$(cut -d: -f6 <<<"$entry")" = / ] && [ "$(cut -d: -f7 <<<"$entry")" = "$FTP_SHELL" ]
}

# Creates the test user, or resets its home, shell and password (idempotent; needs root).
ftp_user_install() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "ftp: creating the test user $FTP_USER needs root" >&2
        return 1
    fi
    if ! getent passwd "$FTP_USER" >/dev/null; then
        # --no-create-home: its home is /. A user group of its own.
        useradd --no-create-home --home-dir / --shell "$FTP_SHELL" --user-group \
            --comment "redy interop FTP test user" "$FTP_USER"
    fi
    if ! ftp_user_check; then
        usermod --home / --shell "$FTP_SHELL" "$FTP_USER"
    fi
    # SHA-512 crypt: every crypt(3) verifies it quickly (Debian 12's default, yescrypt, works
    # for the system servers too; this keeps one hash format for all three).
    usermod --password "$(openssl passwd -6 "$FTP_PASSWORD")" "$FTP_USER"
    # Never expires, so PAM's account check passes whatever the date.
    chage --mindays 0 --maxdays -1 --expiredate -1 "$FTP_USER"
}

# ftp_prepare_root ROOT: the FTP root, writable by the test user, which the server runs as
# after login. The test (root) can still read and write everything in it.
ftp_prepare_root() {
    chown "$FTP_USER:" "$1"
    chmod 0755 "$1"
}

# ftp_openssl_conf FILE TLS_MAX: writes an OpenSSL configuration that caps the TLS version of
# every SSL_CTX the process makes at TLS_MAX (1.2 or 1.3; always at least TLS 1.2), for servers
# with no setting of their own (OpenSSL 3 reads $OPENSSL_CONF when a process first uses TLS).
ftp_openssl_conf() {
    local file=$1 max
    case "$2" in
        1.2) max=TLSv1.2 ;;
        1.3) max=TLSv1.3 ;;
        *) echo "ftp: TLS_MAX must be 1.2 or 1.3, not '$2'" >&2; return 2 ;;
    esac
    cat >"$file" <<CONF
# Written by interop/ftp.sh: TLS 1.2 to $max for the server started with OPENSSL_CONF=$file.
openssl_conf = openssl_init

[openssl_init]
ssl_conf = ssl_module

[ssl_module]
system_default = tls_versions

[tls_versions]
MinProtocol = TLSv1.2
MaxProtocol = $max
CONF
}
