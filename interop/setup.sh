#!/usr/bin/env bash
# Installs every interop peer: runs `install` of each script in interop/peers/.
#
#   bash interop/setup.sh
#
# Each script installs its Debian package only when the binary is missing. `apt-get update` runs
# at most once, here, and only when some peer is missing. Needs root for that; without root a
# missing peer is an error naming the package.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
shopt -s nullglob
peers=("$here"/peers/*.sh)
if [ ${#peers[@]} -eq 0 ]; then
    echo "no peer scripts in $here/peers" >&2
    exit 1
fi

missing=()
for script in "${peers[@]}"; do
    if ! bash "$script" check; then
        missing+=("$script")
    fi
done

if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" -eq 0 ]; then
    apt-get update
    export REDY_APT_UPDATED=1
fi

status=0
for script in "${peers[@]}"; do
    name=$(basename "$script" .sh)
    if bash "$script" install; then
        echo "ok: $name"
    else
        echo "FAILED: $name" >&2
        status=1
    fi
done
exit $status
