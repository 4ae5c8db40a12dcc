package ledger

import (
	"context"

	"github.com/dct-network/dct/chaincode/records"
)

// The audit contract (README, "Chaincode API"): the auditor's view. Every
// call takes the member the read is for: As{} is the caller itself; a
// gateway names the member it authenticated, and the chaincode decides on
// that member's grant.

// As names the member a gateway reads for: its MSP ID and certificate
// hash (records.CertHash). The zero value reads for the caller.
type As struct {
	MSPID    string
	CertHash string
}

// AuditNodePayments reads every payout for node id's deliveries with the
// batch behind each (an auditor, or a member of the node's owner).
func (c *Client) AuditNodePayments(ctx context.Context, id string, as As) (*records.NodePayments, error) {
	return query[*records.NodePayments](ctx, c, "audit:NodePayments", id, as.MSPID, as.CertHash)
}

// AuditHistory reads the history of one record: kind is one of
// records.HistoryKinds, key and sub name the record (see audit:History).
func (c *Client) AuditHistory(ctx context.Context, kind, key, sub string, as As) ([]*records.HistoryEntry, error) {
	return query[[]*records.HistoryEntry](ctx, c, "audit:History", kind, key, sub, as.MSPID, as.CertHash)
}

// AuditAccount reads organisation mspID's account (a member of it or an
// auditor).
func (c *Client) AuditAccount(ctx context.Context, mspID string, as As) (*records.Account, error) {
	return query[*records.Account](ctx, c, "audit:Account", mspID, as.MSPID, as.CertHash)
}

// AuditAccounts reads every account (an auditor).
func (c *Client) AuditAccounts(ctx context.Context, as As) ([]*records.Account, error) {
	return query[[]*records.Account](ctx, c, "audit:Accounts", as.MSPID, as.CertHash)
}

// AuditPayouts reads the payouts to organisation payeeMSP (a member of it
// or an auditor).
func (c *Client) AuditPayouts(ctx context.Context, payeeMSP string, as As) ([]*records.Payout, error) {
	return query[[]*records.Payout](ctx, c, "audit:Payouts", payeeMSP, as.MSPID, as.CertHash)
}
