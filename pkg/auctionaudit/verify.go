package auctionaudit

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// Evidence is what an auditor reads of the ledger to recompute an
// auction (*ledger.Client, or a gateway's audit view through
// gatewayclient).
type Evidence interface {
	GetAuction(ctx context.Context, id string) (*records.Auction, error)
	AuctionReveals(ctx context.Context, id string) ([]*records.Reveal, error)
	AuctionContracts(ctx context.Context, id string) ([]*records.Contract, error)
	SLAHistory(ctx context.Context, node string) ([]*records.HistoryEntry, error)
}

// AuctionEvidence is the ledger's record of one cleared or failed
// auction: the auction, its reveals and contracts, and the history of
// the score of every node whose inputs the clearing recorded.
type AuctionEvidence struct {
	Auction   records.Auction
	Reveals   []*records.Reveal
	Contracts []*records.Contract
	History   map[string][]records.SLABreakdown
}

// CollectEvidence reads the evidence of auction id from src.
func CollectEvidence(ctx context.Context, src Evidence, id string) (*AuctionEvidence, error) {
	a, err := src.GetAuction(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("auction %s: %w", id, err)
	}
	rs, err := src.AuctionReveals(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reveals of auction %s: %w", id, err)
	}
	cs, err := src.AuctionContracts(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("contracts of auction %s: %w", id, err)
	}
	ev := &AuctionEvidence{Auction: *a, Reveals: rs, Contracts: cs, History: map[string][]records.SLABreakdown{}}
	for _, in := range a.Inputs {
		h, err := src.SLAHistory(ctx, in.Node)
		if err != nil && records.CodeOf(err) != records.CodeNotFound {
			return nil, fmt.Errorf("SLA history of %s: %w", in.Node, err)
		}
		for _, e := range h {
			if e.IsDelete {
				continue
			}
			var b records.SLABreakdown
			if err := json.Unmarshal([]byte(e.Value), &b); err != nil {
				return nil, fmt.Errorf("SLA history of %s: entry of %s: %w", in.Node, e.TxID, err)
			}
			if b.ScoredAt == "" {
				b.ScoredAt = e.Timestamp
			}
			ev.History[in.Node] = append(ev.History[in.Node], b)
		}
	}
	return ev, nil
}

// Check is one comparison of the stored outcome with the recomputation.
type Check struct {
	// What is compared: "status", "inputs", "awards", "prices",
	// "failure", "contracts", or "score NODE".
	What       string `json:"what"`
	OK         bool   `json:"ok"`
	Stored     string `json:"stored"`
	Recomputed string `json:"recomputed"`
}

// String is "what: match|MISMATCH (stored …, recomputed …)".
func (c Check) String() string {
	v := "match"
	if !c.OK {
		v = "MISMATCH"
	}
	return fmt.Sprintf("%s: %s (stored %s, recomputed %s)", c.What, v, c.Stored, c.Recomputed)
}

// Verify recomputes the auction's outcome with records.ClearAuction from
// its reveals and recorded inputs (records.ClearInputOf) and compares it
// with the stored status, awards, prices or failure, and contracts; and
// compares each recorded score with the score in force at the clearing
// in the node's history. Every check is returned; the auction matches
// when all are OK.
func Verify(ev *AuctionEvidence) []Check {
	a := ev.Auction
	var out []Check
	add := func(what string, stored, recomputed any) {
		s, r := fmt.Sprint(stored), fmt.Sprint(recomputed)
		out = append(out, Check{What: what, OK: s == r, Stored: s, Recomputed: r})
	}
	if a.Status != records.AuctionCleared && a.Status != records.AuctionFailed {
		add("status", a.Status, "cleared or failed")
		return out
	}
	if terms := a.AuctionInput; terms.Validate() != nil {
		add("auction terms", terms.Validate(), "valid terms")
		return out
	}
	in := records.ClearInputOf(&a, ev.Reveals)
	revealed := make([]string, 0, len(in.Reveals))
	for _, r := range in.Reveals {
		revealed = append(revealed, r.Terms.Node)
	}
	recorded := make([]string, 0, len(a.Inputs))
	for _, x := range a.Inputs {
		recorded = append(recorded, x.Node)
	}
	slices.Sort(revealed)
	slices.Sort(recorded)
	add("inputs (revealed bidders)", recorded, revealed)
	res := records.ClearAuction(in)
	want := records.AuctionCleared
	if res.Failure != "" {
		want = records.AuctionFailed
	}
	add("status", a.Status, want)
	add("failure", a.Failure, res.Failure)
	add("awards", a.Awards, res.Awards)
	add("prices (storage/GB-month, delivery/MiB)", fmt.Sprint(a.StoragePerGBMonth, " ", a.DeliveryPerMiB), fmt.Sprint(res.StoragePerGBMonth, " ", res.DeliveryPerMiB))
	storedCs, wantCs := contractRows(ev.Contracts), expectedContracts(&a, res)
	if slices.Equal(storedCs, wantCs) {
		add("contracts", fmt.Sprintf("%d contracts", len(storedCs)), fmt.Sprintf("%d contracts", len(wantCs)))
	} else {
		out = append(out, Check{What: "contracts",
			Stored:     fmt.Sprintf("%d contracts, of which not recomputed %v", len(storedCs), missing(storedCs, wantCs)),
			Recomputed: fmt.Sprintf("%d contracts, of which not stored %v", len(wantCs), missing(wantCs, storedCs))})
	}
	for _, x := range a.Inputs {
		add("score "+x.Node, scoreText(x.Scored, x.ScoreEpoch, x.Score, x.State), inForce(ev.History[x.Node], a.ClearedAt))
	}
	return out
}

