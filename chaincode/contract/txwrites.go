package contract

import (
	"encoding/json"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"weak"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
)

// A Fabric transaction does not read its own writes: GetState returns the
// committed value. The token functions change several records that one
// transaction may touch more than once (the delivery contract may pay
// several batches in one transaction, to the same payee, from the same
// escrow, even the same ref twice), so they read through txWrites, the
// values the transaction itself wrote. They are kept per stub (the shim
// makes one per transaction simulation, so a proposal simulated again
// starts afresh) through a weak pointer, and dropped when the stub is
// garbage collected.
type txWrites struct {
	vals map[string][]byte // nil: deleted
}

var pending = struct {
	sync.Mutex
	m map[weak.Pointer[byte]]*txWrites
}{m: map[weak.Pointer[byte]]*txWrites{}}

// writesOf returns the writes of stub's transaction so far.
func writesOf(stub shim.ChaincodeStubInterface) *txWrites {
	rv := reflect.ValueOf(stub)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return &txWrites{vals: map[string][]byte{}} // not shared; cannot happen with the shim's stubs
	}
	ptr := (*byte)(rv.UnsafePointer())
	key := weak.Make(ptr)
	pending.Lock()
	defer pending.Unlock()
	if w, ok := pending.m[key]; ok {
		return w
	}
	w := &txWrites{vals: map[string][]byte{}}
	pending.m[key] = w
	runtime.AddCleanup(ptr, func(k weak.Pointer[byte]) {
		pending.Lock()
		delete(pending.m, k)
		pending.Unlock()
	}, key)
	return w
}

// pendingCount is the number of transactions whose writes are kept.
func pendingCount() int {
	pending.Lock()
	defer pending.Unlock()
	return len(pending.m)
}

// getState reads key as the transaction sees it: its own write, else the
// committed value.
func (v *tokenView) getState(key string) ([]byte, error) {
	if val, ok := v.w.vals[key]; ok {
		return val, nil
	}
	return v.stub.GetState(key)
}

// getRec is getRecord through the transaction's own writes.
func getRec[T any](v *tokenView, key, what string) (*T, bool, error) {
	data, err := v.getState(key)
	if err != nil {
		return nil, false, internalf("cannot read %s: %v", what, err)
	}
	if data == nil {
		return nil, false, nil
	}
	rec := new(T)
	if err := json.Unmarshal(data, rec); err != nil {
		return nil, false, internalf("stored %s is corrupt: %v", what, err)
	}
	return rec, true, nil
}

// put is putRecord, remembered for the transaction's later reads.
func (v *tokenView) put(key, what string, rec any) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return internalf("cannot encode %s: %v", what, err)
	}
	if err := v.stub.PutState(key, data); err != nil {
		return internalf("cannot write %s: %v", what, err)
	}
	v.w.vals[key] = data
	return nil
}

// del deletes key, remembered for the transaction's later reads.
func (v *tokenView) del(key, what string) error {
	if err := v.stub.DelState(key); err != nil {
		return internalf("cannot delete %s: %v", what, err)
	}
	v.w.vals[key] = nil
	return nil
}

// listState returns the pairs of objectType under attrs, committed or
// written by the transaction, without its deletions, in key order.
func (v *tokenView) listState(objectType string, attrs ...string) ([]string, [][]byte, error) {
	prefix, err := compositeKey(v.stub, objectType, attrs...)
	if err != nil {
		return nil, nil, err
	}
	it, err := v.stub.GetStateByPartialCompositeKey(objectType, attrs)
	if err != nil {
		return nil, nil, internalf("cannot list %s records: %v", objectType, err)
	}
	defer it.Close()
	vals := map[string][]byte{}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, nil, internalf("cannot list %s records: %v", objectType, err)
		}
		vals[kv.Key] = kv.Value
	}
	for k, val := range v.w.vals {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if val == nil {
			delete(vals, k)
		} else {
			vals[k] = val
		}
	}
	keys := make([]string, 0, len(vals))
	for k := range vals {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([][]byte, len(keys))
	for i, k := range keys {
		out[i] = vals[k]
	}
	return keys, out, nil
}
