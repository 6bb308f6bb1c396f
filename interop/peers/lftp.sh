#!/usr/bin/env bash
# Peer: the lftp command line client (FTPS, implicit and explicit, passive and active mode).
#
#   bash lftp.sh install   # apt-get install lftp, only when lftp is missing
#   bash lftp.sh check     # exit 0 when `lftp` runs
#
# Debian's curl 7.88 hangs on active-mode FTPS (curl #10666): the active-mode interop tests use
# lftp, which also mirrors whole folder trees (`mirror -R`).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../apt.sh"

BIN=lftp
PKGS=(lftp)

find_bin() { command -v "$BIN" 2>/dev/null || { [ -x "/usr/bin/$BIN" ] && echo "/usr/bin/$BIN"; }; }

check() {
    local bin
    bin=$(find_bin) || return 1
    "$bin" --version >/dev/null 2>&1
}

install() {
    if check; then
        echo "lftp: already installed ($(lftp --version | head -n1))"
        return 0
    fi
    apt_install lftp "${PKGS[@]}"
    check
}

case "${1:-}" in
    install) install ;;
    check) check ;;
    *) echo "usage: $0 install|check" >&2; exit 2 ;;
esac
