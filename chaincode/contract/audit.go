package contract

import (
	"slices"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// AuditContractName is the name clients use to call the audit contract.
const AuditContractName = "audit"

// AuditContract is the auditor's view: the payments to a node with the
// batches behind them, and every history, including the per-organisation
// money figures that are private to the organisations concerned.
//
// Privacy rule (see readPrivate): an organisation's account and its
// history, the payouts to it and a payout's history are read only by a
// member of the organisation concerned (for a payout: the payer's or the
// payee's) or by an identity with the auditor role, of any organisation;
// others get PERMISSION_DENIED. Node, manifest, object, identity, batch
// and price records stay readable by every member.
//
// Every function takes asMSP and asCert. Both empty: the read is for the
// caller. Otherwise the caller must be a registered gateway acting for
// the member it authenticated (its MSP ID and certificate hash, as
// records.CertHash): the decision is made on that member's grant in the
// registry, so a gateway's own roles never widen what its clients read.
type AuditContract struct {
	contractapi.Contract
}

// NewAuditContract returns the audit contract.
func NewAuditContract() *AuditContract {
	return &AuditContract{Contract: newContract(AuditContractName, "DCT audit", "The auditor's view: payments to nodes with their batches, and the records' histories")}
}

// GetEvaluateTransactions lists the read-only functions (all of them).
func (c *AuditContract) GetEvaluateTransactions() []string {
	return []string{"NodePayments", "History", "Account", "Accounts", "Payouts", "Whoami"}
}

// NodePayments returns every payout whose ref names node nodeID, by ref,
// each with the batch behind it; for an auditor or a member of the node's
// owner organisation.
func (c *AuditContract) NodePayments(ctx contractapi.TransactionContextInterface, nodeID string, asMSP string, asCert string) (*records.NodePayments, error) {
	p, err := nodePayments(ctx, nodeID, asMSP, asCert)
	return p, asRecordsError(err)
}

// History returns the history of one record: kind is one of
// records.HistoryKinds; key names it (node id, object name, batch id, MSP
// ID of an account, payout ref, MSP ID of an identity; "" for the price)
// and sub is a manifest's version or an identity's certificate hash ("" for
// the other kinds). Accounts and payouts are private (see the type).
func (c *AuditContract) History(ctx contractapi.TransactionContextInterface, kind string, key string, sub string, asMSP string, asCert string) ([]*records.HistoryEntry, error) {
	h, err := auditHistory(ctx, kind, key, sub, asMSP, asCert)
	return h, asRecordsError(err)
}

// Account reads the account of organisation mspID, for a member of it or
// an auditor.
func (c *AuditContract) Account(ctx contractapi.TransactionContextInterface, mspID string, asMSP string, asCert string) (*records.Account, error) {
	r, err := auditReader(ctx, asMSP, asCert)
	if err != nil {
		return nil, asRecordsError(err)
	}
	a, err := readAccount(ctx, r, mspID)
	return a, asRecordsError(err)
}

// Accounts reads every account, for an auditor.
func (c *AuditContract) Accounts(ctx contractapi.TransactionContextInterface, asMSP string, asCert string) ([]*records.Account, error) {
	r, err := auditReader(ctx, asMSP, asCert)
	if err != nil {
		return nil, asRecordsError(err)
	}
	as, err := readAccounts(ctx, r)
	return as, asRecordsError(err)
}

// Payouts reads the payouts to organisation payeeMSP, for a member of it
// or an auditor.
func (c *AuditContract) Payouts(ctx contractapi.TransactionContextInterface, payeeMSP string, asMSP string, asCert string) ([]*records.Payout, error) {
	r, err := auditReader(ctx, asMSP, asCert)
	if err != nil {
		return nil, asRecordsError(err)
	}
	ps, err := readPayouts(ctx, r, payeeMSP)
	return ps, asRecordsError(err)
}

// Whoami returns the identity a read is decided for: the caller, or the
// member a gateway acts for, with the roles the registry grants it.
func (c *AuditContract) Whoami(ctx contractapi.TransactionContextInterface, asMSP string, asCert string) (*records.Caller, error) {
	r, err := auditReader(ctx, asMSP, asCert)
	return r, asRecordsError(err)
}

// auditReader is who a read is for: the caller, or (asMSP, asCert), the
// member a gateway caller acts for, with the roles its grant gives it.
func auditReader(ctx txContext, asMSP, asCert string) (*records.Caller, error) {
	c, err := currentCaller(ctx)
	if err != nil {
		return nil, err
	}
	if asMSP == "" && asCert == "" {
		return c, nil
	}
	if !c.Has(records.RoleGateway) {
		return nil, forbiddenf("%s may not read for another identity (asMsp, asCert): only a gateway acts for the members it authenticated", c)
	}
	key, err := records.IdentityKey(asMSP, asCert)
	if err != nil {
		return nil, err
	}
	what := describe("identity", asMSP, asCert)
	r := &records.Caller{MSPID: asMSP, CertHash: asCert, Subject: "certificate " + asCert, Roles: []records.Role{}}
	grant, found, err := getRecord[records.Identity](ctx.GetStub(), key, what)
	if err != nil {
		return nil, err
	}
	if found {
		r.Subject, r.Roles, r.NodeID = grant.Subject, slices.Clone(grant.Roles), grant.NodeID
	}
	return r, nil
}

// readPrivate lets r read what is private to orgs: r is a member of one of
// them, or an auditor.
func readPrivate(r *records.Caller, what string, orgs ...string) error {
	if r.Has(records.RoleAuditor) || slices.Contains(orgs, r.MSPID) {
		return nil
	}
	return forbiddenf("%s may not read %s: it is private to %s; reading other organisations' figures needs the auditor role", r, what, joinOrgs(orgs))
}

func joinOrgs(orgs []string) string {
	orgs = slices.Compact(slices.Sorted(slices.Values(orgs)))
	s := ""
	for i, o := range orgs {
		if i > 0 {
			s += " and "
		}
		s += o
	}
	return s
}

func readAccount(ctx txContext, r *records.Caller, mspID string) (*records.Account, error) {
	key, err := records.AccountKey(mspID)
	if err != nil {
		return nil, err
	}
	what := describe("account", mspID)
	if err := readPrivate(r, what, mspID); err != nil {
		return nil, err
	}
	a, found, err := getRecord[records.Account](ctx.GetStub(), key, what)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFoundf("%s does not exist", what)
	}
	return a, nil
}

