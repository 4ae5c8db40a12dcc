package ledger

import (
	"context"
	"strconv"

	"github.com/dct-network/dct/chaincode/records"
)

// CommitBatch commits a gateway's batch of receipts for an epoch
// (delivery:Commit; in without samples). The batch id is its transaction
// id: prove it with records.SampleIndices(batch.ID, batch.Size). Committing
// the same batch again returns the existing record.
func (c *Client) CommitBatch(ctx context.Context, in records.BatchInput) (*records.Batch, error) {
	arg, err := marshalArg("delivery:Commit", in)
	if err != nil {
		return nil, err
	}
	b, _, err := invoke[*records.Batch](ctx, c, "delivery:Commit", arg)
	return b, err
}

// ProveBatch proves a committed batch with its sampled leaves
// (delivery:Prove); on success the batch is accepted and paid.
func (c *Client) ProveBatch(ctx context.Context, batchID string, samples []records.SampledLeaf) (*records.Batch, error) {
	if samples == nil {
		samples = []records.SampledLeaf{}
	}
	arg, err := marshalArg("delivery:Prove", samples)
	if err != nil {
		return nil, err
	}
	b, _, err := invoke[*records.Batch](ctx, c, "delivery:Prove", batchID, arg)
	return b, err
}

// GetBatch reads a batch.
func (c *Client) GetBatch(ctx context.Context, id string) (*records.Batch, error) {
	return query[*records.Batch](ctx, c, "delivery:Batch", id)
}

// Batches reads every batch of an organisation's gateways.
func (c *Client) Batches(ctx context.Context, gatewayMSP string) ([]*records.Batch, error) {
	return query[[]*records.Batch](ctx, c, "delivery:Batches", gatewayMSP)
}

// Epoch reads the current delivery epoch, its length and the submission
// window.
func (c *Client) Epoch(ctx context.Context) (*records.EpochInfo, error) {
	return query[*records.EpochInfo](ctx, c, "delivery:Epoch")
}

// SetEpochLength sets the ledger's epoch length in seconds
// (delivery:SetEpochLength): an admin, once, before any batch, SLA
// attestation or auction exists (records.EpochSetting).
func (c *Client) SetEpochLength(ctx context.Context, seconds int64) (*records.EpochSetting, error) {
	s, _, err := invoke[*records.EpochSetting](ctx, c, "delivery:SetEpochLength", strconv.FormatInt(seconds, 10))
	return s, err
}

// BatchHistory is every committed write of a batch, oldest first.
func (c *Client) BatchHistory(ctx context.Context, id string) ([]*records.HistoryEntry, error) {
	return query[[]*records.HistoryEntry](ctx, c, "history:Batch", id)
}

// NodeEpoch reads node id's capacity counter of epoch: the bytes accepted
// batches counted against its capacity and those cut above it.
func (c *Client) NodeEpoch(ctx context.Context, id string, epoch int64) (*records.NodeEpoch, error) {
	return query[*records.NodeEpoch](ctx, c, "delivery:NodeEpoch", id, strconv.FormatInt(epoch, 10))
}

// NodeEpochHistory is every committed write of node id's capacity counter
// of epoch (one per accepted batch that counted it), oldest first.
func (c *Client) NodeEpochHistory(ctx context.Context, id string, epoch int64) ([]*records.HistoryEntry, error) {
	return query[[]*records.HistoryEntry](ctx, c, "history:NodeEpoch", id, strconv.FormatInt(epoch, 10))
}
