#!/usr/bin/env bash
# Peer: aiosmtpd (Python) as an SMTP submission server on 127.0.0.1 that records what it receives.
#
#   bash aiosmtpd.sh install       # Debian's python3-aiosmtpd, else `python3 -m pip install aiosmtpd`,
#                                  # only when no python3 here can import aiosmtpd
#   bash aiosmtpd.sh check         # exit 0 when a python3 can import aiosmtpd
#   bash aiosmtpd.sh python        # print that python3's path
#   bash aiosmtpd.sh run ARGS...   # exec that python3 on aiosmtpd_server.py ARGS... (see its --help)
#
# `python3` on PATH may not be Debian's /usr/bin/python3 (pyenv's, here), and Debian's package is
# importable only by Debian's python3: the interpreter used is the first of `python3` on PATH and
# /usr/bin/python3 that can import aiosmtpd. `run` execs it, so the spawned PID is the server's.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PKG=python3-aiosmtpd

find_python() {
    local candidate
    for candidate in "$(command -v python3 2>/dev/null || true)" /usr/bin/python3; do
        [ -n "$candidate" ] && [ -x "$candidate" ] || continue
        if "$candidate" -c 'import aiosmtpd.smtp' >/dev/null 2>&1; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

check() {
    find_python >/dev/null
}

version() {
    local py
    py=$(find_python) && "$py" -c 'import aiosmtpd, sys; print(f"aiosmtpd {aiosmtpd.__version__} for {sys.executable}")'
}

install() {
    if check; then
        echo "aiosmtpd: already installed ($(version))"
        return 0
    fi
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        if [ -z "${REDY_APT_UPDATED:-}" ]; then
            apt-get update
        fi
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$PKG" ||
            echo "aiosmtpd: apt-get install $PKG failed; trying pip" >&2
    fi
    if ! check; then
        # No python3 importing Debian's package (e.g. no /usr/bin/python3, or no root): PyPI, for
        # the python3 on PATH.
        python3 -m pip install aiosmtpd
    fi
    check && echo "aiosmtpd: installed ($(version))"
}

run() {
    local py
    py=$(find_python) || { echo "aiosmtpd: not installed (run bash interop/setup.sh)" >&2; exit 1; }
    exec "$py" "$here/aiosmtpd_server.py" "$@"
}

case "${1:-}" in
    install) install ;;
    check) check ;;
    python) find_python ;;
    run) shift; run "$@" ;;
    *) echo "usage: $0 install|check|python|run ARGS..." >&2; exit 2 ;;
esac
