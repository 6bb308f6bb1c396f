# Sourced by the peer scripts in peers/: Debian package installation, as root, with
# `apt-get update` run at most once per `bash interop/setup.sh` (REDY_APT_UPDATED).

# Exits with a message naming the packages when not root.
apt_require_root() {
    local name=$1
    shift
    if [ "$(id -u)" -ne 0 ]; then
        echo "$name: missing, and installing it needs root: run 'apt-get install -y $*' as root" >&2
        exit 1
    fi
}

apt_update_once() {
    if [ -z "${REDY_APT_UPDATED:-}" ]; then
        apt-get update
        export REDY_APT_UPDATED=1
    fi
}

# apt_install NAME PKG...: installs PKG... for the peer NAME.
apt_install() {
    local name=$1
    shift
    apt_require_root "$name" "$@"
    apt_update_once
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

# apt_unpack NAME DEST PKG...: for the peer NAME, downloads the Debian packages PKG...
# (`apt-get download`, the candidate versions) and unpacks them into DEST with `dpkg-deb -x`
# instead of installing them, then apt-installs the shared libraries they depend on (the `lib*`
# packages of their Depends). For packages that cannot be installed side by side, such as FTP
# servers (each `Conflicts: ftp-server`). DEST is replaced as a whole, and holds VERSIONS, the
# unpacked packages' names and versions. Their maintainer scripts do not run: no users, services
# or /etc files are created.
apt_unpack() {
    local name=$1 dest=$2
    shift 2
    apt_require_root "$name" "$@"
    apt_update_once
    local tmp deb
    tmp=$(mktemp -d)
    # apt downloads as its sandbox user _apt, which must be able to write there (else it warns
    # and downloads as root).
    chmod 0755 "$tmp"
    if getent passwd _apt >/dev/null; then
        chown _apt "$tmp"
    fi
    (cd "$tmp" && apt-get download "$@")
    rm -rf "$dest.new"
    mkdir -p "$dest.new"
    local libs=()
    for deb in "$tmp"/*.deb; do
        dpkg-deb -x "$deb" "$dest.new"
        dpkg-deb --show --showformat='${Package} ${Version}\n' "$deb" >>"$dest.new/VERSIONS"
        # "libfoo1 (>= 1.2), libbar | libbaz, ucf" -> libfoo1 libbar (first alternatives only).
        mapfile -t -O "${#libs[@]}" libs < <(dpkg-deb -f "$deb" Depends | tr ',' '\n' |
            sed -e 's/|.*//' -e 's/(.*)//' -e 's/:any//' -e 's/[[:space:]]//g' | grep '^lib' || true)
    done
    rm -rf "$tmp"
    # Only the libraries not installed yet, and --no-upgrade: naming an installed package to
    # apt-get install upgrades it, which is not ours to do on a shared machine. (A missing
    # library may still need a newer version of one it depends on.)
    local lib missing=()
    for lib in $(printf '%s\n' "${libs[@]}" | sort -u); do
        if ! dpkg-query -W -f='${Status}' "$lib" 2>/dev/null | grep -q 'ok installed'; then
            missing+=("$lib")
        fi
    done
    if [ ${#missing[@]} -gt 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends --no-upgrade \
            "${missing[@]}"
    fi
    rm -rf "$dest"
    mv "$dest.new" "$dest"
}
