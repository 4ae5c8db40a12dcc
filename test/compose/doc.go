// Package compose runs the three-bank consortium of the repository's
// docker-compose.yaml on this machine's Docker engine, from the images
// `make images` builds (FROM scratch, nothing pulled): it brings the stack
// up under a project name of its own, waits on the containers'
// healthchecks, publishes through one bank's gateway and reads back
// through another's, runs the container drills, and takes the stack down
// with its volumes. It needs the build tag "integration", the binaries of
// make build and make fabric (DCT_CACHE_DIR), and Docker with Compose; it
// skips without Docker, except under CI=true, where it fails.
//
// TestConsortiumGuide runs scripts/consortium-guide.sh, which follows
// docs/consortium.md on a compose project of its own (a fourth bank added
// to the running consortium and removed); DCT_CONSORTIUM_GUIDE=0 skips it.
//
// Host ports: DCT_COMPOSE_BASE_PORT (default 26100) for gateway0's public
// listener, +1 for gateway1's, +2 and +3 for their admin listeners; the
// guide's stack uses +10 to +13. DCT_COMPOSE_DRILLS=short skips the
// longest drills (a whole branch site cut off, an agent removed for good
// until repaired) and the receipts' check; full, the default, runs them
// all.
package compose
