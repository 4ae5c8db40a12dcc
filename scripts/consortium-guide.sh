#!/usr/bin/env bash
# consortium-guide.sh: follows docs/consortium.md step by step on the compose
# consortium (docker-compose.yaml, three banks with their own generated
# crypto), the stand-in for a consortium DCT did not create: installs the DCT
# chaincode as a CCaaS package, configures agents and gateways from a
# connection profile, MSP folders and the channel config, adds a fourth bank
# (BankD: its peer, agents and gateway) to the running consortium and removes
# it again. Each step prints what it does; the script stops at the first
# failure.
#
#   usage: consortium-guide.sh            run every step, then take the stack down
#   env:   COMPOSE_PROJECT_NAME (dctguide), DCT_IMAGE_TAG (latest),
#          DCT_COMPOSE_BASE_PORT (26200: gateways' public ports base, base+1,
#          admin ports base+2, base+3; BankD's gateway base+4, admin
#          base+5), DCT_FABRIC_DIR (.cache/fabric: host
#          cryptogen, configtxgen, configtxlator), DCT_BIN_DIR (.cache/bin:
#          host dct CLI), DCT_GUIDE_WORK (.run/consortium-guide),
#          DCT_GUIDE_KEEP=1 leaves the stack up, DCT_GUIDE_GO_PACKAGE=0 gives
#          BankD the CCaaS package instead of the standard Go package (whose
#          build on BankD's peer takes one to three minutes on two cores).
# Needs Docker with Compose, jq, and the images (make images) and host tools
# (make fabric build).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
project=${COMPOSE_PROJECT_NAME:-dctguide}
tag=${DCT_IMAGE_TAG:-latest}
base=${DCT_COMPOSE_BASE_PORT:-26200}
fabric=${DCT_FABRIC_DIR:-$root/.cache/fabric}/bin
bin=${DCT_BIN_DIR:-$root/.cache/bin}
work=${DCT_GUIDE_WORK:-$root/.run/consortium-guide}
overlay=$root/docs/consortium/bankd.compose.yaml
start=$(date +%s)

export COMPOSE_PROJECT_NAME=$project DCT_IMAGE_TAG=$tag DCT_PUBLISH_IP=127.0.0.1 DCT_GATEWAY_CACHE_BYTES=0
export DCT_GATEWAY0_PORT=$base DCT_GATEWAY1_PORT=$((base + 1)) DCT_GATEWAY0_ADMIN_PORT=$((base + 2)) DCT_GATEWAY1_ADMIN_PORT=$((base + 3))
export DCT_GATEWAY_BANKD_PORT=$((base + 4)) DCT_GATEWAY_BANKD_ADMIN_PORT=$((base + 5))
export DCT_BANKD_DIR=$work/bankd DCT_TRUST_DIR=$work/trust DCT_MEMBER_CAS=none
# The Go toolchain BankD's peer builds standard Go packages with (read-only).
export DCT_BANKD_GOROOT=${DCT_BANKD_GOROOT:-$(go env GOROOT)}
gw0=http://127.0.0.1:$DCT_GATEWAY0_PORT gwd=http://127.0.0.1:$DCT_GATEWAY_BANKD_PORT
# The existing banks' agents (docker-compose.yaml).
member_agents=(agent0-banka agent1-banka agent0-bankb agent1-bankb agent0-bankc agent1-bankc)

if docker compose version >/dev/null 2>&1; then compose=(docker compose); else compose=(docker-compose); fi
dc() { "${compose[@]}" -f "$root/docker-compose.yaml" "$@"; }
dcd() { "${compose[@]}" -f "$root/docker-compose.yaml" -f "$overlay" "$@"; }

