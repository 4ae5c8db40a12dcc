package contract

import (
	"slices"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// IdentityContractName is the name clients use to call the identity
// contract.
const IdentityContractName = "identity"

// IdentityContract is the registry of roles: an organisation's admins
// (NodeOU "admin") grant and revoke the roles of their own organisation's
// certificates; everyone may read it; history:Identity keeps every change.
type IdentityContract struct {
	contractapi.Contract
}

// NewIdentityContract returns the identity contract.
func NewIdentityContract() *IdentityContract {
	return &IdentityContract{Contract: newContract(IdentityContractName, "DCT identity registry", "Roles of the consortium members' identities")}
}

// GetEvaluateTransactions lists the read-only functions.
func (c *IdentityContract) GetEvaluateTransactions() []string {
	return []string{"Get", "List", "Whoami"}
}

// Grant gives a certificate of the caller's organisation the roles of
// grantJSON (a records.GrantInput), replacing the roles it had. Only the
// organisation's admins may.
func (c *IdentityContract) Grant(ctx contractapi.TransactionContextInterface, grantJSON string) (*records.Identity, error) {
	id, err := grantIdentity(ctx, grantJSON)
	return id, asRecordsError(err)
}

// Revoke removes every role of the certificate certHash of the caller's
// organisation. Only the organisation's admins may.
func (c *IdentityContract) Revoke(ctx contractapi.TransactionContextInterface, certHash string) (*records.Identity, error) {
	id, err := revokeIdentity(ctx, certHash)
	return id, asRecordsError(err)
}

// Get reads the grant of certificate certHash of organisation mspID.
func (c *IdentityContract) Get(ctx contractapi.TransactionContextInterface, mspID string, certHash string) (*records.Identity, error) {
	key, err := records.IdentityKey(mspID, certHash)
	if err != nil {
		return nil, err
	}
	id, found, err := getRecord[records.Identity](ctx.GetStub(), key, describe("identity", mspID, certHash))
	if err != nil {
		return nil, asRecordsError(err)
	}
	if !found {
		return nil, notFoundf("%s has no role", describe("identity", mspID, certHash))
	}
	return id, nil
}

// List reads every grant, by organisation and certificate hash.
func (c *IdentityContract) List(ctx contractapi.TransactionContextInterface) ([]*records.Identity, error) {
	ids, err := listRecords[records.Identity](ctx.GetStub(), records.IdentityKeyType)
	return ids, asRecordsError(err)
}

// Whoami returns the caller as the chaincode sees it: organisation,
// certificate hash and roles.
func (c *IdentityContract) Whoami(ctx contractapi.TransactionContextInterface) (*records.Caller, error) {
	caller, err := currentCaller(ctx)
	return caller, asRecordsError(err)
}

func grantIdentity(ctx txContext, grantJSON string) (*records.Identity, error) {
	admin, err := requireRole(ctx, records.RoleAdmin)
	if err != nil {
		return nil, err
	}
	in, err := records.DecodeGrantInput([]byte(grantJSON))
	if err != nil {
		return nil, err
	}
	cert, err := in.Validate()
	if err != nil {
		return nil, err
	}
	hash := records.CertHash(cert)
	if hash == admin.CertHash {
		return nil, forbiddenf("an admin cannot grant roles to its own certificate")
	}
	stub := ctx.GetStub()
	key, err := compositeKey(stub, records.IdentityKeyType, admin.MSPID, hash)
	if err != nil {
		return nil, err
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	roles := slices.Clone(in.Roles)
	slices.Sort(roles)
	id := &records.Identity{
		MSPID: admin.MSPID, CertHash: hash, Subject: cert.Subject.String(), Roles: roles, NodeID: in.NodeID,
		GrantedBy: admin.Subject, GrantedAt: tx.time, TxID: tx.id,
	}
	if err := putRecord(stub, key, describe("identity", admin.MSPID, hash), id); err != nil {
		return nil, err
	}
	return id, nil
}

func revokeIdentity(ctx txContext, certHash string) (*records.Identity, error) {
	admin, err := requireRole(ctx, records.RoleAdmin)
	if err != nil {
		return nil, err
	}
	key, err := records.IdentityKey(admin.MSPID, certHash)
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	what := describe("identity", admin.MSPID, certHash)
	id, found, err := getRecord[records.Identity](stub, key, what)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFoundf("%s has no role", what)
	}
	if err := stub.DelState(key); err != nil {
		return nil, internalf("cannot delete %s: %v", what, err)
	}
	return id, nil
}

// currentCaller reads the caller's organisation and certificate, its admin
// NodeOU and its grant.
func currentCaller(ctx txContext) (*records.Caller, error) {
	mspID, err := callerMSP(ctx)
	if err != nil {
		return nil, err
	}
	cert, err := ctx.GetClientIdentity().GetX509Certificate()
	if err != nil || cert == nil {
		return nil, forbiddenf("the caller has no X.509 certificate")
	}
	c := &records.Caller{MSPID: mspID, CertHash: records.CertHash(cert), Subject: cert.Subject.String(), Roles: []records.Role{}}
	if slices.Contains(cert.Subject.OrganizationalUnit, records.AdminOU) {
		c.Roles = append(c.Roles, records.RoleAdmin)
	}
	key, err := compositeKey(ctx.GetStub(), records.IdentityKeyType, mspID, c.CertHash)
	if err != nil {
		return nil, err
	}
	grant, found, err := getRecord[records.Identity](ctx.GetStub(), key, describe("identity", mspID, c.CertHash))
	if err != nil {
		return nil, err
	}
	if found {
		c.Roles = append(c.Roles, grant.Roles...)
		c.NodeID = grant.NodeID
	}
	return c, nil
}

// requireRole returns the caller when it has one of the roles, else a
// PERMISSION_DENIED error naming them.
func requireRole(ctx txContext, roles ...records.Role) (*records.Caller, error) {
	c, err := currentCaller(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range roles {
		if c.Has(r) {
			return c, nil
		}
	}
	return nil, forbiddenf("%s needs the role %s", c, roleNames(roles))
}

func roleNames(roles []records.Role) string {
	s := ""
	for i, r := range roles {
		if i > 0 {
			s += " or "
		}
		s += string(r)
	}
	return s
}
