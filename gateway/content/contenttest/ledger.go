package contenttest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
)

var _ content.Ledger = (*Ledger)(nil)

// Ledger is an in-memory DCT chaincode as seen through one organisation's
// gateway: each write is checked as the chaincode checks it and committed
// at once with the next transaction id. AsMSP gives another
// organisation's view of the same state.
type Ledger struct {
	msp string
	st  *ledgerState
}

type ledgerState struct {
	mu        sync.Mutex
	nodes     []*records.Node
	manifests map[string]*records.Manifest
	objects   map[string]*records.Object
	tx        int
	updates   int
	recordErr []error
	ev        eventLog
}

// epoch is the timestamp of the first transaction; each further one is a
// second later.
var epoch = time.Date(2026, 11, 25, 7, 0, 0, 0, time.UTC)

// NewLedger returns an empty ledger seen by msp with nodeCount active edge
// nodes n0, n1, … owned by msp, alternating between zones z0 and z1.
func NewLedger(msp string, nodeCount int) *Ledger {
	st := &ledgerState{manifests: map[string]*records.Manifest{}, objects: map[string]*records.Object{}}
	for i := range nodeCount {
		st.nodes = append(st.nodes, &records.Node{ID: fmt.Sprintf("n%d", i), Org: msp, Zone: fmt.Sprintf("z%d", i%2),
			Endpoint: fmt.Sprintf("127.0.0.1:%d", 9000+i), Status: records.NodeStatusActive})
	}
	return &Ledger{msp: msp, st: st}
}

// AsMSP returns the same ledger seen by another organisation.
func (l *Ledger) AsMSP(msp string) *Ledger { return &Ledger{msp: msp, st: l.st} }

// MSPID is the organisation the ledger is seen by.
func (l *Ledger) MSPID() string { return l.msp }

// Tamper changes a recorded manifest in place, as a member writing
// nonsense (or a bug) could: the gateway must not trust it blindly.
func (l *Ledger) Tamper(name, version string, change func(m *records.Manifest)) {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	if m, ok := l.st.manifests[name+"@"+version]; ok {
		change(m)
	}
}

// FailRecords makes the next RecordManifest calls fail with errs, one each
// (for example records.Errorf(records.CodeConflict, …) or an error
// wrapping ledger.ErrUnavailable), before any check.
func (l *Ledger) FailRecords(errs ...error) {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	l.st.recordErr = append(l.st.recordErr, errs...)
}

// Updates counts the committed UpdateShardHolders transactions.
func (l *Ledger) Updates() int {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	return l.st.updates
}

// ManifestCount is the number of recorded manifests, purged ones included.
func (l *Ledger) ManifestCount() int {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	return len(l.st.manifests)
}

// SetNodeStatus changes a node's status (records.NodeStatusActive or
// records.NodeStatusInactive).
func (l *Ledger) SetNodeStatus(id string, status records.NodeStatus) {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	for i, n := range l.st.nodes {
		if n.ID == id {
			c := *n
			c.Status = status
			l.st.nodes[i] = &c
		}
	}
}

// clone returns a deep copy, as a read through the peer would.
func clone[T any](v *T) *T {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	out := new(T)
	if err := json.Unmarshal(b, out); err != nil {
		panic(err)
	}
	return out
}

// commit returns the next transaction's id and timestamp; st.mu is held.
func (st *ledgerState) commit() (string, string) {
	st.tx++
	return fmt.Sprintf("tx%d", st.tx), records.FormatTimestamp(epoch.Add(time.Duration(st.tx) * time.Second))
}

func (st *ledgerState) node(id string) (*records.Node, bool) {
	for _, n := range st.nodes {
		if n.ID == id {
			return n, true
		}
	}
	return nil, false
}

// checkNodes requires every id to be a registered, active node.
func (st *ledgerState) checkNodes(ids []string, what string) error {
	for _, id := range ids {
		n, ok := st.node(id)
		if !ok {
			return records.Errorf(records.CodeNotFound, "node %s named by the %s is not registered", id, what)
		}
		if !n.Active() {
			return records.Errorf(records.CodeFailedPrecondition, "node %s named by the %s is inactive", id, what)
		}
	}
	return nil
}

func (st *ledgerState) manifest(name, version string) (*records.Manifest, error) {
	if _, err := records.ManifestKey(name, version); err != nil {
		return nil, err
	}
	m, ok := st.manifests[name+"@"+version]
	if !ok {
		return nil, records.Errorf(records.CodeNotFound, "manifest %s@%s does not exist", name, version)
	}
	return m, nil
}

func (st *ledgerState) object(name string) (*records.Object, error) {
	if err := records.ValidateObjectName(name); err != nil {
		return nil, err
	}
	o, ok := st.objects[name]
	if !ok {
		return nil, records.Errorf(records.CodeNotFound, "object %s does not exist", name)
	}
	return o, nil
}