step() { printf '\n==> [%4ss] %s\n' "$(($(date +%s) - start))" "$*"; }
say() { printf '    %s\n' "$*"; }
die() { printf 'consortium-guide: FAILED: %s\n' "$*" >&2; exit 1; }
# until_ok SECONDS WHAT CMD...: retry CMD every second until it succeeds.
until_ok() {
	local limit=$1 what=$2 i
	shift 2
	for ((i = 0; i < limit; i++)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 1
	done
	"$@" || true
	die "$what: not done after ${limit}s"
}

for t in cryptogen configtxgen configtxlator; do [ -x "$fabric/$t" ] || die "no $fabric/$t (make fabric)"; done
[ -x "$bin/dct" ] || die "no $bin/dct (make build)"
command -v jq >/dev/null || die "jq is needed"

cleanup() {
	local rc=$?
	if [ "${DCT_GUIDE_KEEP:-}" = 1 ]; then
		echo "stack $project left up (DCT_GUIDE_KEEP=1); take it down with: $0 down"
		return
	fi
	[ $rc -ne 0 ] && dcd logs --no-color --tail 30 peer0-bankd agent0-bankd agent1-bankd gateway0-bankd gateway0 2>/dev/null | tail -150 >&2
	dcd down -v --remove-orphans -t 5 >/dev/null 2>&1 || true
	exit $rc
}
if [ "${1:-}" = down ]; then
	dcd down -v --remove-orphans -t 5
	exit 0
fi
trap cleanup EXIT

# --- The consortium's tools, as each bank's admin runs them ---------------
# Every bank operates from its own machine with its own admin MSP. On the
# stand-in, all banks' crypto is in the compose volume `consortium`; the
# commands below run the Fabric peer CLI of the dct/tools image on the
# consortium's network, as the named bank's admin, with $work mounted at
# /work for the files they exchange.
net=/var/dct/network
cc_name=dct channel=dct
orderer=orderer0.orderer.dct.test:7050
orderer_ca=$net/crypto/ordererOrganizations/orderer.dct.test/tlsca/tlsca.orderer.dct.test-cert.pem
# org_dir BANK: where BANK's crypto is inside the tools container.
org_dir() {
	case $1 in
	bankd) echo /work/bankd/crypto/peerOrganizations/bankd.dct.test ;;
	*) echo "$net/crypto/peerOrganizations/$1.dct.test" ;;
	esac
}
# as_admin BANK PROGRAM ARGS...: run a tools-image program as BANK's admin.
as_admin() {
	local bank=$1 prog=$2 dir
	shift 2
	dir=$(org_dir "$bank")
	docker run --rm --network "${project}_backbone" -v "${project}_consortium:$net:ro" -v "$work:/work" -w /work \
		-e CORE_PEER_LOCALMSPID="$(msp "$bank")" -e CORE_PEER_MSPCONFIGPATH="$dir/users/Admin@$bank.dct.test/msp" \
		-e CORE_PEER_ADDRESS="peer0.$bank.dct.test:7051" -e CORE_PEER_TLS_ENABLED=true \
		-e CORE_PEER_TLS_ROOTCERT_FILE="$dir/tlsca/tlsca.$bank.dct.test-cert.pem" \
		--entrypoint "/usr/local/bin/$prog" "dct/tools:$tag" "$@"
}
msp() { case $1 in banka) echo BankAMSP ;; bankb) echo BankBMSP ;; bankc) echo BankCMSP ;; bankd) echo BankDMSP ;; esac; }
peer_tls_ca() { echo "$(org_dir "$1")/tlsca/tlsca.$1.dct.test-cert.pem"; }

# The package each bank installs and the id it approves (default: the CCaaS
# package of step 1; step 5 gives BankD the standard Go package).
declare -A pkg_file pkg_id
# define_chaincode BANKS...: the chaincode lifecycle of docs/consortium.md
# step 2: every bank installs the CCaaS package and approves the next
# sequence with the endorsement policy "every member's peer"; then one
# commits it with every bank's peer.
define_chaincode() {
	local banks=("$@") seq policy="" b rules=() peers=()
	seq=$(as_admin banka peer lifecycle chaincode querycommitted -C "$channel" -n "$cc_name" -O json 2>/dev/null | jq -r '.sequence // 0' || echo 0)
	seq=$((seq + 1))
	for b in "${banks[@]}"; do rules+=("'$(msp "$b").peer'"); done
	policy="AND($(IFS=,; echo "${rules[*]}"))"
	say "chaincode $cc_name sequence $seq, endorsement policy $policy"
	for b in "${banks[@]}"; do
		out=$(as_admin "$b" peer lifecycle chaincode install "/work/${pkg_file[$b]:-dct_1.0.tar.gz}" 2>&1) ||
			grep -q "already successfully installed" <<<"$out" || die "install on $b: $out"
		as_admin "$b" peer lifecycle chaincode approveformyorg -o "$orderer" --tls --cafile "$orderer_ca" -C "$channel" \
			-n "$cc_name" -v 1.0 --sequence "$seq" --signature-policy "$policy" --package-id "${pkg_id[$b]:-$package_id}" >/dev/null 2>&1 ||
			die "approve by $b failed"
		say "$(msp "$b"): installed and approved ${pkg_id[$b]:-$package_id}"
		peers+=(--peerAddresses "peer0.$b.dct.test:7051" --tlsRootCertFiles "$(peer_tls_ca "$b")")
	done
	as_admin banka peer lifecycle chaincode checkcommitreadiness -C "$channel" -n "$cc_name" -v 1.0 --sequence "$seq" \
		--signature-policy "$policy" -O json | jq -c .approvals | sed 's/^/    approvals: /'
	as_admin banka peer lifecycle chaincode commit -o "$orderer" --tls --cafile "$orderer_ca" -C "$channel" -n "$cc_name" \
		-v 1.0 --sequence "$seq" --signature-policy "$policy" "${peers[@]}" >/dev/null 2>&1 || die "commit of sequence $seq failed"
	say "committed: $(as_admin banka peer lifecycle chaincode querycommitted -C "$channel" -n "$cc_name" -O json | jq -c '{sequence, approvals}')"
}

