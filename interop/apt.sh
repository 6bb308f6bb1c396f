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
