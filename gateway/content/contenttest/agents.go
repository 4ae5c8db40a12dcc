package contenttest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
)

var _ content.Agents = (*Agents)(nil)

// Agents is a set of in-memory edge agents, one per node.
type Agents struct {
	mu     sync.Mutex
	agents map[string]*Agent
}

// NewAgents returns an agent with capacity bytes for each node registered
// on l.
func NewAgents(l *Ledger, capacity int64) *Agents {
	fa := &Agents{agents: map[string]*Agent{}}
	nodes, _ := l.ListNodes(context.Background())
	for _, n := range nodes {
		fa.agents[n.ID] = &Agent{id: n.ID, shards: map[string][]byte{}, capacity: capacity}
	}
	return fa
}

// Agent returns the node's agent.
func (f *Agents) Agent(n *records.Node) (content.Agent, error) {
	if n == nil {
		return nil, fmt.Errorf("%w: no such node", content.ErrAgentUnavailable)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.agents[n.ID]
	if !ok {
		return nil, fmt.Errorf("%w: no agent at %s", content.ErrAgentUnavailable, n.Endpoint)
	}
	return a, nil
}

// Get returns the agent of node id (nil if none).
func (f *Agents) Get(id string) *Agent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.agents[id]
}

// All returns every agent, by node id.
func (f *Agents) All() []*Agent {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]*Agent, 0, len(f.agents))
	for _, a := range f.agents {
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// ShardCount is the number of shards stored across all agents.
func (f *Agents) ShardCount() int {
	n := 0
	for _, a := range f.All() {
		n += a.ShardCount()
	}
	return n
}

// Agent is one in-memory edge agent. It stores a shard only when the
// committed bytes match the declared hash and size, reserves the declared
// size while an upload is open (ErrAgentFull when it does not fit), and
// deleting an absent shard succeeds. Its errors wrap the content package's
// agent errors, as the gRPC agent client's do.
type Agent struct {
	mu       sync.Mutex
	id       string
	shards   map[string][]byte
	capacity int64
	reserved int64
	down     bool
	failPuts bool
	refuse   bool
	delay    time.Duration
	gets     map[string]int
	overSend int
	maxGet   int64
	deletes  []content.ShardRef
	onGet    func(ctx context.Context, off, n int64) error
}

// SetOnGet makes every GetShard call fn first (nil: none); an error from
// fn is the call's answer. fn runs outside the agent's lock and may block.
func (a *Agent) SetOnGet(fn func(ctx context.Context, off, n int64) error) {
	a.mu.Lock()
	a.onGet = fn
	a.mu.Unlock()
}

// ID is the agent's node id.
func (a *Agent) ID() string { return a.id }

// SetDown makes every call fail as for an unreachable agent (true) or
// brings the agent back (false); shards are kept.
func (a *Agent) SetDown(down bool) { a.mu.Lock(); a.down = down; a.mu.Unlock() }

// SetFailPuts makes uploads fail after they started (writes and commits).
func (a *Agent) SetFailPuts(fail bool) { a.mu.Lock(); a.failPuts = fail; a.mu.Unlock() }

// SetRefuseUploads makes PutShard itself fail while Free still answers.
func (a *Agent) SetRefuseUploads(refuse bool) { a.mu.Lock(); a.refuse = refuse; a.mu.Unlock() }

// SetDelay holds every GetShard answer for d (a slow or hung agent).
func (a *Agent) SetDelay(d time.Duration) { a.mu.Lock(); a.delay = d; a.mu.Unlock() }

// SetOverSend makes GetShard answer extra bytes more than asked, as a
// misbehaving agent streaming past the requested range would.
func (a *Agent) SetOverSend(extra int) { a.mu.Lock(); a.overSend = extra; a.mu.Unlock() }

// MaxGet is the largest length a GetShard asked for.
func (a *Agent) MaxGet() int64 { a.mu.Lock(); defer a.mu.Unlock(); return a.maxGet }

// Corrupt flips a byte in every stored shard, as silent disk rot would:
// the agent still serves them.
func (a *Agent) Corrupt() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range a.shards {
		if len(b) > 0 {
			b[len(b)/2] ^= 0xff
		}
	}
}

// Drop loses a shard without the gateway knowing (a wiped disk).
func (a *Agent) Drop(hash string) { a.mu.Lock(); delete(a.shards, hash); a.mu.Unlock() }

// Has reports whether the agent stores the shard.
func (a *Agent) Has(hash string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	_, ok := a.shards[hash]
	return ok
}

// ShardCount is the number of shards stored.
func (a *Agent) ShardCount() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.shards)
}

// Gets counts the GetShard requests for a shard, failed ones included.
func (a *Agent) Gets(hash string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.gets[hash]
}