# fetch_config: the channel's current config as JSON in $work/tx/config.json.
fetch_config() {
	as_admin banka peer channel fetch config /work/tx/config.pb -o "$orderer" --tls --cafile "$orderer_ca" -c "$channel" >/dev/null 2>&1 ||
		die "fetch the channel config"
	"$fabric/configtxlator" proto_decode --input "$work/tx/config.pb" --type common.Block |
		jq .data.data[0].payload.data.config >"$work/tx/config.json"
}

# config_update MODIFIED_JSON: the update from config.json to MODIFIED_JSON,
# wrapped in an envelope at $work/tx/update.pb, ready to be signed.
config_update() {
	local c=$work/tx
	"$fabric/configtxlator" proto_encode --input "$c/config.json" --type common.Config --output "$c/original.pb"
	"$fabric/configtxlator" proto_encode --input "$1" --type common.Config --output "$c/modified.pb"
	"$fabric/configtxlator" compute_update --channel_id "$channel" --original "$c/original.pb" --updated "$c/modified.pb" --output "$c/delta.pb"
	"$fabric/configtxlator" proto_decode --input "$c/delta.pb" --type common.ConfigUpdate --output "$c/delta.json"
	jq -n --arg ch "$channel" --slurpfile u "$c/delta.json" \
		'{payload: {header: {channel_header: {channel_id: $ch, type: 2}}, data: {config_update: $u[0]}}}' >"$c/envelope.json"
	"$fabric/configtxlator" proto_encode --input "$c/envelope.json" --type common.Envelope --output "$c/update.pb"
	chmod 0666 "$c/update.pb"
}

