#!/usr/bin/env bash
# Regenerates the Go code of the gRPC contract (proto/dct/v1) with pinned
# code generators. Installs what is missing, idempotently: protoc from the
# distribution's packages, protoc-gen-go and protoc-gen-go-grpc at pinned
# versions into the ignored cache directory.
#
#   scripts/gen-proto.sh           regenerate proto/dct/v1/*.pb.go
#   scripts/gen-proto.sh --check   fail when the committed files are stale
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${DCT_CACHE_DIR:-$root/.cache}/tools
proto_root="$root/proto"
protos=(dct/v1/shard.proto)

check=false
case "${1:-}" in
  "") ;;
  --check) check=true ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

mkdir -p "$bin"

# protoc from Debian, only when missing.
if ! command -v protoc >/dev/null 2>&1; then
  echo "proto: installing protoc (protobuf-compiler)"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq protobuf-compiler >/dev/null
fi

# The code generators, at their pinned versions (scripts/install-tools.sh).
"$root/scripts/install-tools.sh"

generate() { # generate OUTDIR
  (cd "$proto_root" && protoc -I . \
    --plugin=protoc-gen-go="$bin/protoc-gen-go" \
    --plugin=protoc-gen-go-grpc="$bin/protoc-gen-go-grpc" \
    --go_out="$1" --go_opt=paths=source_relative \
    --go-grpc_out="$1" --go-grpc_opt=paths=source_relative \
    "${protos[@]}")
}

if ! $check; then
  generate "$proto_root"
  echo "proto: generated $(cd "$proto_root" && ls dct/v1/*.pb.go | tr '\n' ' ')"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
generate "$tmp"
stale=()
while IFS= read -r f; do
  rel=${f#"$tmp"/}
  if ! cmp -s "$f" "$proto_root/$rel"; then
    stale+=("proto/$rel")
  fi
done < <(find "$tmp" -name '*.pb.go' | sort)
# Generated files whose .proto is gone are stale too.
while IFS= read -r f; do
  rel=${f#"$proto_root"/}
  [ -f "$tmp/$rel" ] || stale+=("proto/$rel (no longer generated)")
done < <(find "$proto_root" -name '*.pb.go' | sort)
if [ ${#stale[@]} -gt 0 ]; then
  echo "proto: generated code is stale; run 'make proto' (scripts/gen-proto.sh) and commit:" >&2
  printf '  %s\n' "${stale[@]}" >&2
  want=$(sed -n 's#^// [[:space:]]*protoc[[:space:]]*v##p' "$proto_root/dct/v1/shard.pb.go" | head -1)
  have=$(protoc --version | awk '{print $2}')
  if [ -n "$want" ] && [ "$want" != "$have" ]; then
    echo "proto: note: the committed code was made with protoc $want, this machine has $have" >&2
  fi
  exit 1
fi
echo "proto: generated code is up to date"