func readAccounts(ctx txContext, r *records.Caller) ([]*records.Account, error) {
	if !r.Has(records.RoleAuditor) {
		return nil, forbiddenf("%s may not list every account: each is private to its organisation; listing them needs the auditor role", r)
	}
	return listRecords[records.Account](ctx.GetStub(), records.AccountKeyType)
}

func readPayouts(ctx txContext, r *records.Caller, payeeMSP string) ([]*records.Payout, error) {
	if err := records.ValidateMSPID("payeeMSP", payeeMSP); err != nil {
		return nil, err
	}
	if err := readPrivate(r, "the payouts to "+payeeMSP, payeeMSP); err != nil {
		return nil, err
	}
	all, err := listRecords[records.Payout](ctx.GetStub(), records.PayoutKeyType)
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(p *records.Payout) bool { return p.Payee != payeeMSP }), nil
}

// payoutParties are the payer and payee of the payout of ref. Payouts are
// never deleted: a ref without a record has no history either.
func payoutParties(stub shim.ChaincodeStubInterface, ref string) ([]string, error) {
	key, err := records.PayoutKey(ref)
	if err != nil {
		return nil, err
	}
	what := describe("payout", ref)
	p, found, err := getRecord[records.Payout](stub, key, what)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFoundf("%s has no history", what)
	}
	return []string{p.Payer, p.Payee}, nil
}

func readPayoutHistory(ctx txContext, r *records.Caller, ref string) ([]*records.HistoryEntry, error) {
	key, err := records.PayoutKey(ref)
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	parties, err := payoutParties(stub, ref)
	if err != nil {
		return nil, err
	}
	what := describe("payout", ref)
	if err := readPrivate(r, what, parties...); err != nil {
		return nil, err
	}
	return keyHistory(stub, key, what)
}

