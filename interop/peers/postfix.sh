#!/usr/bin/env bash
# Peer: Postfix as an SMTP submission server on 127.0.0.1, in the foreground, as a child of the test.
#
#   bash postfix.sh install    # apt-get install postfix libsasl2-modules sasl2-bin, only when missing
#   bash postfix.sh check      # exit 0 when postfix, its master daemon and saslpasswd2 are there
#   bash postfix.sh run WORKDIR SMTPS_PORT SUBMISSION_PORT CERT KEY USER PASSWORD
#
# `run` writes a whole Postfix instance into WORKDIR (etc/ with main.cf, master.cf, sasl/smtpd.conf
# and a Cyrus sasldb holding USER/PASSWORD; its own queue/ and data/), runs `postfix check`, then
# execs the master daemon in the foreground (`master -s`: no daemonizing, logging to stdout), so
# the PID of the spawned process is master's. master becomes the leader of its own process group;
# on SIGTERM it sends SIGTERM to that group (every smtpd, qmgr, ...) and exits.
#
#   127.0.0.1:SMTPS_PORT        implicit TLS (smtpd_tls_wrappermode=yes), "smtps" (465)
#   127.0.0.1:SUBMISSION_PORT   STARTTLS required (smtpd_tls_security_level=encrypt), "submission" (587)
#
# Both: TLS 1.2 and 1.3 only, AUTH PLAIN and LOGIN (Cyrus sasldb) only after TLS, and only an
# authenticated client may send (to any recipient). Every message goes into the one Maildir
# WORKDIR/Maildir/ (new/ holds delivered files), written by the virtual(8) agent as `nobody`.
# Postfix stores LF line endings and prepends trace headers (Return-Path, Delivered-To, Received).
#
# Postfix's unprivileged processes (user postfix, and nobody for delivery) must be able to reach
# WORKDIR: `run` makes WORKDIR itself 0755; its parent directories must be searchable by others.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../apt.sh"

PKGS=(postfix libsasl2-modules sasl2-bin)
POSTFIX=/usr/sbin/postfix
MASTER=/usr/lib/postfix/sbin/master
SASLPASSWD=/usr/sbin/saslpasswd2
# The user virtual(8) delivers as (must not be root, and at least virtual_minimum_uid = 100).
MAILDIR_USER=nobody

check() {
    [ -x "$POSTFIX" ] && [ -x "$MASTER" ] && [ -x "$SASLPASSWD" ] || return 1
    # The Cyrus plugins smtpd needs: sasldb (auxprop) and PLAIN/LOGIN (libsasl2-modules).
    ls /usr/lib/*/sasl2/libsasldb.so* >/dev/null 2>&1 || return 1
    ls /usr/lib/*/sasl2/liblogin.so* >/dev/null 2>&1 || return 1
    getent passwd postfix >/dev/null
}

install() {
    if check; then
        echo "postfix: already installed (postfix $(/usr/sbin/postconf -d -h mail_version 2>/dev/null || echo '?'))"
        return 0
    fi
    apt_require_root postfix "${PKGS[@]}"
    # No /etc/postfix/main.cf and no service: tests run their own instances.
    echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
    apt_install postfix "${PKGS[@]}"
    # The package starts a postfix service unless policy-rc.d forbids it (Docker images do).
    if [ ! -x /usr/sbin/policy-rc.d ]; then
        invoke-rc.d postfix stop >/dev/null 2>&1 || true
    fi
    check
}

