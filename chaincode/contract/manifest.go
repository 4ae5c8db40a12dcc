package contract

import (
	"slices"
	"strings"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-contract-api-go/v2/metadata"
)

// ManifestContractName is the name clients use to call the manifest
// contract.
const ManifestContractName = "manifest"

// ManifestContract records the manifests of published object versions and
// keeps one head record per object name. A version is immutable once
// recorded; purging it leaves a tombstone.
type ManifestContract struct {
	contractapi.Contract
}

// NewManifestContract returns the manifest contract.
func NewManifestContract() *ManifestContract {
	return &ManifestContract{Contract: contractapi.Contract{
		Name: ManifestContractName,
		Info: metadata.InfoMetadata{
			Title:       "DCT manifests",
			Description: "Published object versions, their shard placement and purges",
			Version:     Version,
		},
	}}
}

// GetEvaluateTransactions lists the read-only functions.
func (c *ManifestContract) GetEvaluateTransactions() []string {
	return []string{"Get", "Latest", "Object", "Versions", "List"}
}

// Record stores a new object version published by the caller's organisation
// and makes it the object's latest version. manifestJSON is a
// records.Manifest without the chaincode-set fields; every node it names must
// be registered and active.
func (c *ManifestContract) Record(ctx contractapi.TransactionContextInterface, manifestJSON string) (*records.Manifest, error) {
	m, err := recordManifest(ctx, manifestJSON)
	return m, asRecordsError(err)
}

// Get returns one version of an object, purged or not.
func (c *ManifestContract) Get(ctx contractapi.TransactionContextInterface, name string, version string) (*records.Manifest, error) {
	if _, err := records.ManifestKey(name, version); err != nil {
		return nil, err
	}
	m, err := loadManifest(ctx.GetStub(), name, version)
	return m, asRecordsError(err)
}

// Latest returns the latest version of an object that is not purged.
func (c *ManifestContract) Latest(ctx contractapi.TransactionContextInterface, name string) (*records.Manifest, error) {
	if err := records.ValidateObjectName(name); err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	o, err := loadObject(stub, name)
	if err != nil {
		return nil, asRecordsError(err)
	}
	if o.Latest == "" {
		return nil, notFoundf("%s has no version that is not purged", describe("object", name))
	}
	m, err := loadManifest(stub, name, o.Latest)
	return m, asRecordsError(err)
}

// Object returns the head record of an object name: its owner, versions in
// publish order and latest version.
func (c *ManifestContract) Object(ctx contractapi.TransactionContextInterface, name string) (*records.Object, error) {
	if err := records.ValidateObjectName(name); err != nil {
		return nil, err
	}
	o, err := loadObject(ctx.GetStub(), name)
	return o, asRecordsError(err)
}

// Versions returns every version of an object, purged ones included, in
// publish order.
func (c *ManifestContract) Versions(ctx contractapi.TransactionContextInterface, name string) ([]*records.Manifest, error) {
	if err := records.ValidateObjectName(name); err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	o, err := loadObject(stub, name)
	if err != nil {
		return nil, asRecordsError(err)
	}
	out := make([]*records.Manifest, 0, len(o.Versions))
	for _, v := range o.Versions {
		m, err := loadManifest(stub, name, v)
		if err != nil {
			if records.CodeOf(err) == records.CodeNotFound {
				err = internalf("%s lists version %s but its manifest is missing", describe("object", name), v)
			}
			return nil, asRecordsError(err)
		}
		out = append(out, m)
	}
	return out, nil
}

// List returns every object head, sorted by name.
func (c *ManifestContract) List(ctx contractapi.TransactionContextInterface) ([]*records.Object, error) {
	objects, err := listRecords[records.Object](ctx.GetStub(), records.ObjectKeyType)
	if err != nil {
		return nil, asRecordsError(err)
	}
	for _, o := range objects {
		if o.Versions == nil {
			o.Versions = []string{}
		}
	}
	slices.SortFunc(objects, func(a, b *records.Object) int { return strings.Compare(a.Name, b.Name) })
	return objects, nil
}

// Purge tombstones a version published by the caller's organisation. The
// manifest stays on the ledger with its purged field set; the object's latest
// version falls back to the newest version that is not purged.
func (c *ManifestContract) Purge(ctx contractapi.TransactionContextInterface, name string, version string, reason string) (*records.Manifest, error) {
	m, err := purgeManifest(ctx, name, version, reason)
	return m, asRecordsError(err)
}

