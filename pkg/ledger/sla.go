package ledger

import (
	"context"
	"strconv"

	"github.com/dct-network/dct/chaincode/records"
)

// Attest submits the caller's SLA attestation of an epoch (sla:Attest).
// Submitting the same attestation again returns the stored one; a
// different one for the same epoch is refused (records.ErrConflict).
func (c *Client) Attest(ctx context.Context, in records.SLAAttestationInput) (*records.SLAAttestation, error) {
	arg, err := marshalArg("sla:Attest", in)
	if err != nil {
		return nil, err
	}
	a, _, err := invoke[*records.SLAAttestation](ctx, c, "sla:Attest", arg)
	return a, err
}

// ScoreEpoch scores an ended epoch from its attestations (sla:Score); an
// epoch scored already returns its first result.
func (c *Client) ScoreEpoch(ctx context.Context, epoch int64) (*records.SLAEpoch, error) {
	e, _, err := invoke[*records.SLAEpoch](ctx, c, "sla:Score", strconv.FormatInt(epoch, 10))
	return e, err
}

// SLAScore reads a node's score (unscored for a registered node never
// scored).
func (c *Client) SLAScore(ctx context.Context, node string) (*records.SLAScore, error) {
	return query[*records.SLAScore](ctx, c, "sla:Get", node)
}

// SLAScores reads every stored score.
func (c *Client) SLAScores(ctx context.Context) ([]*records.SLAScore, error) {
	return query[[]*records.SLAScore](ctx, c, "sla:List")
}

// SLABreakdown reads how a node's current score was computed.
func (c *Client) SLABreakdown(ctx context.Context, node string) (*records.SLABreakdown, error) {
	return query[*records.SLABreakdown](ctx, c, "sla:Breakdown", node)
}

// SLAHistory reads every breakdown of a node, oldest first.
func (c *Client) SLAHistory(ctx context.Context, node string) ([]*records.HistoryEntry, error) {
	return query[[]*records.HistoryEntry](ctx, c, "sla:History", node)
}

// SLAAttestations reads every attestation of an epoch.
func (c *Client) SLAAttestations(ctx context.Context, epoch int64) ([]*records.SLAAttestation, error) {
	return query[[]*records.SLAAttestation](ctx, c, "sla:Attestations", strconv.FormatInt(epoch, 10))
}

// SLAEpoch reads the scoring record of an epoch (records.ErrNotFound
// before it is scored).
func (c *Client) SLAEpoch(ctx context.Context, epoch int64) (*records.SLAEpoch, error) {
	return query[*records.SLAEpoch](ctx, c, "sla:Epoch", strconv.FormatInt(epoch, 10))
}
