#!/usr/bin/env bash
# build-images.sh: the compose consortium's images, FROM scratch and built
# only from this machine's static binaries (make build, make fabric): no
# registry is reached. Each image holds its binaries, a CA certificates
# file, /etc/passwd and /etc/group naming the non-root user dct (10001),
# and the directories that user writes (/var/dct/network, the consortium
# volume; /var/dct/data, a node's own volume; /tmp), owned by it.
# Idempotent: unchanged inputs hit Docker's layer cache. Prints each
# image's size.
#   usage: build-images.sh CACHE_DIR [TAG]
set -euo pipefail
cache=${1:?usage: build-images.sh CACHE_DIR [TAG]}
tag=${2:-latest}
bin=$cache/bin
fabric=$cache/fabric/bin
fabcfg=$cache/fabric/config
builder=$cache/builder/bin
stage=$cache/images
cacerts=${DCT_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
uid=10001

[ -f "$cacerts" ] || { echo "build-images: no CA certificates file at $cacerts (set DCT_CA_CERTS)" >&2; exit 1; }

# image NAME ENTRYPOINT_JSON FILE:DEST...: stage and build dct/NAME.
image() {
	local name=$1 entry=$2 dir=$stage/$1
	shift 2
	rm -rf "$dir"
	mkdir -p "$dir/rootfs/etc/ssl/certs" "$dir/writable/var/dct/network" "$dir/writable/var/dct/data" "$dir/writable/tmp"
	chmod 1777 "$dir/writable/tmp"
	printf 'root:x:0:0:root:/:/sbin/nologin\ndct:x:%d:%d:dct:/var/dct:/sbin/nologin\n' $uid $uid >"$dir/rootfs/etc/passwd"
	printf 'root:x:0:\ndct:x:%d:\n' $uid >"$dir/rootfs/etc/group"
	cp "$cacerts" "$dir/rootfs/etc/ssl/certs/ca-certificates.crt"
	local spec src dest
	for spec in "$@"; do
		src=${spec%%:*} dest=${spec#*:}
		mkdir -p "$dir/rootfs$(dirname "$dest")"
		if [[ $src == @* ]]; then
			ln -s "${src#@}" "$dir/rootfs$dest" # a symlink to another file of the image
		else
			cp "$src" "$dir/rootfs$dest"
		fi
	done
	cat >"$dir/Dockerfile" <<DOCKERFILE
FROM scratch
COPY rootfs/ /
COPY --chown=$uid:$uid writable/ /
USER $uid:$uid
WORKDIR /var/dct
ENV PATH=/usr/local/bin
ENTRYPOINT $entry
DOCKERFILE
	local out
	out=$(docker build -q -t "dct/$name:$tag" "$dir" 2>&1) || { echo "$out" >&2; exit 1; }
	printf '%-14s %6.1f MB\n' "dct/$name" "$(docker image inspect -f '{{.Size}}' "dct/$name:$tag" | awk '{print $1/1e6}')"
}

probe=$bin/dct-probe:/usr/local/bin/dct-probe
image agent '["/usr/local/bin/dct-agent"]' "$bin/dct-agent:/usr/local/bin/dct-agent"
image gateway '["/usr/local/bin/dct-gateway"]' "$bin/dct-gateway:/usr/local/bin/dct-gateway"
image chaincode '["/usr/local/bin/dct-chaincode"]' "$bin/dct-chaincode:/usr/local/bin/dct-chaincode" "$probe"
image orderer '["/usr/local/bin/orderer"]' "$fabric/orderer:/usr/local/bin/orderer" "$probe"
# The peer runs DCT's external builder from /opt/dct/builder (generate's
# --builder-dir); build, release and run are the same binary as detect.
image peer '["/usr/local/bin/peer", "node", "start"]' "$fabric/peer:/usr/local/bin/peer" "$probe" \
	"$builder/detect:/opt/dct/builder/bin/detect" "@detect:/opt/dct/builder/bin/build" "@detect:/opt/dct/builder/bin/release" \
	"@detect:/opt/dct/builder/bin/run"
# The one-shot init and the operators' tools: Fabric's CLIs with their base
# configs (generate's --fabric-bin-dir and --fabric-config-dir), dct-network
# (generate, deploy, grant) and the dct operator CLI.
image tools '["/usr/local/bin/dct-network"]' "$fabric/peer:/usr/local/bin/peer" "$fabric/cryptogen:/usr/local/bin/cryptogen" \
	"$fabric/configtxgen:/usr/local/bin/configtxgen" "$fabric/osnadmin:/usr/local/bin/osnadmin" \
	"$fabcfg/core.yaml:/etc/hyperledger/fabric/core.yaml" "$fabcfg/orderer.yaml:/etc/hyperledger/fabric/orderer.yaml" \
	"$bin/dct-network:/usr/local/bin/dct-network" "$bin/dct:/usr/local/bin/dct" "$probe"