# trust_from_config: the consortium's trust material, rebuilt from the
# channel config: tls-ca-bundle.pem (every member's and the orderers' TLS
# roots) and members/<MSPID>.pem (each member's MSP roots); prints the
# member CA list MSPID=/var/dct/trust/members/<MSPID>.pem,...
trust_from_config() {
	local t=$work/trust.new m
	rm -rf "$t" && mkdir -p "$t/members"
	jq -r '.channel_group.groups[].groups[]?.values.MSP.value.config.tls_root_certs[]?' "$work/tx/config.json" |
		while read -r c; do base64 -d <<<"$c"; done >"$t/tls-ca-bundle.pem"
	for m in $(jq -r '.channel_group.groups.Application.groups | keys[]' "$work/tx/config.json"); do
		jq -r --arg m "$m" '.channel_group.groups.Application.groups[$m].values.MSP.value.config.root_certs[]' "$work/tx/config.json" |
			while read -r c; do base64 -d <<<"$c"; done >"$t/members/$m.pem"
	done
	chmod -R a+rX "$t"
	rm -rf "$work/trust" && mv "$t" "$work/trust"
	local list=()
	for m in "$work"/trust/members/*.pem; do list+=("$(basename "$m" .pem)=/var/dct/trust/members/$(basename "$m")"); done
	(IFS=,; echo "${list[*]}")
}

# placed_on PATTERN: how many shards of the guide's objects the gateway
# lists on nodes whose id matches PATTERN.
placed_on() {
	local n=0 o
	for o in "${objects[@]}"; do
		n=$((n + $("$bin/dct" --gateway "$gw0" show "$o" | jq --arg p "$1" '[.versions[].shards[].nodes[] | select(test($p))] | length')))
	done
	echo "$n"
}

# Readiness checks the steps wait on.
healthy() { [ "$(docker inspect -f '{{.State.Health.Status}}' "$(dcd ps -q "$1")")" = healthy ]; }
all_healthy() { local s; for s; do healthy "$s" || return 1; done; }
height() { as_admin "$1" peer channel getinfo -c "$channel" 2>/dev/null | sed 's/^[^{]*//' | jq .height; }
caught_up() { local h; h=$(height "$1") && [ -n "$h" ] && [ "$h" -ge "$(height banka)" ]; }
bankd_active() { curl -sf "$gw0/v1/nodes" | jq -e --argjson n "$1" '[.nodes[] | select(.org == "BankDMSP" and .status == "active")] | length == $n' >/dev/null; }
bankd_in_mesh() { curl -sf "$gw0/v1/mesh" | jq -e --argjson n "$1" '[.mesh.members.members[] | select((.name | test("^agent.*-bankd$")) and .status == "alive")] | length == $n' >/dev/null; }
# mesh_agents URL: the agents alive in the mesh of the gateway at URL.
mesh_agents() { curl -sf "$1/v1/mesh" | jq -c '[.mesh.members.members[] | select((.name | test("^agent")) and .status == "alive") | .name] | sort'; }
# active_nodes: the consortium's active nodes, as gateway0 lists them.
active_nodes() { curl -sf "$gw0/v1/nodes" | jq -c '[.nodes[] | select(.status == "active") | .id] | sort'; }
mesh_has_agents() { local m; m=$(mesh_agents "$1") && [ "$m" = "$(active_nodes)" ]; }
bankd_bid() { dcd logs --no-color agent0-bankd agent1-bankd 2>/dev/null | grep -qi 'bid'; }
none_placed_on() { [ "$(placed_on "$1")" = 0 ]; }
reads_back() { curl -sf "$gw0/cdn/$1" | cmp -s - "$2"; }
# reads_back_from URL NAME FILE: NAME read through the gateway at URL is FILE.
reads_back_from() { curl -sf "$1/cdn/$2" | cmp -s - "$3"; }

rm -rf "$work" && mkdir -p "$work/tx" && chmod 0777 "$work" "$work/tx"

step "0. The stand-in consortium: docker-compose.yaml's three banks (project $project, gateways $gw0 and :$DCT_GATEWAY1_PORT)"
dc up -d >/dev/null 2>&1 || { dc up -d; die "compose up"; }
say "up: $(dc ps --services --filter status=running 2>/dev/null | wc -l) services running"
# The material a new bank gets from the consortium: the chaincode server's
# TLS CA (for the CCaaS package), the gossip keyring and, for its gateways
# only, the consortium master key (a secret every member's gateway holds).
mkdir -p "$work/consortium"
docker cp "$(dc ps -q gateway0):$net/mesh.keyring" "$work/consortium/mesh.keyring"
docker cp "$(dc ps -q gateway0):$net/gateway-secrets/master.key" "$work/consortium/master.key"
docker cp "$(dc ps -q gateway0):$net/crypto/peerOrganizations/banka.dct.test/tlsca/tlsca.banka.dct.test-cert.pem" "$work/consortium/banka-tls-ca.pem"
docker cp "$(dc ps -q gateway0):$net/crypto/peerOrganizations/banka.dct.test/users/User1@banka.dct.test/msp" "$work/consortium/publisher-msp"

step "1. Install DCT as a CCaaS package on every bank's peer"
"$bin/dct-network" package --label dct_1.0 --address chaincode.banka.dct.test:9999 --dial-timeout 10s \
	--tls-root-cert "$work/consortium/banka-tls-ca.pem" --output "$work/dct_1.0.tar.gz" | sed 's/^/    /'
package_id=$("$bin/dct-network" package --label dct_1.0 --address chaincode.banka.dct.test:9999 --dial-timeout 10s \
	--tls-root-cert "$work/consortium/banka-tls-ca.pem" --output "$work/dct_1.0.tar.gz" | awk '/^package id/ {print $3}')
chmod 0644 "$work/dct_1.0.tar.gz"
docker cp "$(dc ps -q gateway0):$net/chaincode/package-id" "$work/tx/package-id"
[ "$package_id" = "$(cat "$work/tx/package-id")" ] || die "package id $package_id differs from the chaincode server's $(cat "$work/tx/package-id")"
say "package id $package_id: the chaincode server's (the package is deterministic)"
define_chaincode banka bankb bankc

step "2. Publish through a gateway configured by the compose file (the consortium works)"
objects=()
for i in 1 2 3; do
	head -c 20000 /dev/urandom >"$work/object-$i.bin"
	"$bin/dct" --gateway "$gw0" --admin "https://127.0.0.1:$DCT_GATEWAY0_ADMIN_PORT" --msp-dir "$work/consortium/publisher-msp" \
		--cacert "$work/consortium/banka-tls-ca.pem" publish -q --prefix guide/before/ "$work/object-$i.bin" >/dev/null
	objects+=("guide/before/object-$i.bin")
done
say "published ${objects[*]}"

step "3. Add BankD: its crypto, its organisation definition, the channel config update signed by a majority of admins"
mkdir -p "$work/bankd"
cp "$root/docs/consortium/bankd-crypto.yaml" "$root/docs/consortium/configtx.yaml" "$work/bankd/"
"$fabric/cryptogen" generate --config "$work/bankd/bankd-crypto.yaml" --output "$work/bankd/crypto" >/dev/null
"$fabric/configtxgen" -configPath "$work/bankd" -printOrg BankDMSP >"$work/tx/bankd-org.json" 2>/dev/null
say "BankD crypto and organisation definition written"
fetch_config
jq --slurpfile org "$work/tx/bankd-org.json" '.channel_group.groups.Application.groups.BankDMSP = $org[0]' \
	"$work/tx/config.json" >"$work/tx/modified.json"
config_update "$work/tx/modified.json"
as_admin banka peer channel signconfigtx -f /work/tx/update.pb >/dev/null 2>&1 || die "BankA's signature"
say "signed by BankAMSP's admin"
as_admin bankb peer channel update -f /work/tx/update.pb -c "$channel" -o "$orderer" --tls --cafile "$orderer_ca" >/dev/null 2>&1 ||
	die "channel update (BankB)"
say "signed and submitted by BankBMSP's admin (2 of 3 admins: the channel's MAJORITY Admins policy)"
fetch_config
say "channel members now: $(jq -c '.channel_group.groups.Application.groups | keys' "$work/tx/config.json")"

step "4. BankD's peer: its configuration, start, join the channel"
members=$(trust_from_config)
export DCT_MEMBER_CAS=$members
cp "$work/trust/tls-ca-bundle.pem" "$work/bankd/tls-ca-bundle.pem"
cp "$work/consortium/mesh.keyring" "$work/bankd/mesh.keyring"
mkdir -p "$work/bankd/nodes/peer0.bankd.dct.test/config" "$work/bankd/bidkeys" "$work/bankd/gateway-secrets"
cp "$work/consortium/master.key" "$work/bankd/gateway-secrets/master.key"
docker cp "$(dc ps -q gateway0):$net/nodes/peer0.bankc.dct.test/config/core.yaml" "$work/tx/core-template.yaml"
sed -e 's/bankc\.dct\.test/bankd.dct.test/g' -e 's/BankCMSP/BankDMSP/g' \
	-e 's|^\( *\)path: /opt/dct/builder$|&\n\1propagateEnvironment: [DCT_BUILDER_GOROOT]|' \
	-e 's|^\( *executetimeout:\) .*|\1 300s|' "$work/tx/core-template.yaml" \
	>"$work/bankd/nodes/peer0.bankd.dct.test/config/core.yaml"
grep -q 'propagateEnvironment: \[DCT_BUILDER_GOROOT\]' "$work/bankd/nodes/peer0.bankd.dct.test/config/core.yaml" || die "core.yaml: builder entry not found"
head -c 32 /dev/urandom | base64 >"$work/bankd/bidkeys/bankd.key"
ca_pem=$(cat "$work/bankd/crypto/peerOrganizations/bankd.dct.test/tlsca/tlsca.bankd.dct.test-cert.pem")
jq -n --arg pem "$ca_pem" --arg ch "$channel" '{
	name: "dct-BankD", version: "1.0.0", client: {organization: "BankD"},
	organizations: {BankD: {mspid: "BankDMSP", peers: ["peer0.bankd.dct.test"], certificateAuthorities: []}},
	peers: {"peer0.bankd.dct.test": {url: "grpcs://peer0.bankd.dct.test:7051", tlsCACerts: {pem: $pem},
		grpcOptions: {"ssl-target-name-override": "peer0.bankd.dct.test"}}},
	channels: {($ch): {peers: {"peer0.bankd.dct.test": {endorsingPeer: true, chaincodeQuery: true, ledgerQuery: true, eventSource: true}}}}
}' >"$work/bankd/connection-bankd.json"
# The containers run as uid 10001 (dct) and mount the directory read-only.
if [ "$(id -u)" = 0 ]; then chown -R 10001:10001 "$work/bankd"; else chmod -R a+rX "$work/bankd"; fi
dcd up -d --no-deps peer0-bankd >/dev/null 2>&1 || die "start peer0-bankd"
until_ok 120 "peer0-bankd healthy" healthy peer0-bankd
as_admin bankd peer channel fetch 0 /work/tx/genesis.block -o "$orderer" --tls --cafile "$orderer_ca" -c "$channel" >/dev/null 2>&1 ||
	die "BankD fetches the channel's genesis block"