func readAccountHistory(ctx txContext, r *records.Caller, mspID string) ([]*records.HistoryEntry, error) {
	key, err := records.AccountKey(mspID)
	if err != nil {
		return nil, err
	}
	what := describe("account", mspID)
	if err := readPrivate(r, what, mspID); err != nil {
		return nil, err
	}
	return keyHistory(ctx.GetStub(), key, what)
}

func auditHistory(ctx txContext, kind, key, sub, asMSP, asCert string) ([]*records.HistoryEntry, error) {
	if !slices.Contains(records.HistoryKinds, kind) {
		return nil, invalidf("kind must be one of %v, got %q", records.HistoryKinds, kind)
	}
	takesSub := kind == records.HistoryManifest || kind == records.HistoryIdentity
	if !takesSub && sub != "" {
		return nil, invalidf("the history of a %s takes one key, not %q and %q", kind, key, sub)
	}
	if kind == records.HistoryPrice && key != "" {
		return nil, invalidf("the history of the price takes no key")
	}
	r, err := auditReader(ctx, asMSP, asCert)
	if err != nil {
		return nil, err
	}
	h := NewHistoryContract()
	switch kind {
	case records.HistoryAccount:
		return readAccountHistory(ctx, r, key)
	case records.HistoryPayout:
		return readPayoutHistory(ctx, r, key)
	case records.HistoryNode:
		return h.Node(ctx, key)
	case records.HistoryManifest:
		return h.Manifest(ctx, key, sub)
	case records.HistoryObject:
		return h.Object(ctx, key)
	case records.HistoryIdentity:
		return h.Identity(ctx, key, sub)
	case records.HistoryBatch:
		return h.Batch(ctx, key)
	default: // records.HistoryPrice
		return h.Price(ctx)
	}
}

func nodePayments(ctx txContext, nodeID, asMSP, asCert string) (*records.NodePayments, error) {
	if err := records.ValidateNodeID(nodeID); err != nil {
		return nil, err
	}
	r, err := auditReader(ctx, asMSP, asCert)
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	n, err := loadNode(stub, nodeID)
	if err != nil {
		return nil, err
	}
	if err := readPrivate(r, "the payments to node "+nodeID, n.Org); err != nil {
		return nil, err
	}
	all, err := listRecords[records.Payout](stub, records.PayoutKeyType)
	if err != nil {
		return nil, err
	}
	out := &records.NodePayments{Node: nodeID, Org: n.Org, Payments: []records.NodePayment{}}
	batches := map[string]*records.Batch{}
	for _, p := range all {
		batchID, node, publisher, ok := records.ParsePayoutRef(p.Ref)
		if !ok || node != nodeID {
			continue
		}
		b, ok := batches[batchID]
		if !ok {
			if b, err = loadBatch(stub, batchID); err != nil {
				return nil, internalf("payout %s names batch %s: %v", p.Ref, batchID, messageOf(err))
			}
			batches[batchID] = b
		}
		s := records.BatchSummary{
			ID: b.ID, GatewayMSP: b.GatewayMSP, Gateway: b.Gateway, Epoch: b.Epoch, Root: b.Root, Size: b.Size,
			Status: b.Status, CommittedAt: b.CommittedAt, ProvedAt: b.ProvedAt, ProveTxID: b.ProveTxID,
		}
		for _, t := range b.Accepted {
			if t.Node == nodeID && t.Publisher == publisher {
				s.Receipts, s.Bytes = t.Receipts, t.Bytes
			}
		}
		for _, x := range b.Excluded {
			if x.Node == nodeID && x.Publisher == publisher {
				s.Excluded++
			}
		}
		out.Payments = append(out.Payments, records.NodePayment{Payout: *p, Batch: s})
		var ok1, ok2 bool
		if out.Bytes, ok1 = records.AddAmounts(out.Bytes, p.Bytes); !ok1 {
			return nil, internalf("the bytes paid to node %s overflow", nodeID)
		}
		if out.Amount, ok2 = records.AddAmounts(out.Amount, p.Amount); !ok2 {
			return nil, internalf("the amount paid to node %s overflows", nodeID)
		}
		if p.Status == records.PayoutQueued {
			out.Queued++
		}
	}
	return out, nil
}
