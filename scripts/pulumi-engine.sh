#!/usr/bin/env bash
# Provide the Pulumi engine in .tools/bin:
#  - a `pulumi` on PATH at least as new as the pinned release is used as it is (a real
#    site's official CLI brings its own language hosts);
#  - otherwise `pulumi` is built from its Go modules at the pinned release, with the
#    wrapper module in tools/pulumi/engine (go.mod/go.sum committed: reproducible), and
#    the Python language host from tools/pulumi/langhost. The build goes to a cache
#    outside the clone keyed by those inputs, so it happens once per machine.
# Always: `pulumi-resource-pulumi-python`, which Python dynamic providers need, runs
# `python -m pulumi.dynamic` with the project's interpreter.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CUTOVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/province-cutover}
VERSION=$(cat "$ROOT/tools/pulumi/VERSION")
BIN="$ROOT/.tools/bin"
VERSION_VAR=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version

say() { printf '[pulumi] %s\n' "$*" >&2; }

version_ok() { # $1: a pulumi binary; true when its version >= the pinned one
    local have
    have=$("$1" version 2>/dev/null | sed -n 's/^v\{0,1\}\([0-9][0-9.]*\).*/\1/p' | head -1)
    [[ -n "$have" ]] && [[ "$(printf '%s\n%s\n' "$VERSION" "$have" | sort -V | head -1)" == "$VERSION" ]]
}

link_into_bin() { # $1: source file, $2: name in .tools/bin. Hard link when possible:
    # the CLI looks for its language hosts beside the resolved path of its own binary.
    ln -f "$1" "$BIN/$2" 2>/dev/null || cp -f "$1" "$BIN/$2"
}

build_engine() { # prints the folder holding the built binaries
    local key dir tmp
    key=$( (cat "$ROOT"/tools/pulumi/VERSION "$ROOT"/tools/pulumi/*/go.mod "$ROOT"/tools/pulumi/*/go.sum
        go env GOVERSION GOARCH) | sha256sum | cut -c1-16)
    dir="$CACHE/pulumi-$VERSION-$key"
    if [[ -x "$dir/pulumi" && -x "$dir/pulumi-language-python" ]]; then
        echo "$dir"
        return
    fi
    command -v go >/dev/null || { say "Go is needed to build the Pulumi engine"; exit 1; }
    say "building pulumi v$VERSION from its Go modules (once per machine; a few minutes)"
    tmp=$(mktemp -d "$CACHE/pulumi-build.XXXXXX")
    export GOTOOLCHAIN=local GOFLAGS=-mod=readonly
    (cd "$ROOT/tools/pulumi/engine" && go build -trimpath -ldflags "-s -w -X $VERSION_VAR=v$VERSION" \
        -o "$tmp/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi)
    # The nested module of the current Python host is not served by the module proxy
    # here; the last host that lived inside sdk/v3 (v3.79.0) speaks the same protocol.
    local host_version
    host_version=$(cd "$ROOT/tools/pulumi/langhost" && go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)
    (cd "$ROOT/tools/pulumi/langhost" && go build -trimpath -ldflags "-s -w -X $VERSION_VAR=$host_version" \
        -o "$tmp/pulumi-language-python" github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python)
    local sdk
    sdk=$(cd "$ROOT/tools/pulumi/engine" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)
    install -m 755 "$sdk/python/cmd/pulumi-language-python-exec" "$tmp/"
    rm -rf "$dir"
    mv "$tmp" "$dir"
    echo "$dir"
}

mkdir -p "$BIN" "$CACHE"
system=""
while IFS= read -r candidate; do
    [[ "$(cd "$(dirname "$candidate")" && pwd)" == "$BIN" ]] && continue
    if version_ok "$candidate"; then system=$candidate; break; fi
done < <(type -ap pulumi || true)

if [[ -n "$system" ]]; then
    real=$(readlink -f "$system")
    if [[ "$(readlink -f "$BIN/pulumi" 2>/dev/null)" != "$real" ]]; then
        say "using $system ($("$system" version))"
        rm -f "$BIN/pulumi" "$BIN/pulumi-language-python" "$BIN/pulumi-language-python-exec"
        ln -s "$real" "$BIN/pulumi"
    fi
else
    dir=$(build_engine)
    if ! cmp -s "$dir/pulumi" "$BIN/pulumi" 2>/dev/null; then
        link_into_bin "$dir/pulumi" pulumi
        link_into_bin "$dir/pulumi-language-python-exec" pulumi-language-python-exec
    fi
    # The old host takes the interpreter from PULUMI_PYTHON_CMD, not from Pulumi.yaml's
    # virtualenv option: point it at the project's environment unless told otherwise.
    cat >"$BIN/pulumi-language-python" <<SH
#!/bin/sh
export PULUMI_PYTHON_CMD="\${PULUMI_PYTHON_CMD:-$ROOT/.venv/bin/python}"
exec "$dir/pulumi-language-python" "\$@"
SH
    chmod 755 "$BIN/pulumi-language-python"
fi

cat >"$BIN/pulumi-resource-pulumi-python" <<SH
#!/bin/sh
exec "$ROOT/.venv/bin/python" -u -m pulumi.dynamic "\$@"
SH
chmod 755 "$BIN/pulumi-resource-pulumi-python"
version_ok "$BIN/pulumi" || { say "$BIN/pulumi is not v$VERSION or newer"; exit 1; }
