package fakes

import (
	"slices"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/cid"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
)

func TestCompositeKeysMatchShimAndRecords(t *testing.T) {
	stub := NewLedger().NewStub()
	tests := []struct {
		typ   string
		attrs []string
		rec   func() (string, error)
	}{
		{records.NodeKeyType, []string{"edge-1"}, func() (string, error) { return records.NodeKey("edge-1") }},
		{records.ManifestKeyType, []string{"a/b", "v1"}, func() (string, error) { return records.ManifestKey("a/b", "v1") }},
		{records.ObjectKeyType, []string{"a/b"}, func() (string, error) { return records.ObjectKey("a/b") }},
	}
	for _, tt := range tests {
		want, err := shim.CreateCompositeKey(tt.typ, tt.attrs)
		if err != nil {
			t.Fatal(err)
		}
		got, err := stub.CreateCompositeKey(tt.typ, tt.attrs)
		if err != nil || got != want {
			t.Errorf("stub key %q, want %q (%v)", got, want, err)
		}
		rec, err := tt.rec()
		if err != nil || rec != want {
			t.Errorf("records key %q, want %q (%v)", rec, want, err)
		}
		typ, attrs, err := stub.SplitCompositeKey(want)
		if err != nil || typ != tt.typ || !slices.Equal(attrs, tt.attrs) {
			t.Errorf("split %q %q %v", typ, attrs, err)
		}
	}
}

func TestWriteSetSemantics(t *testing.T) {
	l := NewLedger()
	s1 := l.NewStub()
	if err := s1.PutState("k", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	if v, _ := s1.GetState("k"); v != nil {
		t.Fatalf("transaction reads its own uncommitted write: %q", v)
	}
	if _, ok := l.Get("k"); ok {
		t.Fatal("write visible before commit")
	}
	s1.Commit()
	if v, _ := l.Get("k"); string(v) != "v1" {
		t.Fatalf("after commit: %q", v)
	}
	if err := s1.PutState("k", []byte("again")); err == nil {
		t.Fatal("write after commit accepted")
	}

	s2 := l.NewStub()
	_ = s2.PutState("k", []byte("v2"))
	_ = s2.PutState("k", []byte("v3")) // last write wins
	s2.Commit()
	s3 := l.NewStub()
	_ = s3.DelState("k")
	s3.Commit()
	s4 := l.NewStub()
	if v, _ := s4.GetState("k"); v != nil {
		t.Fatalf("deleted key reads %q", v)
	}
	s4.Commit() // empty write set: no history

	it, err := s4.GetHistoryForKey("k")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for it.HasNext() {
		m, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, m.GetTxId()+"="+string(m.GetValue()))
		if m.GetIsDelete() != (m.GetTxId() == s3.GetTxID()) {
			t.Errorf("isDelete wrong for %s", m.GetTxId())
		}
	}
	want := []string{s3.GetTxID() + "=", s2.GetTxID() + "=v3", s1.GetTxID() + "=v1"} // newest first
	if !slices.Equal(got, want) {
		t.Errorf("history %q, want %q", got, want)
	}
	if !s2.TxTime().After(s1.TxTime()) {
		t.Error("timestamps do not increase")
	}
}

func TestPartialCompositeKeyIsSorted(t *testing.T) {
	l := NewLedger()
	s := l.NewStub()
	for _, id := range []string{"b", "a-b", "a", "c"} {
		k, _ := s.CreateCompositeKey("dct.node", []string{id})
		_ = s.PutState(k, []byte(id))
	}
	other, _ := s.CreateCompositeKey("dct.nodex", []string{"z"})
	_ = s.PutState(other, []byte("z"))
	_ = s.PutState("plain", []byte("p"))
	s.Commit()
	it, err := l.NewStub().GetStateByPartialCompositeKey("dct.node", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for it.HasNext() {
		kv, _ := it.Next()
		got = append(got, string(kv.Value))
	}
	if want := []string{"a", "a-b", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestCreatorIsAcceptedByCid(t *testing.T) {
	creator, err := Creator("Org9MSP")
	if err != nil {
		t.Fatal(err)
	}
	s := NewLedger().NewStub()
	s.Creator = creator
	ci, err := cid.New(s)
	if err != nil {
		t.Fatal(err)
	}
	if msp, _ := ci.GetMSPID(); msp != "Org9MSP" {
		t.Errorf("MSP ID %q", msp)
	}
}
