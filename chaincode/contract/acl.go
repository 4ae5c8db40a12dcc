package contract

import (
	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-chaincode-go/v2/pkg/statebased"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
)

// Writers lists, for every function that writes, the roles allowed to call
// it; it is the access-control table the functions enforce (authorize),
// before the record rules (ownership, node binding) that follow. Reads are
// open to every member identity the channel admits (its Readers policy).
//
//	node:Register, node:Update              the org's admin, or the node's own identity
//	node:Deactivate, node:Reactivate        the owner org's admin, or the node's own identity
//	manifest:Record                         a gateway naming a publisher of its org, a publisher, an admin
//	manifest:Purge                          a gateway, publisher or admin of the owner org
//	manifest:PurgeBy                        a gateway, publisher or admin; reaches its own org's versions only
//	manifest:UpdateHolders                  a gateway or admin (see updateHolders for which holders)
//	identity:Grant, identity:Revoke         the org's admin, for its own org's certificates
//	token:Issue, token:Open                 the org's admin, into its own org's account only
//	token:Transfer, Deposit, Withdraw       the org's admin or publisher, from its own org's account
//	token:SetPrice                          any org's admin (agreed by endorsement, with history)
//	token:SetBudget                         the org's admin, for its own org's escrow
//	token:SettleQueued                      any member with a role (it only pays what is due)
//	delivery:Commit, delivery:Prove         a gateway (Prove: only the identity that committed the batch)
//	delivery:SetEpochLength                 any org's admin, once, before any epoch-dependent record (records.EpochSetting)
//	auction:Bid, auction:Withdraw           the node's org's admin, or the node's own identity
//	auction:Open                            a gateway, publisher or admin (the auction's publisher is its org)
//	auction:Reveal                          an admin or gateway of the bidder's org, or the node's own identity
//	auction:Clear                           a gateway, publisher or admin of the auction's publisher org
//	auction:Reopen                          a gateway, publisher or admin of the placement's publisher org, for a reason the ledger shows
//	sla:Attest                              a gateway or an edge agent's node identity, for itself (one attestation per identity and epoch)
//	sla:Score                               any member with a role (it only computes what the attestations say)
var Writers = map[string][]records.Role{
	"node:Register":           {records.RoleAdmin, records.RoleNode},
	"node:Update":             {records.RoleAdmin, records.RoleNode},
	"node:Deactivate":         {records.RoleAdmin, records.RoleNode},
	"node:Reactivate":         {records.RoleAdmin, records.RoleNode},
	"manifest:Record":         {records.RoleGateway, records.RolePublisher, records.RoleAdmin},
	"manifest:Purge":          {records.RoleGateway, records.RolePublisher, records.RoleAdmin},
	"manifest:PurgeBy":        {records.RoleGateway, records.RolePublisher, records.RoleAdmin},
	"manifest:UpdateHolders":  {records.RoleGateway, records.RoleAdmin},
	"identity:Grant":          {records.RoleAdmin},
	"identity:Revoke":         {records.RoleAdmin},
	"token:Issue":             {records.RoleAdmin},
	"token:Open":              {records.RoleAdmin},
	"token:Transfer":          {records.RoleAdmin, records.RolePublisher},
	"token:Deposit":           {records.RoleAdmin, records.RolePublisher},
	"token:Withdraw":          {records.RoleAdmin, records.RolePublisher},
	"token:SetPrice":          {records.RoleAdmin},
	"token:SetBudget":         {records.RoleAdmin},
	"token:SettleQueued":      {records.RoleAdmin, records.RolePublisher, records.RoleGateway, records.RoleNode, records.RoleAuditor},
	"delivery:Commit":         {records.RoleGateway},
	"delivery:Prove":          {records.RoleGateway},
	"delivery:SetEpochLength": {records.RoleAdmin},
	"auction:Bid":             {records.RoleAdmin, records.RoleNode},
	"auction:Withdraw":        {records.RoleAdmin, records.RoleNode},
	"auction:Open":            {records.RoleGateway, records.RolePublisher, records.RoleAdmin},
	"auction:Reveal":          {records.RoleAdmin, records.RoleGateway, records.RoleNode},
	"auction:Clear":           {records.RoleGateway, records.RolePublisher, records.RoleAdmin},
	"auction:Reopen":          {records.RoleGateway, records.RolePublisher, records.RoleAdmin},
	"sla:Attest":              {records.RoleGateway, records.RoleNode},
	"sla:Score":               {records.RoleAdmin, records.RolePublisher, records.RoleGateway, records.RoleNode, records.RoleAuditor},
}

// authorize returns the caller of fn when it has one of the roles Writers
// allows for fn, else PERMISSION_DENIED.
func authorize(ctx txContext, fn string) (*records.Caller, error) {
	roles, ok := Writers[fn]
	if !ok {
		return nil, internalf("no access rule for %s", fn)
	}
	return requireRole(ctx, roles...)
}

// mayActForNode reports whether caller may change node id: an admin of its
// organisation, or the node identity bound to it.
func mayActForNode(caller *records.Caller, id string) error {
	if caller.Has(records.RoleAdmin) || caller.Has(records.RoleNode) && caller.NodeID == id {
		return nil
	}
	if caller.Has(records.RoleNode) {
		return forbiddenf("%s is the identity of node %q and may act only for it, not for %q", caller, caller.NodeID, id)
	}
	return forbiddenf("%s may not act for node %q: it needs the admin role or the node's own identity", caller, id)
}

// setOwnerEndorsement makes the owner organisation's peers' endorsement
// necessary for every later change of key (Fabric key-level, state-based
// endorsement), so that no coalition of other members can change an
// organisation's records without it.
func setOwnerEndorsement(stub shim.ChaincodeStubInterface, key, mspID string) error {
	ep, err := statebased.NewStateEP(nil)
	if err != nil {
		return internalf("endorsement policy: %v", err)
	}
	if err := ep.AddOrgs(statebased.RoleTypePeer, mspID); err != nil {
		return internalf("endorsement policy of %s: %v", mspID, err)
	}
	policy, err := ep.Policy()
	if err != nil {
		return internalf("endorsement policy of %s: %v", mspID, err)
	}
	if err := stub.SetStateValidationParameter(key, policy); err != nil {
		return internalf("cannot set the endorsement policy of a record: %v", err)
	}
	return nil
}
