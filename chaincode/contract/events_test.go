package contract

import (
	"reflect"
	"testing"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

// TestManifestEvents: every transaction that changes a manifest sets one
// dct.manifest event naming the version, the kind of change and the
// transaction; a refused call sets none.
func TestManifestEvents(t *testing.T) {
	tests := []struct {
		name string
		// call runs one transaction after obj@v1 was recorded by orgA.
		call    func(e *env, ctx *fakes.Context) error
		want    *records.ManifestEvent // nil: no event
		version string
	}{
		{name: "record", call: func(e *env, ctx *fakes.Context) error {
			_, err := e.man.Record(ctx, manifestJSON(e.t, "obj", "v2"))
			return err
		}, want: &records.ManifestEvent{Name: "obj", Version: "v2", Kind: records.EventRecord}},
		{name: "purge", call: func(e *env, ctx *fakes.Context) error {
			_, err := e.man.Purge(ctx, "obj", "v1", "withdrawn")
			return err
		}, want: &records.ManifestEvent{Name: "obj", Version: "v1", Kind: records.EventPurge}},
		{name: "update holders", call: func(e *env, ctx *fakes.Context) error {
			_, err := e.man.UpdateHolders(ctx, "obj", "v1", "1", idsJSON("n2-orga"), idsJSON("n4-orgb"))
			return err
		}, want: &records.ManifestEvent{Name: "obj", Version: "v1", Kind: records.EventHolders}},
		{name: "soft purge by name", call: func(e *env, ctx *fakes.Context) error {
			_, err := e.man.PurgeBy(ctx, toJSON(e.t, records.PurgeRequest{Name: "obj", Mode: records.PurgeSoft, Reason: "stale"}))
			return err
		}, want: &records.ManifestEvent{Kind: records.EventInvalidate, Mode: records.PurgeSoft, Targets: []string{"obj@v1"}}},
		{name: "refused purge by key", call: func(e *env, ctx *fakes.Context) error {
			_, err := e.man.PurgeBy(ctx, toJSON(e.t, records.PurgeRequest{Key: "none", Mode: records.PurgeHard, Reason: "r"}))
			return err
		}},
		{name: "refused record", call: func(e *env, ctx *fakes.Context) error {
			_, err := e.man.Record(ctx, manifestJSON(e.t, "obj", "v1"))
			return err
		}},
		{name: "refused purge", call: func(e *env, ctx *fakes.Context) error {
			_, err := e.man.Purge(ctx, "obj", "v9", "withdrawn")
			return err
		}},
		{name: "refused holders update", call: func(e *env, ctx *fakes.Context) error {
			_, err := e.man.UpdateHolders(ctx, "obj", "v1", "1", idsJSON("n1-orga"), idsJSON("n4-orgb"))
			return err
		}},
		{name: "read", call: func(e *env, ctx *fakes.Context) error {
			_, err := e.man.Latest(ctx, "obj")
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.registerNodes(orgA, "n1-orga", "n2-orga", "n3-orga")
			e.registerNodes(orgB, "n4-orgb")
			e.record(orgA, "obj", "v1")
			before := len(e.ledger.Events())
			ctx := e.ledger.NewContext(orgA)
			err := tt.call(e, ctx)
			ctx.Commit()
			events := e.ledger.Events()[before:]
			if tt.want == nil {
				if err == nil && tt.name != "read" {
					t.Fatalf("call succeeded, want a refusal")
				}
				if len(events) != 0 {
					t.Fatalf("%d events, want none: %+v", len(events), events)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 {
				t.Fatalf("%d events, want 1", len(events))
			}
			ev := events[0]
			if ev.Name != records.ManifestEventName || ev.TxID != ctx.Stub.GetTxID() {
				t.Fatalf("event %q of tx %s, want %q of %s", ev.Name, ev.TxID, records.ManifestEventName, ctx.Stub.GetTxID())
			}
			got, err := records.DecodeManifestEvent(ev.Payload)
			if err != nil {
				t.Fatal(err)
			}
			want := *tt.want
			want.TxID = ctx.Stub.GetTxID()
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("payload %+v, want %+v", got, want)
			}
		})
	}
}

// TestEventOnlyOnCommit: the fake emits an event like a peer, once the
// transaction commits, the last one set winning.
func TestEventOnlyOnCommit(t *testing.T) {
	l := fakes.NewLedger()
	stub := l.NewStub()
	if err := stub.SetEvent("", nil); err == nil {
		t.Fatal("an empty event name was accepted")
	}
	if err := stub.SetEvent("a", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := stub.SetEvent("b", []byte("2")); err != nil {
		t.Fatal(err)
	}
	if n := len(l.Events()); n != 0 {
		t.Fatalf("%d events before the commit", n)
	}
	stub.Commit()
	ev := l.Events()
	if len(ev) != 1 || ev[0].Name != "b" || string(ev[0].Payload) != "2" {
		t.Fatalf("events %+v, want the last one set", ev)
	}
	if err := stub.SetEvent("c", nil); err == nil {
		t.Fatal("an event was set after the commit")
	}
}
