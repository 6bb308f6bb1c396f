#!/usr/bin/env bash
# Peer: the wrk HTTP load generator, for the eShare benchmark against nginx.
#
#   bash wrk.sh install   # apt-get install wrk, only when wrk is missing
#   bash wrk.sh check     # exit 0 when `wrk` is installed
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../apt.sh"

BIN=wrk
PKGS=(wrk)

find_bin() { command -v "$BIN" 2>/dev/null || { [ -x "/usr/bin/$BIN" ] && echo "/usr/bin/$BIN"; }; }

check() { find_bin >/dev/null; }

install() {
    if check; then
        echo "wrk: already installed ($(find_bin))"
        return 0
    fi
    apt_install wrk "${PKGS[@]}"
    check
}

case "${1:-}" in
    install) install ;;
    check) check ;;
    *) echo "usage: $0 install|check" >&2; exit 2 ;;
esac
