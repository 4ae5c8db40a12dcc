package records

import "strings"

// History kinds audit:History reads (see HistoryKinds): the records every
// member may read (node, manifest, object, identity, batch, price) and
// those private to the organisations concerned (account, payout).
const (
	HistoryNode     = "node"
	HistoryManifest = "manifest"
	HistoryObject   = "object"
	HistoryIdentity = "identity"
	HistoryBatch    = "batch"
	HistoryPrice    = "price"
	HistoryAccount  = "account"
	HistoryPayout   = "payout"
)

// HistoryKinds are the kinds of record audit:History reads, in the order
// the README lists them.
var HistoryKinds = []string{HistoryNode, HistoryManifest, HistoryObject, HistoryIdentity, HistoryBatch, HistoryPrice, HistoryAccount, HistoryPayout}

// PrivateHistory reports whether the history of kind is private to the
// organisations concerned (and auditors).
func PrivateHistory(kind string) bool { return kind == HistoryAccount || kind == HistoryPayout }

// PayoutRef is the ref of the payout of an accepted batch's total of node
// for publisher: "batchId/node/publisher".
func PayoutRef(batchID, node, publisher string) string {
	return batchID + "/" + node + "/" + publisher
}

// ParsePayoutRef splits a delivery payout's ref (PayoutRef); ok is false
// for a ref of another form.
func ParsePayoutRef(ref string) (batchID, node, publisher string, ok bool) {
	parts := strings.Split(ref, "/")
	if len(parts) != 3 || parts[0] == "" || ValidateNodeID(parts[1]) != nil || ValidateMSPID("publisher", parts[2]) != nil {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}

// BatchSummary is the batch behind a payment, as audit:NodePayments
// returns it: the batch's identity and state, and what it accepted of the
// node for the payment's publisher.
type BatchSummary struct {
	ID         string      `json:"id"`
	GatewayMSP string      `json:"gatewayMsp"`
	Gateway    string      `json:"gateway"`
	Epoch      int64       `json:"epoch"`
	Root       string      `json:"root"`
	Size       int64       `json:"size"`
	Status     BatchStatus `json:"status"`
	// Receipts and Bytes are the batch's accepted total of the node for
	// the publisher (Accepted); Excluded counts the node's receipts of
	// that publisher the chaincode excluded.
	Receipts    int64  `json:"receipts"`
	Bytes       int64  `json:"bytes"`
	Excluded    int64  `json:"excluded"`
	CommittedAt string `json:"committedAt"`
	ProvedAt    string `json:"provedAt,omitempty" metadata:",optional"`
	ProveTxID   string `json:"proveTxId,omitempty" metadata:",optional"`
}

// NodePayment is one payout for a node's deliveries with the batch behind
// it.
type NodePayment struct {
	Payout Payout       `json:"payout"`
	Batch  BatchSummary `json:"batch"`
}

// NodePayments is what audit:NodePayments returns: every payout whose ref
// names the node, by ref, with totals.
type NodePayments struct {
	Node string `json:"node"`
	// Org is the node's owner organisation (the payee).
	Org      string        `json:"org"`
	Payments []NodePayment `json:"payments"`
	// Bytes and Amount sum the payments; Queued counts those not paid yet.
	Bytes  int64 `json:"bytes"`
	Amount int64 `json:"amount"`
	Queued int64 `json:"queued"`
}
