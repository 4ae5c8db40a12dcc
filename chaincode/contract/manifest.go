package contract

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
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
	return &ManifestContract{Contract: newContract(ManifestContractName, "DCT manifests", "Published object versions, their shard placement and purges")}
}

// GetEvaluateTransactions lists the read-only functions.
func (c *ManifestContract) GetEvaluateTransactions() []string {
	return []string{"Get", "Latest", "Object", "Versions", "List", "GetPurge"}
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

// UpdateHolders replaces the holders of one shard of a recorded version; it
// is how a gateway records a self-healing repair. It is a compare-and-set:
// index is the shard index as a decimal string, and expectedJSON, a JSON
// array of node ids, must equal the shard's current nodes as a set (order
// does not matter), otherwise the call fails with an ALREADY_EXISTS error
// (records.ErrConflict) saying that the holders changed: another repair won.
// holdersJSON, the new holders, is a JSON array of distinct node ids, each
// registered and active, as Record requires of shard nodes; afterwards no
// node the update adds may hold k or more of the version's shards. Any
// member organisation may call it. Only the shard's nodes and the update
// fields (updatedAt, updatedBy, updateTxId) change; a purged version is
// refused.
func (c *ManifestContract) UpdateHolders(ctx contractapi.TransactionContextInterface, name string, version string, index string, expectedJSON string, holdersJSON string) (*records.Manifest, error) {
	m, err := updateHolders(ctx, name, version, index, expectedJSON, holdersJSON)
	return m, asRecordsError(err)
}

// PurgeBy purges by surrogate key, hard or soft, or soft-purges by name
// (records.PurgeRequest as JSON): the versions reached are the caller's
// organisation's only, at most records.MaxPurgeTargets; the purge is
// recorded (GetPurge) and announced in one invalidate event, from which
// every gateway drops (hard) or marks stale (soft) what it cached of them.
func (c *ManifestContract) PurgeBy(ctx contractapi.TransactionContextInterface, requestJSON string) (*records.PurgeRecord, error) {
	rec, err := purgeBy(ctx, requestJSON)
	return rec, asRecordsError(err)
}

// GetPurge returns the record of the purge made by transaction txID.
func (c *ManifestContract) GetPurge(ctx contractapi.TransactionContextInterface, txID string) (*records.PurgeRecord, error) {
	rec, err := getPurge(ctx, txID)
	return rec, asRecordsError(err)
}

func recordManifest(ctx txContext, manifestJSON string) (*records.Manifest, error) {
	who, err := authorize(ctx, "manifest:Record")
	if err != nil {
		return nil, err
	}
	caller := who.MSPID
	m, err := records.DecodeManifestInput([]byte(manifestJSON))
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	if m.PublishedBy, err = publisherOf(ctx, who, m.PublishedBy); err != nil {
		return nil, err
	}
	if err := checkPlacement(m); err != nil {
		return nil, err
	}
	if _, err := loadManifest(stub, m.Name, m.Version); err == nil {
		return nil, conflictf("%s is already recorded", describe("manifest", m.Name, m.Version))
	} else if records.CodeOf(err) != records.CodeNotFound {
		return nil, err
	}
	if err := requireActiveNodes(stub, m.NodeIDs(), "the shards"); err != nil {
		return nil, err
	}
	if m.Auction != "" {
		if err := checkContracted(stub, m, caller); err != nil {
			return nil, err
		}
	}
	o, err := loadObject(stub, m.Name)
	if records.CodeOf(err) == records.CodeNotFound {
		o, err = &records.Object{Name: m.Name, Owner: caller}, nil
	}
	if err != nil {
		return nil, err
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
	m.RecordedBy = who.CertHash
	m.CreatedAt = tx.time
	m.TxID = tx.id
	newObject := len(o.Versions) == 0
	o.Versions = append(o.Versions, m.Version)
	o.Latest = m.Version
	o.UpdatedAt = tx.time
	if err := putManifest(stub, m); err != nil {
		return nil, err
	}
	if err := indexKeys(stub, caller, m, true); err != nil {
		return nil, err
	}
	if err := putObject(stub, o); err != nil {
		return nil, err
	}
	// The owner's peers must endorse every later change of the version and
	// of the object head.
	for _, key := range []struct {
		typ   string
		attrs []string
	}{
		{records.ManifestKeyType, []string{m.Name, m.Version}}, {records.ObjectKeyType, []string{m.Name}},
	} {
		if key.typ == records.ObjectKeyType && !newObject {
			continue
		}
		k, err := compositeKey(stub, key.typ, key.attrs...)
		if err != nil {
			return nil, err
		}
		if err := setOwnerEndorsement(stub, k, caller); err != nil {
			return nil, err
		}
	}
	if err := setManifestEvent(stub, m.Name, m.Version, records.EventRecord, tx.id); err != nil {
		return nil, err
	}
	return m, nil
}

// publisherOf checks and returns the publisher identity a manifest is
// recorded for. A gateway names the publisher it authenticated (publishedBy),
// which must be a registered publisher of the gateway's own organisation; a
// publisher or admin recording its own manifest is the publisher.
func publisherOf(ctx txContext, who *records.Caller, publishedBy string) (string, error) {
	if publishedBy == "" || publishedBy == who.CertHash {
		if who.Has(records.RolePublisher) || who.Has(records.RoleAdmin) {
			return who.CertHash, nil
		}
		return "", forbiddenf("%s records manifests only for a publisher it names in publishedBy", who)
	}
	if !who.Has(records.RoleGateway) && !who.Has(records.RoleAdmin) {
		return "", forbiddenf("%s may not record a manifest for another identity", who)
	}
	key, err := records.IdentityKey(who.MSPID, publishedBy)
	if err != nil {
		return "", err
	}
	id, found, err := getRecord[records.Identity](ctx.GetStub(), key, describe("identity", who.MSPID, publishedBy))
	if err != nil {
		return "", err
	}
	if !found || !id.Has(records.RolePublisher) {
		return "", forbiddenf("publishedBy %s is not a publisher of %s", publishedBy, who.MSPID)
	}
	return publishedBy, nil
}

// checkPlacement enforces the placement rule on a new manifest: no node
// holds k or more of its shards (at most one with k = 1), so that no single
// node can rebuild the object, and losing a node loses no more than it
// should.
func checkPlacement(m *records.Manifest) error {
	limit := max(m.K-1, 1)
	held := make(map[string]int)
	for _, sh := range m.Shards {
		for _, id := range sh.Nodes {
			held[id]++
			if held[id] > limit {
				return invalidf("%s holds %d of the shards of %s; a node may hold at most %d (k = %d)",
					describe("node", id), held[id], describe("manifest", m.Name, m.Version), limit, m.K)
			}
		}
	}
	return nil
}

func purgeManifest(ctx txContext, name, version, reason string) (*records.Manifest, error) {
	who, err := authorize(ctx, "manifest:Purge")
	if err != nil {
		return nil, err
	}
	caller := who.MSPID
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
	m.Purged = &records.Tombstone{Reason: reason, At: tx.time, By: caller, ByCert: who.CertHash, TxID: tx.id}
	o.UpdatedAt = tx.time
	if err := putManifest(stub, m); err != nil {
		return nil, err
	}
	if err := indexKeys(stub, m.Publisher, m, false); err != nil {
		return nil, err
	}
	if err := putObject(stub, o); err != nil {
		return nil, err
	}
	if err := setManifestEvent(stub, name, version, records.EventPurge, tx.id); err != nil {
		return nil, err
	}
	return m, nil
}

func updateHolders(ctx txContext, name, version, index, expectedJSON, holdersJSON string) (*records.Manifest, error) {
	who, err := authorize(ctx, "manifest:UpdateHolders")
	if err != nil {
		return nil, err
	}
	caller := who.MSPID
	if _, err := records.ManifestKey(name, version); err != nil {
		return nil, err
	}
	i, err := parseShardIndex(index)
	if err != nil {
		return nil, err
	}
	expected, err := records.DecodeShardNodes([]byte(expectedJSON), "expected")
	if err != nil {
		return nil, err
	}
	holders, err := records.DecodeShardNodes([]byte(holdersJSON), "holders")
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	what := describe("manifest", name, version)
	m, err := loadManifest(stub, name, version)
	if err != nil {
		return nil, err
	}
	if m.Purged != nil {
		return nil, preconditionf("%s is purged; its shards are no longer repaired", what)
	}
	if i >= len(m.Shards) {
		return nil, invalidf("index %d is out of range: %s has %d shards (0..%d)", i, what, len(m.Shards), len(m.Shards)-1)
	}
	current := m.Shards[i].Nodes
	if !sameNodes(current, expected) {
		return nil, conflictf("the holders of shard %d of %s changed: they are %v, not the expected %v", i, what, sorted(current), sorted(expected))
	}
	if sameNodes(current, holders) {
		return nil, invalidf("holders %v are already the holders of shard %d of %s", sorted(holders), i, what)
	}
	if err := requireActiveNodes(stub, holders, "the holders"); err != nil {
		return nil, err
	}
	if err := mayReplaceHolders(stub, who, m, current, holders); err != nil {
		return nil, err
	}
	m.Shards[i].Nodes = holders
	if err := checkSpread(m, current, holders); err != nil {
		return nil, err
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	m.UpdatedAt = tx.time
	m.UpdatedBy = caller
	m.UpdateTxID = tx.id
	if err := putManifest(stub, m); err != nil {
		return nil, err
	}
	if err := setManifestEvent(stub, name, version, records.EventHolders, tx.id); err != nil {
		return nil, err
	}
	return m, nil
}

// setManifestEvent sets the transaction's chaincode event (one per
// transaction): which version changed and how, for the gateways that keep
// manifests cached. It is emitted only if the transaction commits valid.
func setManifestEvent(stub shim.ChaincodeStubInterface, name, version string, kind records.ManifestEventKind, txID string) error {
	payload, err := json.Marshal(records.ManifestEvent{Name: name, Version: version, Kind: kind, TxID: txID})
	if err != nil {
		return internalf("cannot encode the manifest event: %v", err)
	}
	if err := stub.SetEvent(records.ManifestEventName, payload); err != nil {
		return internalf("cannot set the manifest event: %v", err)
	}
	return nil
}

// requireActiveNodes checks the rule Record and UpdateHolders share: every
// node a manifest names as a shard holder is registered (NOT_FOUND
// otherwise) and active (FAILED_PRECONDITION otherwise). namedBy says where
// the ids come from in the error ("the shards", "the holders").
func requireActiveNodes(stub shim.ChaincodeStubInterface, ids []string, namedBy string) error {
	for _, id := range ids {
		n, err := loadNode(stub, id)
		if err != nil {
			if records.CodeOf(err) == records.CodeNotFound {
				return notFoundf("%s named by %s is not registered", describe("node", id), namedBy)
			}
			return err
		}
		if !n.Active() {
			return preconditionf("%s named by %s is inactive", describe("node", id), namedBy)
		}
	}
	return nil
}

// mayReplaceHolders decides whether caller may drop the holders of a shard
// that holders no longer lists. The owner organisation of the object may
// move its shards anywhere; any other member may only drop a holder that is
// its own node or that is deactivated on the ledger (its owner, or the SLA
// process, took it out of service). So no member can make another member's
// live object unreadable by pointing its shards at nodes that do not hold
// them: the copies it drops are on nodes that are out of service or its own.
func mayReplaceHolders(stub shim.ChaincodeStubInterface, caller *records.Caller, m *records.Manifest, current, holders []string) error {
	if caller.MSPID == m.Publisher {
		return nil
	}
	for _, id := range current {
		if slices.Contains(holders, id) {
			continue
		}
		n, err := loadNode(stub, id)
		if records.CodeOf(err) == records.CodeNotFound {
			continue // a holder no longer registered holds nothing to protect
		}
		if err != nil {
			return err
		}
		if n.Org != caller.MSPID && n.Active() {
			return forbiddenf("%s may not drop %s, an active node of %s, from a shard of %s (published by %s): only the publisher's organisation may, or the node's owner, or anyone once the node is deactivated",
				caller, describe("node", id), n.Org, describe("manifest", m.Name, m.Version), m.Publisher)
		}
	}
	return nil
}

// maxIndexDigits bounds the length of a shard index argument (MaxShards is
// below 1000).
const maxIndexDigits = 3

// parseShardIndex parses a shard index given as a canonical decimal string:
// digits only, no sign, no leading zero.
func parseShardIndex(s string) (int, error) {
	ok := s != "" && len(s) <= maxIndexDigits && (s == "0" || s[0] != '0')
	for i := 0; ok && i < len(s); i++ {
		ok = s[i] >= '0' && s[i] <= '9'
	}
	if !ok {
		return 0, invalidf("index must be a shard index in decimal (0..%d), got %q", records.MaxShards-1, s)
	}
	i, err := strconv.Atoi(s)
	if err != nil {
		return 0, invalidf("index must be a shard index in decimal, got %q", s)
	}
	return i, nil
}

// checkSpread refuses an update of one shard's holders from before to after
// that leaves a node it adds holding k or more of m's shards (m already
// carries after), since such a node could rebuild the object alone. Nodes
// the update keeps or removes hold no more shards than before, so they are
// not checked.
func checkSpread(m *records.Manifest, before, after []string) error {
	held := make(map[string]int)
	for _, s := range m.Shards {
		for _, id := range s.Nodes {
			held[id]++
		}
	}
	for _, id := range after {
		if !slices.Contains(before, id) && held[id] >= m.K {
			return invalidf("%s would hold %d of the %d shards of %s; a node must hold fewer than k = %d",
				describe("node", id), held[id], len(m.Shards), describe("manifest", m.Name, m.Version), m.K)
		}
	}
	return nil
}

// sameNodes reports whether a and b list the same node ids, in any order.
// Both lists are free of duplicates.
func sameNodes(a, b []string) bool {
	return len(a) == len(b) && slices.Equal(sorted(a), sorted(b))
}

func sorted(ids []string) []string {
	return slices.Sorted(slices.Values(ids))
}

// newestLive returns the newest version of o, other than skip, that is not
// purged, or "" when there is none.
func newestLive(stub shim.ChaincodeStubInterface, o *records.Object, skip string) (string, error) {
	return newestLiveSkipping(stub, o, map[string]bool{skip: true})
}

// newestLiveSkipping returns the newest version of o not in skip that is
// not purged, or "".
func newestLiveSkipping(stub shim.ChaincodeStubInterface, o *records.Object, skip map[string]bool) (string, error) {
	for i := len(o.Versions) - 1; i >= 0; i-- {
		v := o.Versions[i]
		if skip[v] {
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

func putObject(stub shim.ChaincodeStubInterface, o *records.Object) error {
	key, err := compositeKey(stub, records.ObjectKeyType, o.Name)
	if err != nil {
		return err
	}
	return putRecord(stub, key, describe("object", o.Name), o)
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