// downErr is the error of a call to an agent that is down; a.mu is held.
func (a *Agent) downErr() error {
	return fmt.Errorf("%w: agent down (%s)", content.ErrAgentUnavailable, a.id)
}

func (a *Agent) used() int64 {
	n := a.reserved
	for _, b := range a.shards {
		n += int64(len(b))
	}
	return n
}

// PutShard opens an upload of size bytes.
func (a *Agent) PutShard(_ context.Context, _ string, size int64) (content.ShardWriter, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.down || a.refuse {
		return nil, a.downErr()
	}
	if size < 0 {
		return nil, fmt.Errorf("%w: negative size", content.ErrAgentRefused)
	}
	if free := a.capacity - a.used(); size > free {
		return nil, fmt.Errorf("%w: shard of %d bytes, %d bytes free of %d", content.ErrAgentFull, size, free, a.capacity)
	}
	a.reserved += size
	return &writer{a: a, size: size}, nil
}

type writer struct {
	a    *Agent
	buf  bytes.Buffer
	size int64
	done bool
}

// release ends the upload's reservation; a.mu is held.
func (w *writer) release() {
	if !w.done {
		w.done = true
		w.a.reserved -= w.size
	}
}

func (w *writer) Write(p []byte) error {
	w.a.mu.Lock()
	defer w.a.mu.Unlock()
	if w.done {
		return fmt.Errorf("%w: upload already ended", content.ErrAgentRefused)
	}
	if w.a.down || w.a.failPuts {
		w.release()
		return w.a.downErr()
	}
	if int64(w.buf.Len()+len(p)) > w.size {
		w.release()
		return fmt.Errorf("%w: more than the %d bytes declared", content.ErrAgentRefused, w.size)
	}
	w.buf.Write(p)
	return nil
}

func (w *writer) Commit(hash string) error {
	w.a.mu.Lock()
	defer w.a.mu.Unlock()
	if w.done {
		return fmt.Errorf("%w: upload already ended", content.ErrAgentRefused)
	}
	w.release()
	if w.a.down || w.a.failPuts {
		return w.a.downErr()
	}
	sum := sha256.Sum256(w.buf.Bytes())
	if got := hex.EncodeToString(sum[:]); got != hash || int64(w.buf.Len()) != w.size {
		return fmt.Errorf("%w: %d bytes with hash %s, declared %d bytes with hash %s", content.ErrAgentRefused, w.buf.Len(), got, w.size, hash)
	}
	w.a.shards[hash] = bytes.Clone(w.buf.Bytes())
	return nil
}

func (w *writer) Abort() {
	w.a.mu.Lock()
	defer w.a.mu.Unlock()
	w.release()
}

// GetShard reads n > 0 bytes at off.
func (a *Agent) GetShard(ctx context.Context, hash string, off, n int64) ([]byte, error) {
	a.mu.Lock()
	if a.gets == nil {
		a.gets = map[string]int{}
	}
	a.gets[hash]++
	delay, onGet := a.delay, a.onGet
	a.mu.Unlock()
	if onGet != nil {
		if err := onGet(ctx, off, n); err != nil {
			return nil, err
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %w", content.ErrAgentUnavailable, ctx.Err())
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.down {
		return nil, a.downErr()
	}
	b, ok := a.shards[hash]
	if !ok {
		return nil, fmt.Errorf("%w: %s", content.ErrShardNotFound, hash)
	}
	if off < 0 || n <= 0 || off+n > int64(len(b)) {
		return nil, fmt.Errorf("%w: range %d+%d outside the %d bytes of the shard", content.ErrAgentRefused, off, n, len(b))
	}
	a.maxGet = max(a.maxGet, n)
	out := bytes.Clone(b[off : off+n])
	return append(out, make([]byte, a.overSend)...), nil
}

// GetShardInto is GetShard copying into dst's array when it holds the
// answer, as the real agent client does (content.ShardReaderInto).
func (a *Agent) GetShardInto(ctx context.Context, hash string, off, n int64, dst []byte) ([]byte, error) {
	b, err := a.GetShard(ctx, hash, off, n)
	if err != nil || len(b) > cap(dst) {
		return b, err
	}
	return append(dst[:0], b...), nil
}

// DeleteShard removes a shard; deleting an absent one succeeds. The
// reference is recorded (Deletes).
func (a *Agent) DeleteShard(_ context.Context, ref content.ShardRef) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.down {
		return a.downErr()
	}
	a.deletes = append(a.deletes, ref)
	delete(a.shards, ref.Hash)
	return nil
}

// Deletes are the references of every DeleteShard the agent answered.
func (a *Agent) Deletes() []content.ShardRef {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.deletes)
}

// Free reports the capacity not used or reserved.
func (a *Agent) Free(context.Context) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.down {
		return 0, a.downErr()
	}
	return a.capacity - a.used(), nil
}
