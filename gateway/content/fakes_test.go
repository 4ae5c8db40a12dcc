package content

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// fakeLedger is an in-memory DCT chaincode with the real records'
// validation.
type fakeLedger struct {
	mu        sync.Mutex
	msp       string
	nodes     []*records.Node
	manifests map[string]*records.Manifest
	objects   map[string]*records.Object
	tx        int
	// updates counts successful UpdateShardHolders calls.
	updates int
	// recordErr, when set, is returned by the next RecordManifest calls.
	recordErr []error
}

func newFakeLedger(msp string, nodeCount int) *fakeLedger {
	l := &fakeLedger{msp: msp, manifests: map[string]*records.Manifest{}, objects: map[string]*records.Object{}}
	for i := 0; i < nodeCount; i++ {
		l.nodes = append(l.nodes, &records.Node{ID: fmt.Sprintf("n%d", i), Org: msp, Zone: fmt.Sprintf("z%d", i%2),
			Endpoint: fmt.Sprintf("127.0.0.1:%d", 9000+i), Status: records.NodeStatusActive})
	}
	return l
}

func (l *fakeLedger) MSPID() string { return l.msp }

func (l *fakeLedger) Object(_ context.Context, name string) (*records.Object, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	o, ok := l.objects[name]
	if !ok {
		return nil, records.Errorf(records.CodeNotFound, "object %s", name)
	}
	c := *o
	c.Versions = append([]string(nil), o.Versions...)
	return &c, nil
}

func (l *fakeLedger) GetManifest(_ context.Context, name, version string) (*records.Manifest, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, ok := l.manifests[name+"@"+version]
	if !ok {
		return nil, records.Errorf(records.CodeNotFound, "manifest %s@%s", name, version)
	}
	return m, nil
}

func (l *fakeLedger) LatestManifest(ctx context.Context, name string) (*records.Manifest, error) {
	o, err := l.Object(ctx, name)
	if err != nil {
		return nil, err
	}
	if o.Latest == "" {
		return nil, records.Errorf(records.CodeNotFound, "all purged")
	}
	return l.GetManifest(ctx, name, o.Latest)
}

func (l *fakeLedger) ManifestVersions(ctx context.Context, name string) ([]*records.Manifest, error) {
	o, err := l.Object(ctx, name)
	if err != nil {
		return nil, err
	}
	var out []*records.Manifest
	for _, v := range o.Versions {
		m, _ := l.GetManifest(ctx, name, v)
		out = append(out, m)
	}
	return out, nil
}

func (l *fakeLedger) RecordManifest(_ context.Context, m *records.Manifest) (*records.Manifest, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.recordErr) > 0 {
		err := l.recordErr[0]
		l.recordErr = l.recordErr[1:]
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	key := m.Name + "@" + m.Version
	if _, ok := l.manifests[key]; ok {
		return nil, records.Errorf(records.CodeConflict, "%s exists", key)
	}
	l.tx++
	c := *m
	c.Publisher, c.TxID, c.CreatedAt = l.msp, fmt.Sprintf("tx%d", l.tx), "2026-11-25T00:00:00Z"
	l.manifests[key] = &c
	o, ok := l.objects[m.Name]
	if !ok {
		o = &records.Object{Name: m.Name, Owner: l.msp}
		l.objects[m.Name] = o
	}
	o.Versions = append(o.Versions, m.Version)
	o.Latest = m.Version
	return &c, nil
}

func (l *fakeLedger) PurgeManifest(_ context.Context, name, version, reason string) (*records.Manifest, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, ok := l.manifests[name+"@"+version]
	if !ok {
		return nil, records.Errorf(records.CodeNotFound, "no %s@%s", name, version)
	}
	c := *m
	c.Purged = &records.Tombstone{Reason: reason, By: l.msp, TxID: "purge"}
	l.manifests[name+"@"+version] = &c
	o := l.objects[name]
	o.Latest = ""
	for _, v := range o.Versions {
		if l.manifests[name+"@"+v].Purged == nil {
			o.Latest = v
		}
	}
	return &c, nil
}

// UpdateShardHolders is the chaincode's compare-and-set of a shard's
// holders.
func (l *fakeLedger) UpdateShardHolders(_ context.Context, name, version string, index int, expected, holders []string) (*records.Manifest, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, ok := l.manifests[name+"@"+version]
	if !ok {
		return nil, records.Errorf(records.CodeNotFound, "no %s@%s", name, version)
	}
	cur := slices.Sorted(slices.Values(m.Shards[index].Nodes))
	if !slices.Equal(cur, slices.Sorted(slices.Values(expected))) {
		return nil, records.Errorf(records.CodeConflict, "holders of shard %d changed", index)
	}
	c := *m
	c.Shards = slices.Clone(m.Shards)
	c.Shards[index].Nodes = slices.Clone(holders)
	l.tx++
	c.UpdateTxID = fmt.Sprintf("update-%d", l.tx)
	l.manifests[name+"@"+version] = &c
	l.updates++
	return &c, nil
}

