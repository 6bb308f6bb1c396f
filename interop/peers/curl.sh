#!/usr/bin/env bash
# Peer: the curl command line client (HTTPS here; FTPS and SMTPS later).
#
#   bash curl.sh install   # apt-get install curl (and ca-certificates), only when curl is missing
#   bash curl.sh check     # exit 0 when `curl` runs
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../apt.sh"

BIN=curl
# ca-certificates: without it curl has no default CA bundle and fails with 77 instead of 60.
PKGS=(curl ca-certificates)

find_bin() { command -v "$BIN" 2>/dev/null || { [ -x "/usr/bin/$BIN" ] && echo "/usr/bin/$BIN"; }; }

check() {
    local bin
    bin=$(find_bin) || return 1
    "$bin" --version >/dev/null 2>&1
}

install() {
    if check; then
        echo "curl: already installed ($(curl --version | head -n1))"
        return 0
    fi
    apt_install curl "${PKGS[@]}"
    check
}

case "${1:-}" in
    install) install ;;
    check) check ;;
    *) echo "usage: $0 install|check" >&2; exit 2 ;;
esac