out=$(as_admin bankd peer channel join -b /work/tx/genesis.block 2>&1) || grep -q "already exists" <<<"$out" || die "join: $out"
until_ok 120 "peer0-bankd catches up" caught_up bankd
say "peer0.bankd.dct.test joined channel $channel at height $(height bankd)"

step "5. The chaincode on BankD's peer (by default a standard Go package its peer builds), and a definition whose endorsement policy includes BankD"
# BankD's policy: standard Go packages only. It vendors the chaincode's
# module and packages it with Fabric's peer CLI; its peer's builder compiles
# it with the Go toolchain BankD mounted (DCT_BUILDER_GOROOT) and runs it in
# client mode. The other banks keep the CCaaS package: each bank approves
# the package its own peers run.
if [ "${DCT_GUIDE_GO_PACKAGE:-1}" = 1 ]; then
	mkdir -p "$work/ccsrc"
	cp -a "$root/chaincode/." "$work/ccsrc/"
	(cd "$work/ccsrc" && rm -rf vendor && GOFLAGS=-mod=mod go mod vendor)
	(cd "$work/ccsrc" && FABRIC_CFG_PATH=$fabric/../config "$fabric/peer" lifecycle chaincode package "$work/dct_go_1.0.tar.gz" \
		--lang golang --path ./cmd/dct-chaincode --label dct_go_1.0)
	chmod 0644 "$work/dct_go_1.0.tar.gz"
	pkg_file[bankd]=dct_go_1.0.tar.gz
	pkg_id[bankd]=dct_go_1.0:$(sha256sum "$work/dct_go_1.0.tar.gz" | awk '{print $1}')
	say "standard Go package ${pkg_id[bankd]} ($(du -k "$work/dct_go_1.0.tar.gz" | cut -f1) KiB, vendored)"