// missing are the rows of xs not in ys.
func missing(xs, ys []string) []string {
	out := []string{}
	for _, x := range xs {
		if !slices.Contains(ys, x) {
			out = append(out, x)
		}
	}
	return out
}

// contractRows renders contracts in key order (auction, shard, node).
func contractRows(cs []*records.Contract) []string {
	rows := make([]string, 0, len(cs))
	for _, c := range cs {
		rows = append(rows, contractRow(c))
	}
	slices.Sort(rows)
	return rows
}

func contractRow(c *records.Contract) string {
	return fmt.Sprintf("{%s shard %d %s %s object %s publisher %s size %d price %d/%d from %s to %s tx %s root %s floor %d}",
		c.Auction, c.Shard, c.Node, c.Org, c.Object, c.Publisher, c.ShardSize, c.StoragePerGBMonth, c.DeliveryPerMiB, c.Start, c.End, c.TxID, c.Root, c.SLAFloor)
}

// expectedContracts are the contracts auction:Clear writes for res.
func expectedContracts(a *records.Auction, res records.Outcome) []string {
	org := map[string]string{}
	for _, x := range a.Inputs {
		org[x.Node] = x.Org
	}
	rows := []string{}
	if res.Failure != "" {
		return rows
	}
	end := "?"
	if t, err := time.Parse(records.TimestampLayout, a.ClearedAt); err == nil {
		end = records.FormatTimestamp(t.Add(time.Duration(a.TermSeconds) * time.Second))
	}
	for _, w := range res.Awards {
		rows = append(rows, contractRow(&records.Contract{Auction: a.ID, Object: a.Object, Publisher: a.Publisher, Shard: w.Shard, Node: w.Node,
			Org: org[w.Node], ShardSize: a.ShardSize, StoragePerGBMonth: res.StoragePerGBMonth, DeliveryPerMiB: res.DeliveryPerMiB,
			Start: a.ClearedAt, End: end, TxID: a.ClearTxID, Root: a.Root(), SLAFloor: a.SLAFloor}))
	}
	slices.Sort(rows)
	return rows
}

func scoreText(scored bool, epoch, score int64, state records.SLAState) string {
	if !scored {
		return "unscored"
	}
	return fmt.Sprintf("%d (%s, epoch %d)", score, state, epoch)
}

// inForce is the score in force at clearedAt in history (oldest first):
// the last breakdown scored at or before it.
func inForce(history []records.SLABreakdown, clearedAt string) string {
	at, err := time.Parse(records.TimestampLayout, clearedAt)
	if err != nil {
		return "unknown: the clearing time " + clearedAt + " is malformed"
	}
	got := "unscored"
	for _, b := range history {
		t, err := time.Parse(records.TimestampLayout, b.ScoredAt)
		if err != nil {
			return "unknown: a breakdown of " + b.TxID + " has a malformed time"
		}
		if t.After(at) {
			break
		}
		got = scoreText(true, b.Epoch, b.Score, b.State)
	}
	return got
}

// OK reports whether every check matched.
func OK(cs []Check) bool {
	return len(cs) > 0 && !slices.ContainsFunc(cs, func(c Check) bool { return !c.OK })
}