// Object is manifest:Object.
func (l *Ledger) Object(_ context.Context, name string) (*records.Object, error) {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	o, err := l.st.object(name)
	if err != nil {
		return nil, err
	}
	return clone(o), nil
}

// GetManifest is manifest:Get.
func (l *Ledger) GetManifest(_ context.Context, name, version string) (*records.Manifest, error) {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	m, err := l.st.manifest(name, version)
	if err != nil {
		return nil, err
	}
	return clone(m), nil
}

// LatestManifest is manifest:Latest: the newest version not purged.
func (l *Ledger) LatestManifest(_ context.Context, name string) (*records.Manifest, error) {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	o, err := l.st.object(name)
	if err != nil {
		return nil, err
	}
	if o.Latest == "" {
		return nil, records.Errorf(records.CodeNotFound, "object %s has no version that is not purged", name)
	}
	m, err := l.st.manifest(name, o.Latest)
	if err != nil {
		return nil, err
	}
	return clone(m), nil
}

// ManifestVersions is manifest:Versions, oldest first.
func (l *Ledger) ManifestVersions(_ context.Context, name string) ([]*records.Manifest, error) {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	o, err := l.st.object(name)
	if err != nil {
		return nil, err
	}
	out := make([]*records.Manifest, 0, len(o.Versions))
	for _, v := range o.Versions {
		m, err := l.st.manifest(name, v)
		if err != nil {
			return nil, records.Errorf(records.CodeInternal, "object %s lists version %s without a manifest", name, v)
		}
		out = append(out, clone(m))
	}
	return out, nil
}

