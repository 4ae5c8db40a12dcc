package ledger

import (
	"testing"

	"github.com/dct-network/dct/chaincode/records"
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
