// Package scoredrop runs the SLA's consequences end to end on real
// processes, on a network whose ledger has short epochs (the epoch
// length is a ledger setting, records.EpochSetting): a node whose score
// drops is warned, then penalized, loses its storage contracts to a
// re-auction, and its shards move. It has a network of its own because
// the other suites' tests assume the default 60 s epochs and would be
// disturbed by nodes that lose their contracts within seconds. It needs
// the build tag "integration" and the binaries `make build` puts in
// .cache/bin; it uses DCT_E2E_BASE_PORT like the e2e suite (the suites
// run one after the other, make test's -p 1).
package scoredrop
