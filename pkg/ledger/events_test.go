package ledger

import (
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-gateway/pkg/client"
)

func TestEventsOptions(t *testing.T) {
	ev := ManifestEvent{ManifestEvent: records.ManifestEvent{Name: "feeds/q.json", Version: "3", Kind: records.EventRecord, TxID: "tx9"}, Block: 42}
	tests := []struct {
		name      string
		opts      []EventsOption
		after     Checkpoint
		fromBlock int64 // -1: unset
		desc      string
	}{
		{"default: next block", nil, Checkpoint{}, -1, "next block"},
		{"resume after an event", []EventsOption{ResumeAfter(ev.After())}, Checkpoint{Block: 42, TxID: "tx9"}, -1, "block 42 after tx tx9"},
		{"from block 0", []EventsOption{FromBlock(0)}, Checkpoint{}, 0, "next block"},
		{"zero checkpoint keeps the default", []EventsOption{ResumeAfter(Checkpoint{})}, Checkpoint{}, -1, "next block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var o EventsOptions
			o.Apply(tt.opts...)
			if o.After != tt.after || o.After.String() != tt.desc {
				t.Fatalf("after = %+v (%s), want %+v (%s)", o.After, o.After, tt.after, tt.desc)
			}
			if (o.FromBlock == nil) != (tt.fromBlock < 0) || (o.FromBlock != nil && int64(*o.FromBlock) != tt.fromBlock) {
				t.Fatalf("from block = %v, want %d", o.FromBlock, tt.fromBlock)
			}
			if o.After.BlockNumber() != tt.after.Block || o.After.TransactionID() != tt.after.TxID {
				t.Fatal("not a client checkpoint of the same position")
			}
		})
	}
}

func TestDecodeSLAEvent(t *testing.T) {
	payload := []byte(`{"epoch":7,"attestations":3,"ignored":0,"nodes":["n1-orga"],"skipped":[],"scoredAt":"2026-01-01T00:00:00Z","txId":"tx7"}`)
	tests := []struct {
		name string
		ev   client.ChaincodeEvent
		ok   bool
	}{
		{"a scored epoch", client.ChaincodeEvent{BlockNumber: 12, TransactionID: "tx7", EventName: records.SLAEventName, Payload: payload}, true},
		{"another transaction's payload", client.ChaincodeEvent{BlockNumber: 12, TransactionID: "tx8", EventName: records.SLAEventName, Payload: payload}, false},
		{"not JSON", client.ChaincodeEvent{BlockNumber: 12, TransactionID: "tx7", Payload: []byte("{")}, false},
		{"negative epoch", client.ChaincodeEvent{TransactionID: "tx7", Payload: []byte(`{"epoch":-1,"txId":"tx7"}`)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, ok := decodeSLAEvent(&tt.ev)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && (ev.Epoch != 7 || len(ev.Nodes) != 1 || ev.After() != (Checkpoint{Block: 12, TxID: "tx7"})) {
				t.Fatalf("decoded %+v", ev)
			}
		})
	}
}
