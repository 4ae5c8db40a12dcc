package slaaudit

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/dct-network/dct/chaincode/records"
)

// Evidence is what an auditor reads of the ledger to recompute an epoch's
// scores (*ledger.Client, or a gateway's audit view through
// gatewayclient): the epoch's scoring record and attestations, and each
// observed node's owner and breakdown history.
type Evidence interface {
	SLAEpoch(ctx context.Context, epoch int64) (*records.SLAEpoch, error)
	SLAAttestations(ctx context.Context, epoch int64) ([]*records.SLAAttestation, error)
	SLAHistory(ctx context.Context, node string) ([]*records.HistoryEntry, error)
	GetNode(ctx context.Context, id string) (*records.Node, error)
}

// EpochEvidence is the ledger's record of one scored epoch: its scoring
// record, its attestations, and for every node they observe its owner
// organisation (Orgs) and its breakdowns, oldest first (History: every
// sla:Score that changed its score).
type EpochEvidence struct {
	Epoch        records.SLAEpoch
	Attestations []*records.SLAAttestation
	Orgs         map[string]string
	History      map[string][]records.SLABreakdown
}

// CollectEvidence reads the evidence of a scored epoch from src.
func CollectEvidence(ctx context.Context, src Evidence, epoch int64) (*EpochEvidence, error) {
	e, err := src.SLAEpoch(ctx, epoch)
	if err != nil {
		return nil, fmt.Errorf("epoch %d: %w", epoch, err)
	}
	atts, err := src.SLAAttestations(ctx, epoch)
	if err != nil {
		return nil, fmt.Errorf("attestations of epoch %d: %w", epoch, err)
	}
	ev := &EpochEvidence{Epoch: *e, Attestations: atts, Orgs: map[string]string{}, History: map[string][]records.SLABreakdown{}}
	nodes := map[string]bool{}
	for _, a := range atts {
		for _, o := range a.Observations {
			nodes[o.Node] = true
		}
	}
	for _, n := range e.Nodes {
		nodes[n] = true
	}
	for _, id := range slices.Sorted(maps.Keys(nodes)) {
		n, err := src.GetNode(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("node %s: %w", id, err)
		}
		ev.Orgs[id] = n.Org
		h, err := src.SLAHistory(ctx, id)
		if err != nil && records.CodeOf(err) != records.CodeNotFound {
			return nil, fmt.Errorf("SLA history of %s: %w", id, err)
		}
		for _, entry := range h {
			if entry.IsDelete {
				continue
			}
			var b records.SLABreakdown
			if err := json.Unmarshal([]byte(entry.Value), &b); err != nil {
				return nil, fmt.Errorf("SLA history of %s: entry of %s: %w", id, entry.TxID, err)
			}
			ev.History[id] = append(ev.History[id], b)
		}
	}
	return ev, nil
}

// Verdict is the outcome of recomputing one node's score of an epoch.
type Verdict struct {
	Node string `json:"node"`
	OK   bool   `json:"ok"`
	// Scored: the epoch changed the node's score (else it was skipped).
	Scored bool `json:"scored"`
	// Stored and Recomputed: the score, state and epoch score on the
	// ledger and from the formula (zero when skipped).
	StoredScore      int64            `json:"storedScore"`
	StoredState      records.SLAState `json:"storedState"`
	StoredEpochScore int64            `json:"storedEpochScore"`
	Score            int64            `json:"score"`
	State            records.SLAState `json:"state"`
	EpochScore       int64            `json:"epochScore"`
	Detail           string           `json:"detail"`
}

// String is "node: match|MISMATCH (detail)".
func (v Verdict) String() string {
	if v.OK {
		return v.Node + ": match (" + v.Detail + ")"
	}
	return v.Node + ": MISMATCH (" + v.Detail + ")"
}

