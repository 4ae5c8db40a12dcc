package fakes

import (
	"crypto/x509"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// DefaultStart is the timestamp of the first transaction of a new Ledger.
var DefaultStart = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// Ledger is an in-memory world state with the history of every committed
// write. The zero value is not usable; call NewLedger.
type Ledger struct {
	mu    sync.Mutex
	state map[string][]byte
	// vparams are the committed key-level endorsement policies.
	vparams map[string][]byte
	// admins are the organisations' admin certificates (NewContext).
	admins  map[string]*x509.Certificate
	history map[string][]*queryresult.KeyModification // oldest first
	seq     int
	start   time.Time
	events  []Event
}

// Event is a chaincode event a committed transaction emitted.
type Event struct {
	TxID    string
	Name    string
	Payload []byte
}

func (l *Ledger) emit(e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

// Events are the chaincode events of the committed transactions, in commit
// order.
func (l *Ledger) Events() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// NewLedger returns an empty ledger whose transactions are stamped from
// DefaultStart on, one second and one millisecond apart.
func NewLedger() *Ledger {
	return &Ledger{
		state:   make(map[string][]byte),
		vparams: make(map[string][]byte),
		admins:  make(map[string]*x509.Certificate),
		history: make(map[string][]*queryresult.KeyModification),
		start:   DefaultStart,
	}
}

// next allocates the id and timestamp of a new transaction.
func (l *Ledger) next() (string, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	ts := l.start.Add(time.Duration(l.seq) * (time.Second + time.Millisecond))
	return fmt.Sprintf("tx%04d", l.seq), ts
}

// Advance moves the clock of the following transactions forward by d.
func (l *Ledger) Advance(d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.start = l.start.Add(d)
}

// Now returns the timestamp the next transaction will have.
func (l *Ledger) Now() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.start.Add(time.Duration(l.seq+1) * (time.Second + time.Millisecond))
}

// NewStub starts a transaction: a stub with a fresh transaction id and
// timestamp and an empty write set.
func (l *Ledger) NewStub() *Stub {
	id, ts := l.next()
	return &Stub{ledger: l, txID: id, ts: ts, writes: make(map[string]write), vpWrites: make(map[string][]byte)}
}

// NewContext starts a transaction submitted by the admin of mspID (a
// certificate with the NodeOU "admin", the same one for every transaction
// of the organisation).
func (l *Ledger) NewContext(mspID string) *Context {
	return l.NewContextAs(mspID, l.AdminCert(mspID))
}

// AdminCert returns the admin certificate of mspID, made on first use.
func (l *Ledger) AdminCert(mspID string) *x509.Certificate {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.admins[mspID]; ok {
		return c
	}
	c, _, err := NewCert(mspID, "Admin@"+mspID, "admin")
	if err != nil {
		panic("fakes: " + err.Error())
	}
	l.admins[mspID] = c
	return c
}

// ValidationParameter returns the committed key-level endorsement policy
// of key (nil: none).
func (l *Ledger) ValidationParameter(key string) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.vparams[key])
}

// NewContextAs starts a transaction of the member of mspID holding cert.
func (l *Ledger) NewContextAs(mspID string, cert *x509.Certificate) *Context {
	return &Context{Stub: l.NewStub(), Identity: &Identity{MSPID: mspID, Cert: cert}}
}

// Get returns the committed value of key.
func (l *Ledger) Get(key string) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	v, ok := l.state[key]
	return slices.Clone(v), ok
}

// Snapshot returns a copy of the committed state, as strings for easy
// comparison.
func (l *Ledger) Snapshot() map[string]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]string, len(l.state))
	for k, v := range l.state {
		out[k] = string(v)
	}
	for k, v := range l.vparams {
		out["validation parameter of "+k] = string(v)
	}
	return out
}

// Keys returns the committed keys, sorted.
func (l *Ledger) Keys() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Sorted(maps.Keys(l.state))
}

// HistoryLen returns the number of committed writes of key.
func (l *Ledger) HistoryLen(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.history[key])
}

// commit applies a write set atomically and appends it to the history.
func (l *Ledger) commit(txID string, ts time.Time, writes map[string]write, vpWrites map[string][]byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for key, ep := range vpWrites {
		l.vparams[key] = slices.Clone(ep)
	}
	for _, key := range slices.Sorted(maps.Keys(writes)) {
		w := writes[key]
		mod := &queryresult.KeyModification{
			TxId:      txID,
			Timestamp: timestamppb.New(ts),
			IsDelete:  w.delete,
		}
		if w.delete {
			delete(l.state, key)
		} else {
			l.state[key] = slices.Clone(w.value)
			mod.Value = slices.Clone(w.value)
		}
		l.history[key] = append(l.history[key], mod)
	}
}

// get reads committed state.
func (l *Ledger) get(key string) []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.state[key])
}

// rangeKV returns the committed pairs with startKey <= key < endKey, in key
// order.
func (l *Ledger) rangeKV(startKey, endKey string) []*queryresult.KV {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*queryresult.KV
	for _, k := range slices.Sorted(maps.Keys(l.state)) {
		if k >= startKey && k < endKey {
			out = append(out, &queryresult.KV{Key: k, Value: slices.Clone(l.state[k])})
		}
	}
	return out
}

// historyOf returns the committed writes of key newest first, the order of
// Fabric v2 peers.
func (l *Ledger) historyOf(key string) []*queryresult.KeyModification {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.history[key]
	out := make([]*queryresult.KeyModification, 0, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		m := h[i]
		out = append(out, &queryresult.KeyModification{
			TxId:      m.TxId,
			Value:     slices.Clone(m.Value),
			Timestamp: timestamppb.New(m.Timestamp.AsTime()),
			IsDelete:  m.IsDelete,
		})
	}
	return out
}
