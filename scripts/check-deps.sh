#!/usr/bin/env bash
# check-deps.sh: production binaries link only what they need.
#   - dct-gateway and dct-agent link no test-network and no network/...
#     package (the Fabric network launcher and its builder);
#   - the operator CLI dct links no gin and no gateway/... package (it is
#     a client of the gateway's HTTP API; the fabric-gateway client it
#     links signs the node registry's admin transactions, which no
#     gateway may make on an operator's behalf);
#   - no binary links a test helper (pkg/memberauth/memberauthtest,
#     gateway/content/contenttest, edge-agent/internal/testpki, test/...):
#     those are for tests only.
# Prints every offending package with the binary that links it.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
MOD=github.com/dct-network/dct

failed=0
# check BINARY_PKG PATTERN REASON: fail when BINARY_PKG depends on a package
# matching the extended regular expression PATTERN.
check() {
	local pkg=$1 pattern=$2 reason=$3 found
	found=$($GO list -deps "$pkg" | grep -E "$pattern" || true)
	if [[ -n $found ]]; then
		echo "check-deps: $pkg must not link $reason, but links:" >&2
		sed 's/^/    /' <<<"$found" >&2
		# Who imports them: the packages of this module that do directly.
		echo "  imported by:" >&2
		$GO list -deps -f '{{.ImportPath}}{{range .Imports}} {{.}}{{end}}' "$pkg" |
			awk -v pat="$pattern" '$1 ~ /^github.com\/dct-network\/dct/ {
				for (i = 2; i <= NF; i++) if ($i ~ pat && $1 !~ pat) print "    " $1 " -> " $i }' >&2
		failed=1
	fi
}

for bin in ./gateway/cmd/dct-gateway ./edge-agent/cmd/dct-agent; do
	check "$bin" "^$MOD/(test-network|network)(/|\$)" "the test network launcher ($MOD/test-network..., $MOD/network/...)"
done
for bin in ./gateway/cmd/dct-gateway ./edge-agent/cmd/dct-agent ./cli/cmd/dct ./test-network/cmd/dct-network; do
	check "$bin" "^$MOD/((.+/)?[a-z]+test|(.+/)?testpki|test(/.*)?)\$" "test helpers ($MOD/.../*test, testpki, test/...)"
done
check ./cli/cmd/dct "^(github.com/gin-gonic/|$MOD/gateway(/|\$))" \
	"gin or $MOD/gateway/..."

if ((failed)); then
	exit 1
fi
echo "check-deps: ok"
