#!/usr/bin/env bash
# Peer: Debian's Chromium, run headless by the eShare status-page test (screenshot).
#
#   bash chromium.sh install   # apt-get install chromium fonts-dejavu-core, only when chromium is missing
#   bash chromium.sh check     # exit 0 when `chromium` is installed
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../apt.sh"

BIN=chromium
PKGS=(chromium fonts-dejavu-core)

find_bin() { command -v "$BIN" 2>/dev/null || { [ -x "/usr/bin/$BIN" ] && echo "/usr/bin/$BIN"; }; }

check() { find_bin >/dev/null; }

install() {
    if check; then
        echo "chromium: already installed ($(find_bin))"
        return 0
    fi
    apt_install chromium "${PKGS[@]}"
    check
}

case "${1:-}" in
    install) install ;;
    check) check ;;
    *) echo "usage: $0 install|check" >&2; exit 2 ;;
esac
