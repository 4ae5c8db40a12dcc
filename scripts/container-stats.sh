#!/usr/bin/env bash
# container-stats.sh: CPU and memory of a compose project's running
# containers, by kind of service (agent, gateway, orderer, peer,
# chaincode), from SNAPSHOTS `docker stats --no-stream` snapshots (default
# 3). CPU is docker's percentage of one core, averaged over the snapshots
# and the containers of a kind (max: the highest single reading); memory
# is docker's MemUsage, the container's cgroup memory less its page cache
# (about its RSS), lowest to highest over the containers of a kind. The
# last row sums every container: CPU of the busiest and idlest snapshot,
# memory of the snapshots' lowest and highest sum. Prints a Markdown table.
#   usage: container-stats.sh PROJECT [SNAPSHOTS]
set -euo pipefail
project=${1:?usage: container-stats.sh PROJECT [SNAPSHOTS]}
snaps=${2:-3}
[[ $snaps =~ ^[1-9][0-9]*$ ]] || { echo "container-stats: SNAPSHOTS must be a positive integer, got '$snaps'" >&2; exit 2; }

names=$(docker ps --filter "label=com.docker.compose.project=$project" \
	--format '{{.Names}} {{.Label "com.docker.compose.service"}}')
[ -n "$names" ] || { echo "container-stats: no running container of compose project $project" >&2; exit 1; }

stats=$(for ((i = 1; i <= snaps; i++)); do
	# shellcheck disable=SC2046 # one argument per container name
	docker stats --no-stream --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}}' $(cut -d' ' -f1 <<<"$names") | sed "s/^/$i /"
done)

awk -v snaps="$snaps" '
function mib(v,   n, u) {
	n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
	if (u == "B") return n / 1048576
	if (u == "KiB" || u == "kB") return n / 1024
	if (u == "MiB" || u == "MB") return n
	if (u == "GiB" || u == "GB") return n * 1024
	return n
}
NR == FNR { kind = $2; sub(/[0-9]+(-.*)?$/, "", kind); kindOf[$1] = kind; next }
{
	snap = $1; name = $2; cpu = $3 + 0; mem = mib($4); k = kindOf[name]
	if (k == "") next
	if (!(k in n)) { order[++kinds] = k; lo[k] = mem; hi[k] = mem }
	n[k]++; cpuSum[k] += cpu; if (cpu > cpuMax[k]) cpuMax[k] = cpu
	if (mem < lo[k]) lo[k] = mem; if (mem > hi[k]) hi[k] = mem
	if (!(name in seen)) { seen[name] = 1; count[k]++; total++ }
	snapCPU[snap] += cpu; snapMem[snap] += mem
}
END {
	print "| container | CPU % of one core, mean (max) | memory MiB |"
	print "| --- | --- | --- |"
	for (i = 1; i <= kinds; i++) {
		k = order[i]
		printf "| %s (×%d) | %.1f (%.1f) | %.0f–%.0f |\n", k, count[k], cpuSum[k] / n[k], cpuMax[k], lo[k], hi[k]
	}
	for (s = 1; s <= snaps; s++) {
		if (s == 1 || snapCPU[s] < cLo) cLo = snapCPU[s]; if (s == 1 || snapCPU[s] > cHi) cHi = snapCPU[s]
		if (s == 1 || snapMem[s] < mLo) mLo = snapMem[s]; if (s == 1 || snapMem[s] > mHi) mHi = snapMem[s]
	}
	printf "| all %d | %.0f–%.0f | %.0f–%.0f |\n", total, cLo, cHi, mLo, mHi
}' <(echo "$names") <(echo "$stats")