func (l *fakeLedger) ListObjects(context.Context) ([]*records.Object, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*records.Object
	for _, o := range l.objects {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (l *fakeLedger) ListNodes(context.Context) ([]*records.Node, error) { return l.nodes, nil }

// fakeAgents is a set of in-memory edge agents with fault injection.
type fakeAgents struct {
	mu     sync.Mutex
	agents map[string]*fakeAgent
}

func newFakeAgents(l *fakeLedger, capacity int64) *fakeAgents {
	fa := &fakeAgents{agents: map[string]*fakeAgent{}}
	for _, n := range l.nodes {
		fa.agents[n.ID] = &fakeAgent{id: n.ID, shards: map[string][]byte{}, capacity: capacity}
	}
	return fa
}

func (f *fakeAgents) Agent(n *records.Node) (Agent, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.agents[n.ID]
	if !ok {
		return nil, errors.New("unknown agent")
	}
	return a, nil
}

func (f *fakeAgents) get(id string) *fakeAgent { return f.agents[id] }

// shardCount is the number of shards stored across all agents.
func (f *fakeAgents) shardCount() int {
	n := 0
	for _, a := range f.agents {
		a.mu.Lock()
		n += len(a.shards)
		a.mu.Unlock()
	}
	return n
}

var errDown = errors.New("agent down")

type fakeAgent struct {
	mu       sync.Mutex
	id       string
	shards   map[string][]byte
	capacity int64
	down     bool
	failPuts bool
	// refuseUploads fails PutShard itself (Free still answers).
	refuseUploads bool
	gets          int
	getsByHash    map[string]int
	// delay holds every GetShard answer (a slow or hung agent).
	delay time.Duration
}

func (a *fakeAgent) setDown(d bool) { a.mu.Lock(); a.down = d; a.mu.Unlock() }

func (a *fakeAgent) corrupt() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range a.shards {
		if len(b) > 0 {
			b[len(b)/2] ^= 0xff
		}
	}
}

func (a *fakeAgent) PutShard(_ context.Context, size int64) (ShardWriter, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.down || a.refuseUploads {
		return nil, errDown
	}
	return &fakeWriter{a: a, size: size}, nil
}

type fakeWriter struct {
	a    *fakeAgent
	buf  bytes.Buffer
	size int64
}

func (w *fakeWriter) Write(p []byte) error {
	w.a.mu.Lock()
	defer w.a.mu.Unlock()
	if w.a.down || w.a.failPuts {
		return errDown
	}
	w.buf.Write(p)
	return nil
}

func (w *fakeWriter) Commit(hash string) error {
	w.a.mu.Lock()
	defer w.a.mu.Unlock()
	if w.a.down || w.a.failPuts {
		return errDown
	}
	sum := sha256.Sum256(w.buf.Bytes())
	if hex.EncodeToString(sum[:]) != hash || int64(w.buf.Len()) != w.size {
		return errors.New("hash or size mismatch")
	}
	w.a.shards[hash] = append([]byte(nil), w.buf.Bytes()...)
	return nil
}

func (w *fakeWriter) Abort() {}

func (a *fakeAgent) GetShard(ctx context.Context, hash string, off, n int64) ([]byte, error) {
	a.mu.Lock()
	a.gets++
	if a.getsByHash == nil {
		a.getsByHash = map[string]int{}
	}
	a.getsByHash[hash]++
	delay := a.delay
	a.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.down {
		return nil, errDown
	}
	b, ok := a.shards[hash]
	if !ok {
		return nil, errors.New("not found")
	}
	if n == 0 {
		n = int64(len(b)) - off
	}
	if off+n > int64(len(b)) {
		return nil, errors.New("out of range")
	}
	return append([]byte(nil), b[off:off+n]...), nil
}

func (a *fakeAgent) DeleteShard(_ context.Context, hash string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.down {
		return errDown
	}
	delete(a.shards, hash)
	return nil
}

func (a *fakeAgent) Free(context.Context) (int64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.down {
		return 0, errDown
	}
	used := int64(0)
	for _, b := range a.shards {
		used += int64(len(b))
	}
	return a.capacity - used, nil
}

// fakeTopology is a mesh view set by the test.
type fakeTopology struct {
	mu     sync.Mutex
	health map[string]Health
	rtt    map[string]time.Duration
}

func (f *fakeTopology) Node(id string) (Health, time.Duration, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h, ok := f.health[id]
	if !ok {
		h = HealthAlive
	}
	d, has := f.rtt[id]
	return h, d, has
}

func (a *fakeAgent) getsOf(hash string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.getsByHash[hash]
}