run() {
    if [ $# -ne 7 ]; then
        echo "usage: $0 run WORKDIR SMTPS_PORT SUBMISSION_PORT CERT KEY USER PASSWORD" >&2
        exit 2
    fi
    local workdir smtps_port submission_port cert key user password
    workdir=$(cd "$1" && pwd)
    smtps_port=$2
    submission_port=$3
    cert=$4
    key=$5
    user=$6
    password=$7
    check || { echo "postfix: not installed (run bash interop/setup.sh)" >&2; exit 1; }
    if [ "$(id -u)" -ne 0 ]; then
        echo "postfix: run needs root (master starts as root; the files are chowned to postfix and $MAILDIR_USER)" >&2
        exit 1
    fi

    local uid gid
    uid=$(id -u "$MAILDIR_USER")
    gid=$(id -g "$MAILDIR_USER")
    chmod 0755 "$workdir"
    local etc=$workdir/etc
    mkdir -p "$etc/sasl" "$workdir/queue" "$workdir/data" "$workdir/Maildir"/{new,cur,tmp}
    chown -R "$uid:$gid" "$workdir/Maildir"
    chown postfix:postfix "$workdir/data"

    # The SASL realm: a client logging in as USER (no @realm) is looked up as USER@REALM; Cyrus
    # takes "name@domain" as name in realm domain, so that is how such a USER is stored.
    local realm=localhost sasl_name=$user
    if [[ $user == *@* ]]; then
        sasl_name=${user%@*}
        realm=${user##*@}
    fi
    cat >"$etc/sasl/smtpd.conf" <<CONF
pwcheck_method: auxprop
auxprop_plugin: sasldb
mech_list: PLAIN LOGIN
sasldb_path: $etc/sasldb2
CONF
    rm -f "$etc/sasldb2"
    printf '%s' "$password" | "$SASLPASSWD" -f "$etc/sasldb2" -p -c -u "$realm" "$sasl_name"
    # smtpd reads it as user postfix.
    chown root:postfix "$etc/sasldb2"
    chmod 0640 "$etc/sasldb2"

    cat >"$etc/main.cf" <<CONF
# Written by interop/peers/postfix.sh for one test run.
compatibility_level = 3.6
queue_directory = $workdir/queue
data_directory = $workdir/data
mail_owner = postfix
setgid_group = postdrop
myhostname = localhost.localdomain
mydomain = localdomain
myorigin = \$myhostname
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.1/32
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
append_dot_mydomain = no
biff = no
maillog_file = /dev/stdout
smtputf8_enable = yes
message_size_limit = 67108864
mailbox_size_limit = 0
virtual_mailbox_limit = 0
smtpd_recipient_limit = 1000

# No DNS: every recipient, in any domain, goes to virtual(8) and into the one Maildir.
smtp_dns_support_level = disabled
default_transport = virtual
virtual_mailbox_base = $workdir
virtual_mailbox_maps = static:Maildir/
virtual_uid_maps = static:$uid
virtual_gid_maps = static:$gid

# Fast, for benchmarks: no delay before accepting mail, no sleep after an error.
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtpd_soft_error_limit = 100
smtpd_hard_error_limit = 200
qmgr_message_active_limit = 20000

# TLS: the test PKI, TLS 1.2 and 1.3 only.
smtpd_tls_chain_files = $key, $cert
smtpd_tls_protocols = >=TLSv1.2
smtpd_tls_mandatory_protocols = >=TLSv1.2
smtpd_tls_loglevel = 1
smtpd_tls_received_header = yes

# AUTH: Cyrus SASL, configured in $etc/sasl/smtpd.conf (Debian reads CONFIG_DIR/sasl/).
smtpd_sasl_type = cyrus
smtpd_sasl_path = smtpd
smtpd_sasl_local_domain = localhost
smtpd_sasl_auth_enable = yes
smtpd_sasl_security_options = noanonymous
smtpd_sasl_tls_security_options = noanonymous
smtpd_tls_auth_only = yes
# "(Authenticated sender: USER@localhost)" in the Received header.
smtpd_sasl_authenticated_header = yes
smtpd_relay_restrictions = permit_sasl_authenticated, reject
smtpd_recipient_restrictions = permit_sasl_authenticated, reject
CONF

    # Nothing chrooted: every path above is used as it is.
    cat >"$etc/master.cf" <<CONF
# Written by interop/peers/postfix.sh for one test run.
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$smtps_port inet n - n - - smtpd
  -o syslog_name=postfix/smtps
  -o smtpd_tls_wrappermode=yes
  -o smtpd_tls_security_level=encrypt
127.0.0.1:$submission_port inet n - n - - smtpd
  -o syslog_name=postfix/submission
  -o smtpd_tls_security_level=encrypt
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CONF

    # Postfix's own users must reach the work directory (see the header).
    if ! runuser -u postfix -- test -r "$etc/sasldb2"; then
        echo "postfix: user postfix cannot read $etc/sasldb2: make its parent directories searchable (chmod o+x)" >&2
        exit 1
    fi

    # Postfix waits (in 0.3 s steps, ~2 s) before reading a configuration file modified in the last
    # seconds, to avoid half-written files: date ours in the past.
    touch -d '1 minute ago' "$etc/main.cf" "$etc/master.cf" "$etc/sasl/smtpd.conf"

    # Creates the queue directories with their owners and checks the configuration.
    "$POSTFIX" -c "$etc" check
    exec "$MASTER" -c "$etc" -s
}

case "${1:-}" in
    install) install ;;
    check) check ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 install|check|run WORKDIR SMTPS_PORT SUBMISSION_PORT CERT KEY USER PASSWORD" >&2; exit 2 ;;
esac
