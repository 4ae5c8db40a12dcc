package metrics

import (
	"context"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/mesh"
	"github.com/dct-network/dct/pkg/sla"
	"github.com/prometheus/client_golang/prometheus"
)

// meshStates are the states dct_*_mesh_members always reports (0 when no
// member has it), so that a state emptying shows as 0, not as absent.
var meshStates = []mesh.Status{mesh.StatusAlive, mesh.StatusSuspect, mesh.StatusFailed, mesh.StatusLeft}

// RegisterMesh registers dct_<subsystem>_mesh_members{role,state}: the
// gossip members this process sees (itself excluded), read at scrape
// time from members (mesh.Mesh.Members).
func RegisterMesh(reg prometheus.Registerer, subsystem string, members func() []mesh.Member) {
	RegisterGaugeFunc(reg, subsystem, "mesh_members", "Gossip mesh members this process sees, by role and state.",
		[]string{"role", "state"}, func(emit Emit) {
			counts := map[[2]string]int{}
			for _, r := range []mesh.Role{mesh.RoleAgent, mesh.RoleGateway} {
				for _, s := range meshStates {
					counts[[2]string{string(r), string(s)}] = 0
				}
			}
			for _, m := range members() {
				counts[[2]string{string(m.Role), string(m.Status)}]++
			}
			for k, n := range counts {
				emit(float64(n), k[0], k[1])
			}
		})
}

// SLA counts a process's SLA transactions: attestations submitted and
// epochs scored.
type SLA struct {
	attest, score *prometheus.CounterVec
}

// NewSLA registers dct_<subsystem>_sla_attestations_total{result} and
// dct_<subsystem>_sla_scorings_total{result}.
func NewSLA(reg prometheus.Registerer, subsystem string) *SLA {
	s := &SLA{
		attest: counterVec(subsystem, "sla_attestations_total",
			"SLA attestations submitted (sla:Attest), by result (ok, error).", "result"),
		score: counterVec(subsystem, "sla_scorings_total",
			"Epochs scored (sla:Score), by result (ok, error).", "result"),
	}
	reg.MustRegister(s.attest, s.score)
	for _, r := range []string{"ok", "error"} {
		s.attest.WithLabelValues(r)
		s.score.WithLabelValues(r)
	}
	return s
}

func result(err error) string {
	if err != nil {
		return "error"
	}
	return "ok"
}

// Ledger wraps an SLA submitter's ledger, counting its transactions.
func (s *SLA) Ledger(l sla.Ledger) sla.Ledger { return slaLedger{l: l, s: s} }

type slaLedger struct {
	l sla.Ledger
	s *SLA
}

func (w slaLedger) Attest(ctx context.Context, in records.SLAAttestationInput) (*records.SLAAttestation, error) {
	a, err := w.l.Attest(ctx, in)
	w.s.attest.WithLabelValues(result(err)).Inc()
	return a, err
}

func (w slaLedger) ScoreEpoch(ctx context.Context, epoch int64) (*records.SLAEpoch, error) {
	e, err := w.l.ScoreEpoch(ctx, epoch)
	w.s.score.WithLabelValues(result(err)).Inc()
	return e, err
}

func (w slaLedger) SLAEpoch(ctx context.Context, epoch int64) (*records.SLAEpoch, error) {
	return w.l.SLAEpoch(ctx, epoch)
}

// counterVec is a counter of the dct namespace in subsystem, by labels.
func counterVec(subsystem, name, help string, labels ...string) *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: Namespace, Subsystem: subsystem, Name: name, Help: help}, labels)
}
