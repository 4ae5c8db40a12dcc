package contract

import (
	"encoding/json"
	"slices"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
)

// indexKeys adds (add) or removes the surrogate key index entries of m, a
// version published by publisher.
func indexKeys(stub shim.ChaincodeStubInterface, publisher string, m *records.Manifest, add bool) error {
	for _, k := range m.Keys {
		key, err := compositeKey(stub, records.SurrogateKeyType, publisher, k, m.Name, m.Version)
		if err != nil {
			return err
		}
		if add {
			err = stub.PutState(key, []byte{1})
		} else {
			err = stub.DelState(key)
		}
		if err != nil {
			return internalf("cannot update the surrogate key index of %s: %v", describe("manifest", m.Name, m.Version), err)
		}
	}
	return nil
}

// taggedVersions returns the live versions publisher tagged with key,
// "name@version" in key order; more than MaxPurgeTargets is refused.
func taggedVersions(stub shim.ChaincodeStubInterface, publisher, key string) ([]string, error) {
	it, err := stub.GetStateByPartialCompositeKey(records.SurrogateKeyType, []string{publisher, key})
	if err != nil {
		return nil, internalf("cannot read the surrogate key index: %v", err)
	}
	defer it.Close()
	var out []string
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, internalf("cannot read the surrogate key index: %v", err)
		}
		_, attrs, err := stub.SplitCompositeKey(kv.Key)
		if err != nil || len(attrs) != 4 {
			return nil, internalf("surrogate key index entry %q is malformed", kv.Key)
		}
		if len(out) == records.MaxPurgeTargets {
			return nil, preconditionf("surrogate key %q of %s tags more than %d live versions: one purge reaches at most %d (purge by narrower keys or by name)",
				key, publisher, records.MaxPurgeTargets, records.MaxPurgeTargets)
		}
		out = append(out, attrs[2]+"@"+attrs[3])
	}
	return out, nil
}

// purgeBy carries out a purge by surrogate key (hard: tombstones every
// live version of the caller's organisation tagged with the key; soft:
// changes none) or a soft purge by name, records it under
// PurgeRecordKey(txID) and announces the versions reached in one
// EventInvalidate event. A key that tags nothing is NOT_FOUND.
func purgeBy(ctx txContext, requestJSON string) (*records.PurgeRecord, error) {
	who, err := authorize(ctx, "manifest:PurgeBy")
	if err != nil {
		return nil, err
	}
	req, err := records.DecodePurgeRequest([]byte(requestJSON))
	if err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	caller := who.MSPID
	var targets []string
	if req.Key != "" {
		if targets, err = taggedVersions(stub, caller, req.Key); err != nil {
			return nil, err
		}
		if len(targets) == 0 {
			return nil, notFoundf("surrogate key %q tags no live version of %s", req.Key, caller)
		}
	} else if targets, err = softTargets(stub, caller, req.Name, req.Version); err != nil {
		return nil, err
	}
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	if req.Mode == records.PurgeHard {
		if err := tombstoneAll(stub, who, targets, req.Reason, tx); err != nil {
			return nil, err
		}
	}
	rec := &records.PurgeRecord{Key: req.Key, Name: req.Name, Version: req.Version, Mode: req.Mode, Reason: req.Reason, Publisher: caller, ByCert: who.CertHash, Targets: targets, At: tx.time, TxID: tx.id}
	key, err := compositeKey(stub, records.PurgeRecordKeyType, tx.id)
	if err != nil {
		return nil, err
	}
	if err := putRecord(stub, key, "purge record", rec); err != nil {
		return nil, err
	}
	payload, err := json.Marshal(records.ManifestEvent{Kind: records.EventInvalidate, TxID: tx.id, Mode: req.Mode, Targets: targets})
	if err != nil {
		return nil, internalf("cannot encode the manifest event: %v", err)
	}
	if err := stub.SetEvent(records.ManifestEventName, payload); err != nil {
		return nil, internalf("cannot set the manifest event: %v", err)
	}
	return rec, nil
}

// softTargets are the versions a soft purge by name reaches: the given
// version, or every live version; the object must be the caller's.
func softTargets(stub shim.ChaincodeStubInterface, caller, name, version string) ([]string, error) {
	o, err := loadObject(stub, name)
	if err != nil {
		return nil, err
	}
	if o.Owner != caller {
		return nil, forbiddenf("%s belongs to %s; %s may not purge it", describe("object", name), o.Owner, caller)
	}
	if version != "" {
		m, err := loadManifest(stub, name, version)
		if err != nil {
			return nil, err
		}
		if m.Purged != nil {
			return nil, preconditionf("%s is purged", describe("manifest", name, version))
		}
		return []string{name + "@" + version}, nil
	}
	var out []string
	for i := len(o.Versions) - 1; i >= 0 && len(out) < records.MaxPurgeTargets; i-- {
		m, err := loadManifest(stub, name, o.Versions[i])
		if err != nil {
			return nil, err
		}
		if m.Purged == nil {
			out = append(out, name+"@"+m.Version)
		}
	}
	if len(out) == 0 {
		return nil, preconditionf("%s has no live version", describe("object", name))
	}
	slices.Sort(out)
	return out, nil
}

// tombstoneAll purges every target version as manifest:Purge does (the
// targets are the caller's live versions, from the index), moving each
// object's latest to its newest version left live.
func tombstoneAll(stub shim.ChaincodeStubInterface, who *records.Caller, targets []string, reason string, tx txInfo) error {
	byName := map[string]map[string]bool{}
	var names []string
	for _, t := range targets {
		name, version := splitTarget(t)
		if byName[name] == nil {
			byName[name] = map[string]bool{}
			names = append(names, name)
		}
		byName[name][version] = true
	}
	for _, name := range names {
		o, err := loadObject(stub, name)
		if err != nil {
			return err
		}
		for _, version := range o.Versions {
			if !byName[name][version] {
				continue
			}
			m, err := loadManifest(stub, name, version)
			if err != nil {
				return err
			}
			if m.Publisher != who.MSPID {
				return forbiddenf("%s was published by %s; %s may not purge it", describe("manifest", name, version), m.Publisher, who.MSPID)
			}
			if m.Purged != nil {
				continue
			}
			m.Purged = &records.Tombstone{Reason: reason, At: tx.time, By: who.MSPID, ByCert: who.CertHash, TxID: tx.id}
			if err := putManifest(stub, m); err != nil {
				return err
			}
			if err := indexKeys(stub, m.Publisher, m, false); err != nil {
				return err
			}
		}
		if byName[name][o.Latest] {
			latest, err := newestLiveSkipping(stub, o, byName[name])
			if err != nil {
				return err
			}
			o.Latest = latest
		}
		o.UpdatedAt = tx.time
		if err := putObject(stub, o); err != nil {
			return err
		}
	}
	return nil
}

func splitTarget(t string) (name, version string) {
	i := len(t) - 1
	for i >= 0 && t[i] != '@' {
		i--
	}
	return t[:i], t[i+1:]
}

// getPurge returns the purge record of transaction txID.
func getPurge(ctx txContext, txID string) (*records.PurgeRecord, error) {
	if _, err := records.PurgeRecordKey(txID); err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	key, err := compositeKey(stub, records.PurgeRecordKeyType, txID)
	if err != nil {
		return nil, err
	}
	rec, found, err := getRecord[records.PurgeRecord](stub, key, "purge record")
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFoundf("no purge was recorded by transaction %q", txID)
	}
	return rec, nil
}