else
	say "DCT_GUIDE_GO_PACKAGE=0: BankD installs the CCaaS package too"
fi
define_chaincode banka bankb bankc bankd

step "6. Every bank's gateways and agents trust the new bank (the TLS CA bundle and the members' CAs, rebuilt from the channel config)"
dcd up -d --no-deps gateway0 gateway1 "${member_agents[@]}" >/dev/null 2>&1 || die "recreate the gateways and agents"
until_ok 180 "agents healthy" all_healthy "${member_agents[@]}"
until_ok 120 "gateways healthy" curl -sf "$gw0/v1/nodes"
until_ok 120 "gateway1 healthy" curl -sf "http://127.0.0.1:$DCT_GATEWAY1_PORT/v1/nodes"
until_ok 120 "the agents back in gateway0's mesh" mesh_has_agents "$gw0"
say "gateway0 and gateway1 recreated with DCT_AGENT_CA=/var/dct/trust/tls-ca-bundle.pem"
say "${#member_agents[@]} agents recreated with DCT_AGENT_MEMBER_CAS=$DCT_MEMBER_CAS"

step "7. BankD's admin grants its agents their node identities; the agents start from BankD's connection profile and MSP folders"
for a in 0 1; do
	u=User$((a + 1))@bankd.dct.test
	until_ok 120 "grant node role to agent$a-bankd" as_admin bankd dct-network grant \
		--connection-profile /work/bankd/connection-bankd.json --msp-dir "$(org_dir bankd)/users/Admin@bankd.dct.test/msp" \
		--member-cert "$(org_dir bankd)/users/$u/msp/signcerts/$u-cert.pem" --role node --node-id "agent$a-bankd"
	say "agent$a-bankd: node role granted to $u"
