#!/usr/bin/env bash
# One idempotent setup path for a fresh machine and for every later run.
# Installs: Debian packages (lab + clients), the Python environment (.venv), and the
# Pulumi engine (found on PATH or built from Go modules). Heavy artifacts are cached
# outside the clone in $CUTOVER_CACHE, keyed by their inputs, so a second run or a CI
# run on the same machine takes seconds.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CUTOVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/province-cutover}
UV_VERSION=0.13.8
PYTHON=${CUTOVER_PYTHON:-python3}
mkdir -p "$CACHE"

say() { printf '[setup] %s\n' "$*" >&2; }

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# --- Debian packages -------------------------------------------------------------
APT_PACKAGES=(
    # the lab: LXC system containers on a host-only bridge
    lxc lxc-templates debootstrap distro-info rsync iproute2 bridge-utils
    # clients used by verification and tests
    bind9-dnsutils openssh-client swaks curl
    # the browser that renders reports in tests
    chromium
    # the portal redirect benchmark (bench/portal_redirects.py) and the map's nginx -t test
    nginx wrk
    # the fault tests' network partitions (nftables rules in a lab host's namespace)
    nftables
)
install_apt() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        say "installing Debian packages: ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
        # nginx's package starts its own server on :80 (no systemd here): only its binary
        # is wanted (the benchmark starts its own instance on 127.0.0.1)
        if [[ " ${missing[*]} " == *" nginx "* && -x /etc/init.d/nginx ]]; then
            /etc/init.d/nginx stop >/dev/null 2>&1 || true
        fi
    fi
}

# --- Python environment ----------------------------------------------------------
install_python() {
    local uv_dir="$CACHE/uv-$UV_VERSION"
    if [[ ! -x "$uv_dir/bin/uv" ]]; then
        say "installing uv $UV_VERSION into $uv_dir"
        rm -rf "$uv_dir"
        "$PYTHON" -m venv "$uv_dir"
        "$uv_dir/bin/pip" install -q "uv==$UV_VERSION"
    fi
    local uv="$uv_dir/bin/uv"
    local want
    want=$(hash_of "$ROOT/requirements.lock" "$ROOT/pyproject.toml" "$ROOT/scripts/setup.sh")
    local stamp="$ROOT/.venv/.setup-stamp"
    if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -x "$ROOT/.venv/bin/cutover" ]]; then
        return
    fi
    say "creating the Python environment in .venv"
    # --seed: Pulumi's Python language host runs `python -m pip list` in this environment.
    "$uv" venv -q --seed --allow-existing --python "$PYTHON" "$ROOT/.venv"
    UV_CACHE_DIR="$CACHE/uv-cache" "$uv" pip sync -q --python "$ROOT/.venv/bin/python" "$ROOT/requirements.lock"
    UV_CACHE_DIR="$CACHE/uv-cache" "$uv" pip install -q --no-deps --python "$ROOT/.venv/bin/python" -e "$ROOT"
    echo "$want" >"$stamp"
}

# --- Pulumi engine ---------------------------------------------------------------
install_pulumi() {
    if [[ -x "$ROOT/scripts/pulumi-engine.sh" ]]; then
        CUTOVER_CACHE="$CACHE" "$ROOT/scripts/pulumi-engine.sh"
    fi
}

# --- Lab template ------------------------------------------------------------------
# The Debian 12 rootfs every lab host is cloned from; rebuilt only when its inputs change.
install_lab_template() {
    "$ROOT/scripts/lab-template.sh" --gc >/dev/null
}

install_apt
install_python
install_pulumi
install_lab_template
say "ready"