func recordManifest(ctx txContext, manifestJSON string) (*records.Manifest, error) {
	caller, err := callerMSP(ctx)
	if err != nil {
		return nil, err
	}
	m, err := records.DecodeManifestInput([]byte(manifestJSON))
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	mKey, err := compositeKey(stub, records.ManifestKeyType, m.Name, m.Version)
	if err != nil {
		return nil, err
	}
	if _, found, err := getRecord[records.Manifest](stub, mKey, describe("manifest", m.Name, m.Version)); err != nil {
		return nil, err
	} else if found {
		return nil, conflictf("%s is already recorded", describe("manifest", m.Name, m.Version))
	}
	for _, id := range m.NodeIDs() {
		n, err := loadNode(stub, id)
		if err != nil {
			if records.CodeOf(err) == records.CodeNotFound {
				return nil, notFoundf("%s named by the shards is not registered", describe("node", id))
			}
			return nil, err
		}
		if !n.Active() {
			return nil, preconditionf("%s named by the shards is inactive", describe("node", id))
		}
	}
	oKey, err := compositeKey(stub, records.ObjectKeyType, m.Name)
	if err != nil {
		return nil, err
	}
	o, found, err := getRecord[records.Object](stub, oKey, describe("object", m.Name))
	if err != nil {
		return nil, err
	}
	if !found {
		o = &records.Object{Name: m.Name, Owner: caller}
	}
	if o.Owner != caller {
		return nil, forbiddenf("%s belongs to %s; %s may not publish versions of it", describe("object", m.Name), o.Owner, caller)
	}
	if o.HasVersion(m.Version) {
		return nil, conflictf("%s already lists version %s", describe("object", m.Name), m.Version)
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	m.Publisher = caller
	m.CreatedAt = tx.time
	m.TxID = tx.id
	o.Versions = append(o.Versions, m.Version)
	o.Latest = m.Version
	o.UpdatedAt = tx.time
	if err := putRecord(stub, mKey, describe("manifest", m.Name, m.Version), m); err != nil {
		return nil, err
	}
	if err := putRecord(stub, oKey, describe("object", m.Name), o); err != nil {
		return nil, err
	}
	return m, nil
}

func purgeManifest(ctx txContext, name, version, reason string) (*records.Manifest, error) {
	caller, err := callerMSP(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := records.ManifestKey(name, version); err != nil {
		return nil, err
	}
	if err := records.ValidatePurgeReason(reason); err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	m, err := loadManifest(stub, name, version)
	if err != nil {
		return nil, err
	}
	if m.Publisher != caller {
		return nil, forbiddenf("%s was published by %s; %s may not purge it", describe("manifest", name, version), m.Publisher, caller)
	}
	if m.Purged != nil {
		return nil, preconditionf("%s is already purged", describe("manifest", name, version))
	}
	o, err := loadObject(stub, name)
	if err != nil {
		if records.CodeOf(err) == records.CodeNotFound {
			err = internalf("%s has no object head", describe("manifest", name, version))
		}
		return nil, err
	}
	if o.Latest == version {
		// The ledger does not show this transaction's writes, so the purged
		// version is skipped explicitly.
		latest, err := newestLive(stub, o, version)
		if err != nil {
			return nil, err
		}
		o.Latest = latest
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	m.Purged = &records.Tombstone{Reason: reason, At: tx.time, By: caller, TxID: tx.id}
	o.UpdatedAt = tx.time
	if err := putManifest(stub, m); err != nil {
		return nil, err
	}
	oKey, err := compositeKey(stub, records.ObjectKeyType, name)
	if err != nil {
		return nil, err
	}
	if err := putRecord(stub, oKey, describe("object", name), o); err != nil {
		return nil, err
	}
	return m, nil
}

// newestLive returns the newest version of o, other than skip, that is not
// purged, or "" when there is none.
func newestLive(stub shim.ChaincodeStubInterface, o *records.Object, skip string) (string, error) {
	for i := len(o.Versions) - 1; i >= 0; i-- {
		v := o.Versions[i]
		if v == skip {
			continue
		}
		m, err := loadManifest(stub, o.Name, v)
		if err != nil {
			return "", err
		}
		if m.Purged == nil {
			return v, nil
		}
	}
	return "", nil
}

func loadManifest(stub shim.ChaincodeStubInterface, name, version string) (*records.Manifest, error) {
	key, err := compositeKey(stub, records.ManifestKeyType, name, version)
	if err != nil {
		return nil, err
	}
	m, found, err := getRecord[records.Manifest](stub, key, describe("manifest", name, version))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFoundf("%s is not recorded", describe("manifest", name, version))
	}
	return m, nil
}

func putManifest(stub shim.ChaincodeStubInterface, m *records.Manifest) error {
	key, err := compositeKey(stub, records.ManifestKeyType, m.Name, m.Version)
	if err != nil {
		return err
	}
	return putRecord(stub, key, describe("manifest", m.Name, m.Version), m)
}

func loadObject(stub shim.ChaincodeStubInterface, name string) (*records.Object, error) {
	key, err := compositeKey(stub, records.ObjectKeyType, name)
	if err != nil {
		return nil, err
	}
	o, found, err := getRecord[records.Object](stub, key, describe("object", name))
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFoundf("%s is not recorded", describe("object", name))
	}
	if o.Versions == nil {
		o.Versions = []string{}
	}
	return o, nil
}
