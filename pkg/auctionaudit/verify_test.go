package auctionaudit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/auctionaudit"
)

const clearedAt = "2026-11-29T12:00:00Z"

// cleared returns the evidence of an auction of 3 shards × 1 holder among
// 4 bidders, cleared as auction:Clear does: n1 (storage 10, score 1000,
// warned in epoch 3) ranks last; n2, n3 and n4 win.
func cleared(t *testing.T) *auctionaudit.AuctionEvidence {
	t.Helper()
	a := records.Auction{ID: strings.Repeat("a", 64), AuctionInput: records.AuctionInput{Object: "b/x", Shards: 3, K: 2, Replicas: 1, ShardSize: 1000,
		TermSeconds: 3600, MaxStoragePerGBMonth: 1000, MaxDeliveryPerMiB: 10, RevealSeconds: 60},
		Publisher: "OrgBMSP", Status: records.AuctionOpen, ClearedAt: clearedAt, ClearTxID: "txclear"}
	ev := &auctionaudit.AuctionEvidence{History: map[string][]records.SLABreakdown{}}
	for i, id := range []string{"n1-orga", "n2-orga", "n3-orga", "n4-orga"} {
		storage := int64(10 * (i + 1))
		a.Bids = append(a.Bids, records.SnapshotBid{Node: id, Org: "OrgAMSP", Hash: "h"})
		ev.Reveals = append(ev.Reveals, &records.Reveal{Auction: a.ID, Terms: records.BidTerms{Node: id, StoragePerGBMonth: storage, DeliveryPerMiB: 1,
			CapacityBytes: 1 << 30, BandwidthBps: 1e9}})
		n := &records.Node{ID: id, Org: "OrgAMSP", Status: records.NodeStatusActive, Zone: "z1", StorageBytes: 1 << 40, BandwidthBps: 1e10}
		var s *records.SLAScore
		if i == 0 {
			s = &records.SLAScore{Node: id, Epoch: 3, Score: 1000, State: records.SLAStateWarning}
			ev.History[id] = []records.SLABreakdown{
				{Node: id, Epoch: 3, Score: 1000, State: records.SLAStateWarning, ScoredAt: "2026-11-29T11:00:00Z", TxID: "tx3"},
				{Node: id, Epoch: 4, Score: 9000, State: records.SLAStateOK, ScoredAt: "2026-11-29T13:00:00Z", TxID: "tx4"}, // after the clearing
			}
		}
		a.Inputs = append(a.Inputs, records.NewClearingInput(n, s))
	}
	out := records.ClearAuction(records.ClearInputOf(&a, ev.Reveals))
	if out.Failure != "" {
		t.Fatal(out.Failure)
	}
	a.Status, a.Awards, a.StoragePerGBMonth, a.DeliveryPerMiB = records.AuctionCleared, out.Awards, out.StoragePerGBMonth, out.DeliveryPerMiB
	for _, w := range out.Awards {
		ev.Contracts = append(ev.Contracts, &records.Contract{Auction: a.ID, Object: a.Object, Publisher: a.Publisher, Shard: w.Shard, Node: w.Node, Org: "OrgAMSP",
			ShardSize: a.ShardSize, StoragePerGBMonth: a.StoragePerGBMonth, DeliveryPerMiB: a.DeliveryPerMiB, Start: clearedAt, End: "2026-11-29T13:00:00Z", TxID: "txclear", Root: a.ID, SLAFloor: a.SLAFloor})
	}
	ev.Auction = a
	return ev
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(*auctionaudit.AuctionEvidence)
		bad    []string // the checks that must not match
	}{
		{"as cleared", func(*auctionaudit.AuctionEvidence) {}, nil},
		{"a contract's price tampered", func(ev *auctionaudit.AuctionEvidence) { ev.Contracts[0].StoragePerGBMonth = 1 }, []string{"contracts"}},
		{"a contract moved to a losing node", func(ev *auctionaudit.AuctionEvidence) { ev.Contracts[1].Node = "n1-orga" }, []string{"contracts"}},
		{"an extra contract", func(ev *auctionaudit.AuctionEvidence) {
			c := *ev.Contracts[0]
			c.Node = "n1-orga"
			ev.Contracts = append(ev.Contracts, &c)
		}, []string{"contracts"}},
		{"a contract's term extended", func(ev *auctionaudit.AuctionEvidence) { ev.Contracts[2].End = "2027-11-29T13:00:00Z" }, []string{"contracts"}},
		{"the awards tampered", func(ev *auctionaudit.AuctionEvidence) { ev.Auction.Awards[0].Node = "n1-orga" }, []string{"awards"}},
		{"the prices tampered", func(ev *auctionaudit.AuctionEvidence) { ev.Auction.DeliveryPerMiB = 9 }, []string{"prices (storage/GB-month, delivery/MiB)"}},
		{"a recorded score not in force", func(ev *auctionaudit.AuctionEvidence) { ev.Auction.Inputs[0].Score = 9000 }, []string{"score n1-orga", "awards"}},
		{"a revealed bidder's inputs missing", func(ev *auctionaudit.AuctionEvidence) { ev.Auction.Inputs = ev.Auction.Inputs[1:] },
			[]string{"inputs (revealed bidders)"}},
		{"a reveal tampered", func(ev *auctionaudit.AuctionEvidence) { ev.Reveals[0].Terms.StoragePerGBMonth = 1 }, []string{"awards"}},
		{"a corrupt auction", func(ev *auctionaudit.AuctionEvidence) { ev.Auction.K = 1 }, []string{"auction terms"}},
		{"still open", func(ev *auctionaudit.AuctionEvidence) { ev.Auction.Status = records.AuctionOpen }, []string{"status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev := cleared(t)
			tt.tamper(ev)
			cs := auctionaudit.Verify(ev)
			var bad []string
			for _, c := range cs {
				if !c.OK {
					bad = append(bad, c.What)
				}
			}
			for _, want := range tt.bad {
				if !strings.Contains(fmt.Sprint(bad), want) {
					t.Errorf("%q matched; mismatches %v", want, bad)
				}
			}
			if auctionaudit.OK(cs) != (len(tt.bad) == 0) {
				t.Fatalf("OK = %v with mismatches %v: %v", auctionaudit.OK(cs), bad, cs)
			}
		})
	}
}