done
dcd up -d --no-deps agent0-bankd agent1-bankd >/dev/null 2>&1 || die "start BankD's agents"
until_ok 180 "BankD's agents registered" bankd_active 2
say "registered: $(curl -sf "$gw0/v1/nodes" | jq -c '[.nodes[] | select(.org == "BankDMSP") | {id, zone, status}]')"
until_ok 120 "BankD's agents in the gateways' mesh" bankd_in_mesh 2
say "mesh of gateway0: $(curl -sf "$gw0/v1/mesh" | jq -c '[.mesh.members.members[] | .name] | sort')"
until_ok 120 "BankD's agents bid" bankd_bid
say "bids: $(dcd logs --no-color agent0-bankd agent1-bankd | grep -i 'bid' | sed 's/.*msg=//' | sort | uniq -c | head -3 | tr -s ' ' | tr '\n' ';')"

step "8. BankD's gateway: its gateway identity, started from BankD's connection profile and MSP folders; it serves the consortium's objects"
u=User3@bankd.dct.test
until_ok 120 "grant gateway role to gateway0-bankd" as_admin bankd dct-network grant \
	--connection-profile /work/bankd/connection-bankd.json --msp-dir "$(org_dir bankd)/users/Admin@bankd.dct.test/msp" \
	--member-cert "$(org_dir bankd)/users/$u/msp/signcerts/$u-cert.pem" --role gateway
