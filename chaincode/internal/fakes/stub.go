package fakes

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-protos-go-apiv2/ledger/queryresult"
	"google.golang.org/protobuf/types/known/timestamppb"
)

type write struct {
	value  []byte
	delete bool
}

// Stub is a fake shim.ChaincodeStubInterface for one transaction. The
// embedded interface is nil: calling a method that Stub does not implement
// panics.
type Stub struct {
	shim.ChaincodeStubInterface

	ledger    *Ledger
	txID      string
	ts        time.Time
	writes    map[string]write
	vpWrites  map[string][]byte
	event     *Event
	committed bool

	// Args are the invocation arguments (function name first), returned by
	// GetArgs, GetStringArgs and GetFunctionAndParameters.
	Args []string
	// Creator is returned by GetCreator (a serialized msp.SerializedIdentity
	// on a real peer; see Creator).
	Creator []byte
}

var _ shim.ChaincodeStubInterface = (*Stub)(nil)

// TxTime returns the transaction timestamp.
func (s *Stub) TxTime() time.Time { return s.ts }

// Writes returns the keys written (put or deleted) by the transaction so far,
// sorted.
// Key-level endorsement policies set by the transaction appear as
// "validation parameter of " + key.
func (s *Stub) Writes() []string {
	out := slices.Collect(maps.Keys(s.writes))
	for k := range s.vpWrites {
		out = append(out, "validation parameter of "+k)
	}
	slices.Sort(out)
	return out
}

// SetStateValidationParameter implements shim.ChaincodeStubInterface: the
// key-level endorsement policy of key, applied at commit.
func (s *Stub) SetStateValidationParameter(key string, ep []byte) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if key == "" {
		return errors.New("key must not be empty")
	}
	s.vpWrites[key] = slices.Clone(ep)
	return nil
}

// GetStateValidationParameter implements shim.ChaincodeStubInterface: the
// committed policy (a peer does not show a transaction its own writes).
func (s *Stub) GetStateValidationParameter(key string) ([]byte, error) {
	if err := s.checkOpen(); err != nil {
		return nil, err
	}
	return s.ledger.ValidationParameter(key), nil
}

// SetEvent implements shim.ChaincodeStubInterface like a peer: one event
// per transaction (a later call replaces the earlier), a name is required,
// and the event is emitted only when the transaction commits.
func (s *Stub) SetEvent(name string, payload []byte) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if name == "" {
		return errors.New("event name can not be empty string")
	}
	s.event = &Event{TxID: s.txID, Name: name, Payload: slices.Clone(payload)}
	return nil
}

// Event is the event the transaction set so far (nil: none).
func (s *Stub) Event() *Event { return s.event }

// Commit applies the write set to the ledger and records it in the history
// of each written key. A transaction can be committed once.
func (s *Stub) Commit() {
	if s.committed {
		panic("fakes: transaction " + s.txID + " committed twice")
	}
	s.committed = true
	s.ledger.commit(s.txID, s.ts, s.writes, s.vpWrites)
	if s.event != nil {
		s.ledger.emit(*s.event)
	}
}

// GetTxID implements shim.ChaincodeStubInterface.
func (s *Stub) GetTxID() string { return s.txID }

// GetChannelID implements shim.ChaincodeStubInterface.
func (s *Stub) GetChannelID() string { return "dct" }

// GetTxTimestamp implements shim.ChaincodeStubInterface.
func (s *Stub) GetTxTimestamp() (*timestamppb.Timestamp, error) {
	return timestamppb.New(s.ts), nil
}

// GetArgs implements shim.ChaincodeStubInterface.
func (s *Stub) GetArgs() [][]byte {
	out := make([][]byte, len(s.Args))
	for i, a := range s.Args {
		out[i] = []byte(a)
	}
	return out
}

// GetStringArgs implements shim.ChaincodeStubInterface.
func (s *Stub) GetStringArgs() []string { return slices.Clone(s.Args) }

// GetFunctionAndParameters implements shim.ChaincodeStubInterface.
func (s *Stub) GetFunctionAndParameters() (string, []string) {
	if len(s.Args) == 0 {
		return "", []string{}
	}
	return s.Args[0], slices.Clone(s.Args[1:])
}

