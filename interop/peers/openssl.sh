#!/usr/bin/env bash
# Peer: the OpenSSL command line (s_server, s_client, pkcs12, req, x509).
#
#   bash openssl.sh install   # apt-get install openssl, only when the binary is missing
#   bash openssl.sh check     # exit 0 when `openssl` runs
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../apt.sh"

BIN=openssl
PKG=openssl

find_bin() { command -v "$BIN" 2>/dev/null || { [ -x "/usr/bin/$BIN" ] && echo "/usr/bin/$BIN"; }; }

check() {
    local bin
    bin=$(find_bin) || return 1
    "$bin" version >/dev/null 2>&1
}

install() {
    if check; then
        echo "openssl: already installed ($(openssl version))"
        return 0
    fi
    apt_install openssl "$PKG"
    check
}

case "${1:-}" in
    install) install ;;
    check) check ;;
    *) echo "usage: $0 install|check" >&2; exit 2 ;;
esac
