#!/usr/bin/env bash
# Peer: nginx as an HTTPS server on 127.0.0.1, in the foreground, as a child of the test.
#
#   bash nginx.sh install                     # apt-get install nginx-light, only when nginx is missing
#   bash nginx.sh check                       # exit 0 when `nginx -v` runs
#   bash nginx.sh run WORKDIR PORT CERT KEY   # write WORKDIR/nginx.conf, then exec nginx
#
# `run` execs nginx (no master/worker split, `daemon off`), so the PID of the spawned process is
# nginx's own and killing it stops everything. Everything nginx writes (pid, logs, temp files)
# stays in WORKDIR. `GET /` answers "hello from nginx\n"; `GET /big` serves WORKDIR/big.bin;
# `POST /echo` answers the request body (the echo module, libnginx-mod-http-echo, up to 1 MiB);
# `PUT`/`GET`/`DELETE /dav/NAME` store and serve files in WORKDIR/dav (up to 256 MiB).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../apt.sh"

BIN=nginx
# Debian 12 still ships the small nginx-light flavour (gone in Debian 13, where it is nginx).
PKG=nginx-light

find_bin() {
    command -v "$BIN" 2>/dev/null && return 0
    local p
    for p in /usr/sbin/nginx /sbin/nginx; do
        [ -x "$p" ] && { echo "$p"; return 0; }
    done
    return 1
}

ECHO_MODULE=/usr/lib/nginx/modules/ngx_http_echo_module.so

check() {
    local bin
    bin=$(find_bin) || return 1
    "$bin" -v >/dev/null 2>&1 && [ -f "$ECHO_MODULE" ]
}

install() {
    if check; then
        echo "nginx: already installed ($("$(find_bin)" -v 2>&1))"
        return 0
    fi
    apt_require_root nginx "$PKG"
    apt_update_once
    local pkg=$PKG
    if ! apt-cache show "$pkg" >/dev/null 2>&1; then
        pkg=nginx
    fi
    apt_install nginx "$pkg" libnginx-mod-http-echo
    # The package starts the nginx service (port 80) unless policy-rc.d forbids it, as it does in
    # Docker images. Tests run their own instances: stop the one the package may have started.
    if [ ! -x /usr/sbin/policy-rc.d ]; then
        invoke-rc.d nginx stop >/dev/null 2>&1 || true
    fi
    check
}

run() {
    if [ $# -ne 4 ]; then
        echo "usage: $0 run WORKDIR PORT CERT KEY" >&2
        exit 2
    fi
    local workdir port cert key bin
    workdir=$(cd "$1" && pwd)
    port=$2
    cert=$3
    key=$4
    bin=$(find_bin) || { echo "nginx: not installed (run bash interop/setup.sh)" >&2; exit 1; }
    mkdir -p "$workdir/tmp"
    mkdir -p "$workdir/dav"
    cat >"$workdir/nginx.conf" <<CONF
# Written by interop/peers/nginx.sh for one test run.
load_module "$ECHO_MODULE";
daemon off;
master_process off;
worker_processes 1;
pid "$workdir/nginx.pid";
error_log "$workdir/error.log" info;

events {
    worker_connections ${NGINX_WORKER_CONNECTIONS:-64};
}
worker_rlimit_nofile $(( ${NGINX_WORKER_CONNECTIONS:-64} * 2 + 64 ));

http {
    access_log ${NGINX_ACCESS_LOG:-"$workdir/access.log"};
    client_body_temp_path "$workdir/tmp/body";
    proxy_temp_path "$workdir/tmp/proxy";
    fastcgi_temp_path "$workdir/tmp/fastcgi";
    uwsgi_temp_path "$workdir/tmp/uwsgi";
    scgi_temp_path "$workdir/tmp/scgi";
    default_type text/plain;

    server {
        listen 127.0.0.1:$port ssl;
        server_name localhost;
        ssl_certificate "$cert";
        ssl_certificate_key "$key";
        ssl_protocols TLSv1.2 TLSv1.3;

        location / {
            return 200 "hello from nginx\n";
        }

        location = /echo {
            client_max_body_size 1m;
            client_body_buffer_size 1m;
            echo_read_request_body;
            echo_request_body;
        }

        location /dav/ {
            root "$workdir";
            dav_methods PUT DELETE;
            client_max_body_size 256m;
            default_type application/octet-stream;
        }

        location = /big {
            default_type application/octet-stream;
            alias "$workdir/big.bin";
        }
    }
}
CONF
    # -e: the error log nginx opens before it has read the configuration.
    exec "$bin" -p "$workdir" -e "$workdir/error.log" -c "$workdir/nginx.conf"
}

case "${1:-}" in
    install) install ;;
    check) check ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 install|check|run WORKDIR PORT CERT KEY" >&2; exit 2 ;;
esac
