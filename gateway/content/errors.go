package content

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrInvalid: the request is malformed (name, size, range, redundancy).
	ErrInvalid = errors.New("invalid request")
	// ErrTooLarge: the object exceeds the configured maximum.
	ErrTooLarge = errors.New("object too large")
	// ErrNotFound: no such object or version.
	ErrNotFound = errors.New("not found")
	// ErrPurged: the version was purged.
	ErrPurged = errors.New("purged")
	// ErrForbidden: the ledger refused the caller.
	ErrForbidden = errors.New("forbidden")
	// ErrNoPlacement: too few usable edge nodes to place the shards.
	ErrNoPlacement = errors.New("no placement")
	// ErrShardsUnavailable: fewer than k shards could be fetched.
	ErrShardsUnavailable = errors.New("shards unavailable")
	// ErrUpload: pushing shards to the agents failed.
	ErrUpload = errors.New("shard upload failed")
	// ErrCorrupt: decoded content failed verification.
	ErrCorrupt = errors.New("content corrupt")
	// ErrShardCorrupt: an agent holds a shard whose bytes fail
	// verification (reported by the agent, or caught by the hash).
	ErrShardCorrupt = errors.New("shard corrupt")
	// ErrConflict: the ledger refused a write because the record's state
	// changed or does not allow it (already recorded, already purged,
	// holders changed, a lost concurrency race); re-read before retrying.
	ErrConflict = errors.New("conflict")
	// ErrUnknownKey: the object is encrypted under a master key (named by
	// the key id in its manifest) this gateway does not hold.
	ErrUnknownKey = errors.New("unknown master key")
	// ErrOverloaded: too many reads are fetching shards; retry shortly.
	ErrOverloaded = errors.New("overloaded")
	// ErrLedger: the ledger failed or is unreachable.
	ErrLedger = errors.New("ledger error")
)

// Errors of edge agents, as the Agent implementations report them (package
// agents maps the agents' gRPC statuses to these in one place).
var (
	// ErrShardNotFound: the agent holds no such shard.
	ErrShardNotFound = errors.New("shard not found on agent")
	// ErrAgentFull: the agent has no room for the shard.
	ErrAgentFull = errors.New("agent full")
	// ErrAgentRefused: the agent refused the request as malformed or out
	// of range, or refused this gateway.
	ErrAgentRefused = errors.New("agent refused the request")
	// ErrAgentUnavailable: the agent could not be reached or failed.
	ErrAgentUnavailable = errors.New("agent unavailable")
)

// ShardsUnavailableError says why an object could not be read.
type ShardsUnavailableError struct {
	Object string
	Need   int
	Have   int
	Causes []string
}

func (e *ShardsUnavailableError) Error() string {
	return fmt.Sprintf("%s: only %d of the %d shards needed could be fetched: %s", e.Object, e.Have, e.Need, strings.Join(e.Causes, "; "))
}

func (e *ShardsUnavailableError) Unwrap() error { return ErrShardsUnavailable }