// GetCreator implements shim.ChaincodeStubInterface.
func (s *Stub) GetCreator() ([]byte, error) {
	if s.Creator == nil {
		return nil, errors.New("fakes: no creator set")
	}
	return slices.Clone(s.Creator), nil
}

func (s *Stub) checkOpen() error {
	if s.committed {
		return errors.New("fakes: transaction " + s.txID + " is already committed")
	}
	return nil
}

// validateSimpleKey refuses what a peer refuses for a plain state key.
func validateKey(key string) error {
	if key == "" {
		return errors.New("key must not be an empty string")
	}
	if !utf8.ValidString(key) {
		return fmt.Errorf("key %q is not valid UTF-8", key)
	}
	return nil
}

// GetState implements shim.ChaincodeStubInterface. It reads committed state
// only: like a peer, it does not return the transaction's own writes.
func (s *Stub) GetState(key string) ([]byte, error) {
	if err := validateKey(key); err != nil {
		return nil, err
	}
	v := s.ledger.get(key)
	if v == nil {
		return nil, nil
	}
	return v, nil
}

// PutState implements shim.ChaincodeStubInterface.
func (s *Stub) PutState(key string, value []byte) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := validateKey(key); err != nil {
		return err
	}
	if len(value) == 0 {
		return fmt.Errorf("fakes: refusing to put an empty value for key %q", key)
	}
	s.writes[key] = write{value: slices.Clone(value)}
	return nil
}

// DelState implements shim.ChaincodeStubInterface.
func (s *Stub) DelState(key string) error {
	if err := s.checkOpen(); err != nil {
		return err
	}
	if err := validateKey(key); err != nil {
		return err
	}
	s.writes[key] = write{delete: true}
	return nil
}

// CreateCompositeKey implements shim.ChaincodeStubInterface with the shim's
// own encoding.
func (s *Stub) CreateCompositeKey(objectType string, attributes []string) (string, error) {
	return shim.CreateCompositeKey(objectType, attributes)
}

// SplitCompositeKey implements shim.ChaincodeStubInterface with the shim's
// own decoding.
func (s *Stub) SplitCompositeKey(compositeKey string) (string, []string, error) {
	return new(shim.ChaincodeStub).SplitCompositeKey(compositeKey)
}

// GetStateByPartialCompositeKey implements shim.ChaincodeStubInterface:
// the committed pairs whose key starts with the partial key, in key order.
func (s *Stub) GetStateByPartialCompositeKey(objectType string, keys []string) (shim.StateQueryIteratorInterface, error) {
	prefix, err := shim.CreateCompositeKey(objectType, keys)
	if err != nil {
		return nil, err
	}
	return &kvIterator{items: s.ledger.rangeKV(prefix, prefix+string(utf8.MaxRune))}, nil
}

// GetHistoryForKey implements shim.ChaincodeStubInterface: the committed
// writes of key, newest first as on Fabric v2 peers.
func (s *Stub) GetHistoryForKey(key string) (shim.HistoryQueryIteratorInterface, error) {
	if err := validateKey(key); err != nil {
		return nil, err
	}
	return &historyIterator{items: s.ledger.historyOf(key)}, nil
}

type kvIterator struct {
	items  []*queryresult.KV
	closed bool
}

func (it *kvIterator) HasNext() bool { return !it.closed && len(it.items) > 0 }

func (it *kvIterator) Next() (*queryresult.KV, error) {
	if !it.HasNext() {
		return nil, errors.New("fakes: iterator exhausted or closed")
	}
	kv := it.items[0]
	it.items = it.items[1:]
	return kv, nil
}

func (it *kvIterator) Close() error { it.closed = true; return nil }

type historyIterator struct {
	items  []*queryresult.KeyModification
	closed bool
}

func (it *historyIterator) HasNext() bool { return !it.closed && len(it.items) > 0 }

func (it *historyIterator) Next() (*queryresult.KeyModification, error) {
	if !it.HasNext() {
		return nil, errors.New("fakes: iterator exhausted or closed")
	}
	m := it.items[0]
	it.items = it.items[1:]
	return m, nil
}

func (it *historyIterator) Close() error { it.closed = true; return nil }