// RecordManifest is manifest:Record: the manifest becomes the object's
// latest version; only the organisation that published the name first may
// add versions.
func (l *Ledger) RecordManifest(_ context.Context, m *records.Manifest) (*records.Manifest, error) {
	st := l.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if len(st.recordErr) > 0 {
		err := st.recordErr[0]
		st.recordErr = st.recordErr[1:]
		return nil, err
	}
	if m.Publisher != "" || m.TxID != "" || m.CreatedAt != "" || m.Purged != nil {
		return nil, records.Errorf(records.CodeInvalid, "publisher, txId, createdAt and purged are set by the chaincode")
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	key := m.Name + "@" + m.Version
	if _, ok := st.manifests[key]; ok {
		return nil, records.Errorf(records.CodeConflict, "manifest %s is already recorded", key)
	}
	if err := st.checkNodes(m.NodeIDs(), "shards"); err != nil {
		return nil, err
	}
	o, ok := st.objects[m.Name]
	if !ok {
		o = &records.Object{Name: m.Name, Owner: l.msp}
	}
	if o.Owner != l.msp {
		return nil, records.Errorf(records.CodeForbidden, "object %s belongs to %s; %s may not publish versions of it", m.Name, o.Owner, l.msp)
	}
	if o.HasVersion(m.Version) {
		return nil, records.Errorf(records.CodeConflict, "object %s already lists version %s", m.Name, m.Version)
	}
	c := clone(m)
	c.Publisher = l.msp
	c.TxID, c.CreatedAt = st.commit()
	o.Versions = append(o.Versions, c.Version)
	o.Latest = c.Version
	o.UpdatedAt = c.CreatedAt
	st.manifests[key] = c
	st.objects[m.Name] = o
	st.emit(c.Name, c.Version, records.EventRecord, c.TxID)
	return clone(c), nil
}

// PurgeManifest is manifest:Purge: a tombstone by the publishing
// organisation; a version is purged once.
func (l *Ledger) PurgeManifest(_ context.Context, name, version, reason string) (*records.Manifest, error) {
	st := l.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := records.ValidatePurgeReason(reason); err != nil {
		return nil, err
	}
	m, err := st.manifest(name, version)
	if err != nil {
		return nil, err
	}
	if m.Publisher != l.msp {
		return nil, records.Errorf(records.CodeForbidden, "manifest %s@%s was published by %s; %s may not purge it", name, version, m.Publisher, l.msp)
	}
	if m.Purged != nil {
		return nil, records.Errorf(records.CodeFailedPrecondition, "manifest %s@%s is already purged", name, version)
	}
	o := st.objects[name]
	txID, at := st.commit()
	c := clone(m)
	c.Purged = &records.Tombstone{Reason: reason, At: at, By: l.msp, TxID: txID}
	st.manifests[name+"@"+version] = c
	o.Latest = ""
	for _, v := range o.Versions {
		if st.manifests[name+"@"+v].Purged == nil {
			o.Latest = v
		}
	}
	o.UpdatedAt = at
	st.emit(name, version, records.EventPurge, txID)
	return clone(c), nil
}

// PurgeBy is manifest:PurgeBy: a purge by surrogate key (hard: tombstones
// the caller's live versions tagged with it; soft: changes none) or a soft
// purge by name, announced in one invalidate event.
func (l *Ledger) PurgeBy(_ context.Context, req records.PurgeRequest) (*records.PurgeRecord, error) {
	st := l.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := req.Validate(); err != nil {
		return nil, err
	}
	var targets []string
	if req.Key != "" {
		for key, m := range st.manifests {
			if m.Publisher == l.msp && m.Purged == nil && m.HasKey(req.Key) {
				targets = append(targets, key)
			}
		}
		if len(targets) == 0 {
			return nil, records.Errorf(records.CodeNotFound, "surrogate key %q tags no live version of %s", req.Key, l.msp)
		}
		if len(targets) > records.MaxPurgeTargets {
			return nil, records.Errorf(records.CodeFailedPrecondition, "surrogate key %q tags more than %d live versions", req.Key, records.MaxPurgeTargets)
		}
	} else {
		o, err := st.object(req.Name)
		if err != nil {
			return nil, err
		}
		if o.Owner != l.msp {
			return nil, records.Errorf(records.CodeForbidden, "object %s belongs to %s; %s may not purge it", req.Name, o.Owner, l.msp)
		}
		for _, v := range o.Versions {
			if (req.Version == "" || v == req.Version) && st.manifests[req.Name+"@"+v].Purged == nil {
				targets = append(targets, req.Name+"@"+v)
			}
		}
		if len(targets) == 0 {
			return nil, records.Errorf(records.CodeFailedPrecondition, "object %s has no such live version", req.Name)
		}
	}
	sort.Strings(targets)
	txID, at := st.commit()
	if req.Mode == records.PurgeHard {
		for _, t := range targets {
			c := clone(st.manifests[t])
			c.Purged = &records.Tombstone{Reason: req.Reason, At: at, By: l.msp, TxID: txID}
			st.manifests[t] = c
			o := st.objects[c.Name]
			o.Latest = ""
			for _, v := range o.Versions {
				if st.manifests[c.Name+"@"+v].Purged == nil {
					o.Latest = v
				}
			}
			o.UpdatedAt = at
		}
	}
	st.emitEvent(records.ManifestEvent{Kind: records.EventInvalidate, TxID: txID, Mode: req.Mode, Targets: targets})
	return &records.PurgeRecord{Key: req.Key, Name: req.Name, Version: req.Version, Mode: req.Mode, Reason: req.Reason, Publisher: l.msp, Targets: targets, At: at, TxID: txID}, nil
}

// UpdateShardHolders is manifest:UpdateHolders, the compare-and-set of a
// shard's holders used by repairs.
func (l *Ledger) UpdateShardHolders(_ context.Context, name, version string, index int, expected, holders []string) (*records.Manifest, error) {
	st := l.st
	st.mu.Lock()
	defer st.mu.Unlock()
	m, err := st.manifest(name, version)
	if err != nil {
		return nil, err
	}
	if m.Purged != nil {
		return nil, records.Errorf(records.CodeFailedPrecondition, "manifest %s@%s is purged; its shards are no longer repaired", name, version)
	}
	if index < 0 || index >= len(m.Shards) {
		return nil, records.Errorf(records.CodeInvalid, "index %d is out of range: %s@%s has %d shards", index, name, version, len(m.Shards))
	}
	same := func(a, b []string) bool {
		return slices.Equal(slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b)))
	}
	if !same(m.Shards[index].Nodes, expected) {
		return nil, records.Errorf(records.CodeConflict, "the holders of shard %d of %s@%s changed: they are %v, not the expected %v", index, name, version, m.Shards[index].Nodes, expected)
	}
	if same(m.Shards[index].Nodes, holders) {
		return nil, records.Errorf(records.CodeInvalid, "holders %v are already the holders of shard %d", holders, index)
	}
	if err := st.checkNodes(holders, "holders"); err != nil {
		return nil, err
	}
	c := clone(m)
	c.Shards[index].Nodes = slices.Clone(holders)
	c.UpdateTxID, c.UpdatedAt = st.commit()
	c.UpdatedBy = l.msp
	st.manifests[name+"@"+version] = c
	st.updates++
	st.emit(name, version, records.EventHolders, c.UpdateTxID)
	return clone(c), nil
}

// ListObjects is manifest:List, by name.
func (l *Ledger) ListObjects(context.Context) ([]*records.Object, error) {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	out := make([]*records.Object, 0, len(l.st.objects))
	for _, o := range l.st.objects {
		out = append(out, clone(o))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ListNodes is node:List.
func (l *Ledger) ListNodes(context.Context) ([]*records.Node, error) {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	out := make([]*records.Node, 0, len(l.st.nodes))
	for _, n := range l.st.nodes {
		out = append(out, clone(n))
	}
	return out, nil
}