say "gateway0-bankd: gateway role granted to $u"
dcd up -d --no-deps gateway0-bankd >/dev/null 2>&1 || die "start BankD's gateway"
until_ok 120 "gateway0-bankd healthy" healthy gateway0-bankd
say "gateway0-bankd healthy: GET $gwd/healthz $(curl -sf "$gwd/healthz" | jq -c .)"
for o in "${objects[@]}"; do
	want=$work/object-${o##*object-}
	until_ok 60 "read $o through BankD's gateway" reads_back_from "$gwd" "$o" "$want"
	got=$(curl -sf "$gwd/cdn/$o" | sha256sum | cut -d' ' -f1)
	[ "$got" = "$(sha256sum <"$want" | cut -d' ' -f1)" ] || die "$o through gateway0-bankd: sha256 $got, not the published object's"
	say "$o through gateway0-bankd: sha256 $got, the published object's"
done
until_ok 120 "the consortium's agents in BankD's gateway's mesh" mesh_has_agents "$gwd"
say "mesh of gateway0-bankd, alive agents: $(mesh_agents "$gwd") (the consortium's active nodes)"
# Its admin listener: BankD's TLS server pair, every member's CA (a BankA
# publisher asks who it is).
pub=$work/consortium/publisher-msp
who=$(curl -sf --cacert "$work/bankd/crypto/peerOrganizations/bankd.dct.test/tlsca/tlsca.bankd.dct.test-cert.pem" \
	--cert "$(ls "$pub"/signcerts/*)" --key "$(ls "$pub"/keystore/*)" "https://127.0.0.1:$DCT_GATEWAY_BANKD_ADMIN_PORT/v1/whoami") ||
	die "GET /v1/whoami on BankD's gateway's admin listener"
say "admin listener, GET /v1/whoami as BankA's publisher: $(jq -c '{mspId, roles, gateway}' <<<"$who")"

step "9. Publish with four banks: shards land on BankD's nodes too"
for i in 4 5 6 7 8 9; do
	head -c 20000 /dev/urandom >"$work/object-$i.bin"
	"$bin/dct" --gateway "$gw0" --admin "https://127.0.0.1:$DCT_GATEWAY0_ADMIN_PORT" --msp-dir "$work/consortium/publisher-msp" \
		--cacert "$work/consortium/banka-tls-ca.pem" publish -q --prefix guide/four/ "$work/object-$i.bin" >/dev/null
	objects+=("guide/four/object-$i.bin")
done
on_bankd=$(placed_on bankd)
[ "$on_bankd" -gt 0 ] || die "no shard was placed on BankD's nodes"
say "published 6 more objects; shards on BankD's nodes: $on_bankd"

step "10. Remove BankD: deactivate its nodes, wait until no shard is left on them"
for node in agent0-bankd agent1-bankd; do
	as_admin bankd dct nodes deactivate "$node" --reason "BankD leaves the consortium" --output json \
		--connection-profile /work/bankd/connection-bankd.json --msp-dir "$(org_dir bankd)/users/Admin@bankd.dct.test/msp" |
		jq -c '{id, status, deactivationReason}' | sed 's/^/    /'
done
until_ok 240 "shards moved off BankD's nodes" none_placed_on bankd
say "shards on BankD's nodes: $(placed_on bankd)"

step "11. Stop BankD's gateway and agents; a definition without BankD; stop its peer; remove BankD from the channel config"
dcd stop -t 10 gateway0-bankd agent0-bankd agent1-bankd >/dev/null 2>&1 && dcd rm -f gateway0-bankd agent0-bankd agent1-bankd >/dev/null 2>&1
say "gateway0-bankd, agent0-bankd and agent1-bankd stopped"
define_chaincode banka bankb bankc
dcd stop -t 10 peer0-bankd >/dev/null 2>&1 && dcd rm -f peer0-bankd >/dev/null 2>&1
fetch_config
jq 'del(.channel_group.groups.Application.groups.BankDMSP)' "$work/tx/config.json" >"$work/tx/modified.json"
config_update "$work/tx/modified.json"
as_admin banka peer channel signconfigtx -f /work/tx/update.pb >/dev/null 2>&1 || die "BankA's signature"
as_admin bankb peer channel signconfigtx -f /work/tx/update.pb >/dev/null 2>&1 || die "BankB's signature"
as_admin bankc peer channel update -f /work/tx/update.pb -c "$channel" -o "$orderer" --tls --cafile "$orderer_ca" >/dev/null 2>&1 ||
	die "channel update (BankC)"
say "signed by BankA and BankB, submitted by BankC (3 of 4 admins)"
fetch_config
say "channel members now: $(jq -c '.channel_group.groups.Application.groups | keys' "$work/tx/config.json")"
members=$(trust_from_config)
export DCT_MEMBER_CAS=$members
# --force-recreate: the gateways' settings are unchanged, their trust
# directory's content is not.
dcd up -d --no-deps --force-recreate gateway0 gateway1 "${member_agents[@]}" >/dev/null 2>&1 || die "recreate the gateways and agents"
until_ok 180 "agents healthy" all_healthy "${member_agents[@]}"
until_ok 120 "gateways healthy" curl -sf "$gw0/v1/nodes"
until_ok 120 "the agents back in gateway0's mesh" mesh_has_agents "$gw0"
say "gateways and agents recreated with the three members' CAs: $DCT_MEMBER_CAS"

step "12. The three banks go on: every object reads back, a new one publishes"
for o in "${objects[@]}"; do
	want=$work/object-${o##*object-}
	until_ok 60 "read $o" reads_back "$o" "$want"
done
say "all ${#objects[@]} objects read back intact through gateway0"
head -c 20000 /dev/urandom >"$work/object-after.bin"
"$bin/dct" --gateway "$gw0" --admin "https://127.0.0.1:$DCT_GATEWAY0_ADMIN_PORT" --msp-dir "$work/consortium/publisher-msp" \
	--cacert "$work/consortium/banka-tls-ca.pem" publish -q --prefix guide/after/ "$work/object-after.bin" >/dev/null
curl -sf "$gw0/cdn/guide/after/object-after.bin" | cmp -s - "$work/object-after.bin" || die "read back the object published after"
say "published and read guide/after/object-after.bin"
say "nodes: $(curl -sf "$gw0/v1/nodes" | jq -c '[.nodes[] | "\(.id):\(.status)"]')"

step "consortium guide: every step passed in $(($(date +%s) - start))s"