// fakeLedger serves one auction's evidence as the ledger does.
type fakeLedger struct{ ev *auctionaudit.AuctionEvidence }

func (f fakeLedger) GetAuction(_ context.Context, id string) (*records.Auction, error) {
	if id != f.ev.Auction.ID {
		return nil, records.Errorf(records.CodeNotFound, "auction %s does not exist", id)
	}
	return &f.ev.Auction, nil
}
func (f fakeLedger) AuctionReveals(context.Context, string) ([]*records.Reveal, error) {
	return f.ev.Reveals, nil
}
func (f fakeLedger) AuctionContracts(context.Context, string) ([]*records.Contract, error) {
	return f.ev.Contracts, nil
}
func (f fakeLedger) SLAHistory(_ context.Context, node string) ([]*records.HistoryEntry, error) {
	var out []*records.HistoryEntry
	for _, b := range f.ev.History[node] {
		v, _ := json.Marshal(b)
		out = append(out, &records.HistoryEntry{TxID: b.TxID, Timestamp: b.ScoredAt, Value: string(v)})
	}
	if out == nil {
		return nil, records.Errorf(records.CodeNotFound, "%s was never scored", node)
	}
	return out, nil
}

func TestCollectEvidence(t *testing.T) {
	ev := cleared(t)
	got, err := auctionaudit.CollectEvidence(context.Background(), fakeLedger{ev}, ev.Auction.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cs := auctionaudit.Verify(got); !auctionaudit.OK(cs) {
		t.Fatalf("collected evidence does not verify: %v", cs)
	}
	if _, err := auctionaudit.CollectEvidence(context.Background(), fakeLedger{ev}, strings.Repeat("b", 64)); records.CodeOf(err) != records.CodeNotFound {
		t.Fatalf("unknown auction: %v", err)
	}
}
