#!/usr/bin/env bash
# Installs the Go tools the project uses, at pinned versions, into the ignored
# cache directory. Idempotent: a tool already at its pinned version is kept.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${DCT_CACHE_DIR:-$root/.cache}/tools
mkdir -p "$bin"

# name module@version
tools=(
  "gotestsum gotest.tools/gotestsum@v1.12.3"
  "protoc-gen-go google.golang.org/protobuf/cmd/protoc-gen-go@v1.36.6"
  "protoc-gen-go-grpc google.golang.org/grpc/cmd/protoc-gen-go-grpc@v1.5.1"
)

for entry in "${tools[@]}"; do
  name=${entry%% *}
  pkg=${entry#* }
  stamp="$bin/.$name.version"
  if [ -x "$bin/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$pkg" ]; then
    continue
  fi
  echo "tools: installing $pkg"
  GOBIN="$bin" CGO_ENABLED=0 go install "$pkg"
  echo "$pkg" > "$stamp"
done