// VerifyEpoch recomputes the epoch's scores from its attestations and
// each node's previous breakdown with the chaincode's formula (records:
// SLANodeViews, ScoreNode) and compares them with what sla:Score stored:
// one verdict per node observed or scored, by node id. It counts the
// attestations as sla:Score does (at most records.MaxSLAAttestersPerOrg
// per organisation, the first by certificate hash); a count that differs
// from the scoring record is reported on every verdict.
func VerifyEpoch(ev *EpochEvidence) []Verdict {
	e := ev.Epoch
	atts := slices.Clone(ev.Attestations)
	slices.SortFunc(atts, func(a, b *records.SLAAttestation) int {
		return cmp.Or(cmp.Compare(a.AttesterMSP, b.AttesterMSP), cmp.Compare(a.Attester, b.Attester))
	})
	perOrg := map[string]int{}
	byNode := map[string]map[string][]records.SLAObservation{}
	counted, ignored := 0, 0
	for _, a := range atts {
		if a.Epoch != e.Epoch {
			continue
		}
		if perOrg[a.AttesterMSP] >= records.MaxSLAAttestersPerOrg {
			ignored++
			continue
		}
		perOrg[a.AttesterMSP]++
		counted++
		for _, o := range a.Observations {
			if byNode[o.Node] == nil {
				byNode[o.Node] = map[string][]records.SLAObservation{}
			}
			byNode[o.Node][a.AttesterMSP] = append(byNode[o.Node][a.AttesterMSP], o)
		}
	}
	countErr := ""
	if counted != e.Attestations || ignored != e.Ignored {
		countErr = fmt.Sprintf("; the epoch record counts %d attestations (%d ignored), the ledger holds %d (%d ignored)", e.Attestations, e.Ignored, counted, ignored)
	}
	all := map[string]bool{}
	for n := range byNode {
		all[n] = true
	}
	for _, n := range e.Nodes {
		all[n] = true
	}
	var out []Verdict
	for _, id := range slices.Sorted(maps.Keys(all)) {
		v := verifyNode(ev, id, byNode[id])
		if countErr != "" {
			v.OK, v.Detail = false, v.Detail+countErr
		}
		out = append(out, v)
	}
	return out
}

func verifyNode(ev *EpochEvidence, id string, byMSP map[string][]records.SLAObservation) Verdict {
	e := ev.Epoch
	v := Verdict{Node: id, Scored: slices.Contains(e.Nodes, id)}
	org, known := ev.Orgs[id]
	views := records.SLANodeViews(org, byMSP)
	h := ev.History[id]
	at := slices.IndexFunc(h, func(b records.SLABreakdown) bool { return b.TxID == e.TxID })
	switch {
	case !known:
		v.Detail = "the node is not registered"
		v.OK = !v.Scored && slices.Contains(e.Skipped, id)
		return v
	case !v.Scored:
		// Skipped: nobody else observed it, or a later epoch scored it
		// before this one was.
		if !slices.Contains(e.Skipped, id) && len(byMSP) > 0 {
			v.Detail = "observed, but neither scored nor skipped by the epoch"
			return v
		}
		if at >= 0 {
			v.Detail = "skipped, but a breakdown of the epoch's transaction is stored"
			return v
		}
		later := slices.ContainsFunc(h, func(b records.SLABreakdown) bool { return b.Epoch >= e.Epoch })
		v.OK = len(views) == 0 || later
		v.Detail = "skipped: observed by its own organisation only"
		if len(views) > 0 {
			v.Detail = "skipped: scored for this or a later epoch already"
			if !later {
				v.Detail = fmt.Sprintf("skipped, but %d other organisations observed it and no breakdown of epoch %d or later is stored", len(views), e.Epoch)
			}
		}
		return v
	case at < 0:
		v.Detail = "scored by the epoch, but no breakdown of its transaction is stored"
		return v
	}
	stored := h[at]
	v.StoredScore, v.StoredState, v.StoredEpochScore = stored.Score, stored.State, stored.EpochScore
	prev, below := records.UnscoredSLA(id), int64(0)
	if at > 0 {
		p := h[at-1]
		prev, below = records.SLAScore{Node: id, Epoch: p.Epoch, Score: p.Score, State: p.State}, p.Below
	}
	next, b, ok := records.ScoreNode(prev, below, e.Epoch, views)
	if !ok {
		v.Detail = "scored by the epoch, but no other organisation's attestation observes it"
		return v
	}
	v.Score, v.State, v.EpochScore = next.Score, next.State, b.EpochScore
	var diffs []string
	check := func(what string, got, want any) {
		if fmt.Sprint(got) != fmt.Sprint(want) {
			diffs = append(diffs, fmt.Sprintf("%s stored %v, recomputed %v", what, got, want))
		}
	}
	check("score", stored.Score, next.Score)
	check("state", stored.State, next.State)
	check("epoch score", stored.EpochScore, b.EpochScore)
	check("below", stored.Below, b.Below)
	check("previous", stored.Previous, b.Previous)
	check("epoch", stored.Epoch, e.Epoch)
	check("organisations' views", stored.Orgs, b.Orgs)
	check("owner", stored.Org, org)
	if len(diffs) > 0 {
		v.Detail = fmt.Sprint(diffs)
		return v
	}
	v.OK = true
	v.Detail = fmt.Sprintf("epoch score %d from %d organisations, %d → %d (%s)", b.EpochScore, len(views), b.Previous, next.Score, next.State)
	return v
}
