package httpapi

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/gin-gonic/gin"
)

// SLALedger is what the SLA endpoints read of the ledger (*ledger.Client):
// reads open to every member.
type SLALedger interface {
	SLAScores(ctx context.Context) ([]*records.SLAScore, error)
	SLAScore(ctx context.Context, node string) (*records.SLAScore, error)
	SLABreakdown(ctx context.Context, node string) (*records.SLABreakdown, error)
	SLAHistory(ctx context.Context, node string) ([]*records.HistoryEntry, error)
	SLAEpoch(ctx context.Context, epoch int64) (*records.SLAEpoch, error)
	SLAAttestations(ctx context.Context, epoch int64) ([]*records.SLAAttestation, error)
	GetNode(ctx context.Context, id string) (*records.Node, error)
}

// slaView serves the SLA scores and their evidence on the admin listener,
// for any member (what dct sla and dct audit verify-sla read):
//
//	GET /v1/audit/sla/scores                     every stored score
//	GET /v1/audit/sla/nodes/{id}                 a node's score
//	GET /v1/audit/sla/nodes/{id}/breakdown       how it was computed
//	GET /v1/audit/sla/nodes/{id}/history         every breakdown, oldest first
//	GET /v1/audit/sla/nodes/{id}/record          the node's registration (its owner)
//	GET /v1/audit/sla/epochs/{e}                 an epoch's scoring record
//	GET /v1/audit/sla/epochs/{e}/attestations    an epoch's attestations
//
// with ?format=json (default) or csv.
type slaView struct {
	ledger SLALedger
}

func (s *slaView) routes(g *gin.RouterGroup) {
	g = g.Group("/sla", serves("SLA", s.ledger != nil))
	g.GET("/scores", s.scores)
	g.GET("/nodes/:id", s.score)
	g.GET("/nodes/:id/breakdown", s.breakdown)
	g.GET("/nodes/:id/history", s.history)
	g.GET("/nodes/:id/record", s.node)
	g.GET("/epochs/:epoch", s.epoch)
	g.GET("/epochs/:epoch/attestations", s.attestations)
}

var scoreHeader = []string{"node", "epoch", "score", "state"}

func scoreRow(s *records.SLAScore) []string {
	return []string{s.Node, i64(s.Epoch), i64(s.Score), string(s.State)}
}

func (s *slaView) scores(c *gin.Context) {
	all, err := s.ledger.SLAScores(c.Request.Context())
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	answer(c, all, func() table {
		t := table{header: scoreHeader}
		for _, x := range all {
			t.rows = append(t.rows, scoreRow(x))
		}
		return t
	})
}

func (s *slaView) score(c *gin.Context) {
	x, err := s.ledger.SLAScore(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	answer(c, x, func() table { return table{header: scoreHeader, rows: [][]string{scoreRow(x)}} })
}

var breakdownHeader = []string{"node", "org", "epoch", "epochScore", "previous", "previousState", "score", "state", "below", "orgs", "scoredAt", "txId"}

func breakdownRow(b *records.SLABreakdown) []string {
	orgs := make([]string, len(b.Orgs))
	for i, o := range b.Orgs {
		orgs[i] = o.String()
	}
	return []string{b.Node, b.Org, i64(b.Epoch), i64(b.EpochScore), i64(b.Previous), string(b.PreviousState), i64(b.Score), string(b.State), i64(b.Below),
		strings.Join(orgs, "; "), b.ScoredAt, b.TxID}
}

func (s *slaView) breakdown(c *gin.Context) {
	b, err := s.ledger.SLABreakdown(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	answer(c, b, func() table { return table{header: breakdownHeader, rows: [][]string{breakdownRow(b)}} })
}

func (s *slaView) history(c *gin.Context) {
	h, err := s.ledger.SLAHistory(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	answer(c, h, func() table { return historyTable(h) })
}

func (s *slaView) node(c *gin.Context) {
	n, err := s.ledger.GetNode(c.Request.Context(), c.Param("id"))
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	answer(c, n, func() table {
		return table{header: []string{"id", "org", "status"}, rows: [][]string{{n.ID, n.Org, string(n.Status)}}}
	})
}

// epochParam reads {epoch}: a number >= 0.
func epochParam(c *gin.Context) (int64, bool) {
	e, err := strconv.ParseInt(c.Param("epoch"), 10, 64)
	if err != nil || e < 0 {
		writeError(c, fmt.Errorf("%w: the epoch must be a number >= 0, got %q", content.ErrInvalid, c.Param("epoch")))
		return 0, false
	}
	return e, true
}

func (s *slaView) epoch(c *gin.Context) {
	e, ok := epochParam(c)
	if !ok {
		return
	}
	x, err := s.ledger.SLAEpoch(c.Request.Context(), e)
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	answer(c, x, func() table {
		return table{header: []string{"epoch", "attestations", "ignored", "nodes", "skipped", "scoredAt", "txId"},
			rows: [][]string{{i64(x.Epoch), strconv.Itoa(x.Attestations), strconv.Itoa(x.Ignored), strings.Join(x.Nodes, " "), strings.Join(x.Skipped, " "), x.ScoredAt, x.TxID}}}
	})
}

func (s *slaView) attestations(c *gin.Context) {
	e, ok := epochParam(c)
	if !ok {
		return
	}
	as, err := s.ledger.SLAAttestations(c.Request.Context(), e)
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	answer(c, as, func() table {
		t := table{header: []string{"epoch", "attesterMsp", "attester", "attesterNode", "submittedAt", "txId", "node", "probesSent", "probesAnswered",
			"latencySamples", "latencyP50Ms", "latencyP95Ms", "shardsFailed", "deliveries", "deliveredBytes"}}
		for _, a := range as {
			for _, o := range a.Observations {
				t.rows = append(t.rows, []string{i64(a.Epoch), a.AttesterMSP, a.Attester, a.AttesterNode, a.SubmittedAt, a.TxID, o.Node, i64(o.ProbesSent), i64(o.ProbesAnswered),
					i64(o.LatencySamples), i64(o.LatencyP50Ms), i64(o.LatencyP95Ms), i64(o.ShardsFailed), i64(o.Deliveries), i64(o.DeliveredBytes)})
			}
		}
		return t
	})
}
