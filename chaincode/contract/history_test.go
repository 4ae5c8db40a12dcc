package contract

import (
	"encoding/json"
	"testing"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

func TestHistory(t *testing.T) {
	e := newEnv(t)
	var txs []string
	track := func(ctx *fakes.Context) { txs = append(txs, ctx.Stub.GetTxID()) }

	step := func(fn func(ctx *fakes.Context) error) {
		t.Helper()
		ctx := e.ledger.NewContext(orgA)
		if _, err := callCtx(e, ctx, func(ctx *fakes.Context) (any, error) { return nil, fn(ctx) }); err != nil {
			t.Fatal(err)
		}
		track(ctx)
	}
	step(func(ctx *fakes.Context) error { _, err := e.node.Register(ctx, nodeJSON(t, "n1-orga")); return err })
	step(func(ctx *fakes.Context) error {
		_, err := e.node.Update(ctx, nodeJSON(t, "n1-orga", func(n *records.NodeInput) { n.Zone = "z2" }))
		return err
	})
	e.registerNodes(orgA, "n2-orga", "n3-orga")
	step(func(ctx *fakes.Context) error { _, err := e.man.Record(ctx, manifestJSON(t, "o", "v1")); return err })
	step(func(ctx *fakes.Context) error { _, err := e.man.Record(ctx, manifestJSON(t, "o", "v2")); return err })
	step(func(ctx *fakes.Context) error { _, err := e.man.Purge(ctx, "o", "v2", "withdrawn"); return err })
	step(func(ctx *fakes.Context) error { _, err := e.node.Deactivate(ctx, "n1-orga", "retired"); return err })

	tests := []struct {
		name    string
		run     func(ctx *fakes.Context) ([]*records.HistoryEntry, error)
		wantTxs []string
		check   func(t *testing.T, values []string)
		code    records.Code
		msg     string
	}{
		{name: "node", run: func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return e.hist.Node(ctx, "n1-orga") },
			wantTxs: []string{txs[0], txs[1], txs[5]},
			check: func(t *testing.T, values []string) {
				var zones, statuses []string
				for _, v := range values {
					var n records.Node
					if err := json.Unmarshal([]byte(v), &n); err != nil {
						t.Fatal(err)
					}
					zones = append(zones, n.Zone)
					statuses = append(statuses, string(n.Status))
				}
				if zones[0] != "eu-west" || zones[1] != "z2" || statuses[2] != "inactive" {
					t.Errorf("node history values: zones %v statuses %v", zones, statuses)
				}
			}},
		{name: "manifest", run: func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return e.hist.Manifest(ctx, "o", "v2") },
			wantTxs: []string{txs[3], txs[4]},
			check: func(t *testing.T, values []string) {
				var first, second records.Manifest
				_ = json.Unmarshal([]byte(values[0]), &first)
				_ = json.Unmarshal([]byte(values[1]), &second)
				if first.Purged != nil || second.Purged == nil || second.Purged.Reason != "withdrawn" {
					t.Errorf("manifest history values: %s / %s", values[0], values[1])
				}
			}},
		{name: "object", run: func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return e.hist.Object(ctx, "o") },
			wantTxs: []string{txs[2], txs[3], txs[4]},
			check: func(t *testing.T, values []string) {
				var latest []string
				for _, v := range values {
					var o records.Object
					_ = json.Unmarshal([]byte(v), &o)
					latest = append(latest, o.Latest)
				}
				if latest[0] != "v1" || latest[1] != "v2" || latest[2] != "v1" {
					t.Errorf("object latest over time %v", latest)
				}
			}},
		{name: "unknown node", run: func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return e.hist.Node(ctx, "n9") },
			code: records.CodeNotFound, msg: "node 'n9' has no history"},
		{name: "unknown manifest", run: func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return e.hist.Manifest(ctx, "o", "v3") },
			code: records.CodeNotFound, msg: "manifest 'o@v3' has no history"},
		{name: "unknown object", run: func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return e.hist.Object(ctx, "p") },
			code: records.CodeNotFound, msg: "object 'p' has no history"},
		{name: "bad node id", run: func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return e.hist.Node(ctx, "N 1") },
			code: records.CodeInvalid, msg: "id"},
		{name: "bad manifest version", run: func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return e.hist.Manifest(ctx, "o", "..") },
			code: records.CodeInvalid, msg: "version"},
		{name: "bad object name", run: func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return e.hist.Object(ctx, "../o") },
			code: records.CodeInvalid, msg: "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := call(e, orgB, tt.run)
			if tt.code != "" {
				wantCode(t, err, tt.code, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(h) != len(tt.wantTxs) {
				t.Fatalf("got %d entries, want %d", len(h), len(tt.wantTxs))
			}
			var values []string
			prev := ""
			for i, entry := range h {
				if entry.TxID != tt.wantTxs[i] {
					t.Errorf("entry %d tx %s, want %s (oldest first)", i, entry.TxID, tt.wantTxs[i])
				}
				if entry.IsDelete || entry.Value == "" || entry.Timestamp <= prev {
					t.Errorf("entry %d malformed or out of order: %+v", i, entry)
				}
				prev = entry.Timestamp
				values = append(values, entry.Value)
			}
			tt.check(t, values)
		})
	}
}
