#!/usr/bin/env bash
# Builds the pinned Hyperledger Fabric 2.5.0 tools (peer, orderer, configtxgen,
# cryptogen, osnadmin, configtxlator) from the Go module proxy into an ignored
# cache directory,
# and copies Fabric's own sample core.yaml/orderer.yaml beside them as the base
# configuration that test-network overlays. Idempotent: skipped when the cache
# already holds binaries built from the pinned version.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
dest=${DCT_FABRIC_DIR:-$root/.cache/fabric}
mod=github.com/hyperledger/fabric
# v2.5.0 release commit; the proxy refuses the v2.x tags themselves.
version=$(awk -v m="$mod" '$1 == m && $2 ~ /^v/ {print $2; exit}' "$root/tools/fabric/go.mod")
[ -n "$version" ] || version=$(grep -Eo "$mod v[^ ]+" "$root/tools/fabric/go.mod" | head -1 | awk '{print $2}')
tools="peer orderer configtxgen cryptogen osnadmin configtxlator"
stamp="$dest/.version"

have_all() {
  for t in $tools; do [ -x "$dest/bin/$t" ] || return 1; done
  [ -f "$dest/config/core.yaml" ] && [ -f "$dest/config/orderer.yaml" ] || return 1
  [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]
}

if have_all; then
  echo "fabric: $version already built in $dest/bin"
  exit 0
fi
# A cache of this version that lacks tools added since (configtxlator): build
# only those.
if [ "$(cat "$stamp" 2>/dev/null)" = "$version" ] && [ -f "$dest/config/core.yaml" ]; then
  missing=""
  for t in $tools; do [ -x "$dest/bin/$t" ] || missing="$missing $t"; done
  tools=${missing# }
fi

echo "fabric: building $tools at $version (about a minute on 2 cores)"
mkdir -p "$dest/bin" "$dest/config"
cd "$root/tools/fabric"
pkgs=""
for t in $tools; do pkgs="$pkgs $mod/cmd/$t"; done
start=$(date +%s)
ldflags="-X $mod/common/metadata.Version=2.5.0 -X $mod/common/metadata.CommitSHA=${version##*-}"
# shellcheck disable=SC2086
CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$dest/bin/" $pkgs
srcdir=$(GOFLAGS=-mod=mod go list -m -f '{{.Dir}}' "$mod")
install -m 0644 "$srcdir/sampleconfig/core.yaml" "$dest/config/core.yaml"
install -m 0644 "$srcdir/sampleconfig/orderer.yaml" "$dest/config/orderer.yaml"
echo "$version" > "$stamp"
echo "fabric: built in $(( $(date +%s) - start ))s -> $dest/bin"
"$dest/bin/peer" version | sed -n '1,3p'
