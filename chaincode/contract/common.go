package contract

import (
	"encoding/json"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
	"github.com/hyperledger/fabric-contract-api-go/v2/metadata"
)

// txContext is the transaction context the contract functions take.
type txContext = contractapi.TransactionContextInterface

func invalidf(format string, args ...any) *records.Error {
	return records.Errorf(records.CodeInvalid, format, args...)
}

func notFoundf(format string, args ...any) *records.Error {
	return records.Errorf(records.CodeNotFound, format, args...)
}

func conflictf(format string, args ...any) *records.Error {
	return records.Errorf(records.CodeConflict, format, args...)
}

func forbiddenf(format string, args ...any) *records.Error {
	return records.Errorf(records.CodeForbidden, format, args...)
}

func preconditionf(format string, args ...any) *records.Error {
	return records.Errorf(records.CodeFailedPrecondition, format, args...)
}

func internalf(format string, args ...any) *records.Error {
	return records.Errorf(records.CodeInternal, format, args...)
}

// asRecordsError keeps a *records.Error and turns anything else into an
// INTERNAL one, so that clients always receive a DCT error.
func asRecordsError(err error) error {
	if err == nil {
		return nil
	}
	if records.CodeOf(err) != "" {
		return err
	}
	return internalf("%v", err)
}

// callerMSP returns the MSP ID of the submitting client.
func callerMSP(ctx txContext) (string, error) {
	ci := ctx.GetClientIdentity()
	if ci == nil {
		return "", forbiddenf("the caller's identity is unavailable")
	}
	// contractapi stores a nil *cid.ClientID when it cannot parse the
	// creator; calling it would panic.
	if v := reflect.ValueOf(ci); v.Kind() == reflect.Pointer && v.IsNil() {
		return "", forbiddenf("the caller's identity is unavailable")
	}
	mspID, err := ci.GetMSPID()
	if err != nil {
		return "", forbiddenf("cannot read the caller's MSP ID: %v", err)
	}
	if mspID == "" {
		return "", forbiddenf("the caller has no MSP ID")
	}
	return mspID, nil
}

// txInfo is what every write stamps into a record.
type txInfo struct {
	id   string
	time string
}

func currentTx(stub shim.ChaincodeStubInterface) (txInfo, error) {
	ts, err := stub.GetTxTimestamp()
	if err != nil {
		return txInfo{}, internalf("cannot read the transaction timestamp: %v", err)
	}
	if err := ts.CheckValid(); err != nil {
		return txInfo{}, internalf("invalid transaction timestamp: %v", err)
	}
	id := stub.GetTxID()
	if id == "" {
		return txInfo{}, internalf("the transaction has no id")
	}
	return txInfo{id: id, time: records.FormatTimestamp(ts.AsTime())}, nil
}

func compositeKey(stub shim.ChaincodeStubInterface, objectType string, attrs ...string) (string, error) {
	key, err := stub.CreateCompositeKey(objectType, attrs)
	if err != nil {
		return "", internalf("cannot build %s key: %v", objectType, err)
	}
	return key, nil
}

// getRecord reads and decodes the record under key; found is false when the
// key has no value.
func getRecord[T any](stub shim.ChaincodeStubInterface, key, what string) (rec *T, found bool, err error) {
	data, err := stub.GetState(key)
	if err != nil {
		return nil, false, internalf("cannot read %s: %v", what, err)
	}
	if data == nil {
		return nil, false, nil
	}
	rec = new(T)
	if err := json.Unmarshal(data, rec); err != nil {
		return nil, false, internalf("stored %s is corrupt: %v", what, err)
	}
	return rec, true, nil
}

// putRecord encodes and writes a record.
func putRecord(stub shim.ChaincodeStubInterface, key, what string, rec any) error {
	data, err := json.Marshal(rec)
	if err != nil {
		return internalf("cannot encode %s: %v", what, err)
	}
	if err := stub.PutState(key, data); err != nil {
		return internalf("cannot write %s: %v", what, err)
	}
	return nil
}

// listRecords decodes every record of objectType, in key order; with
// attributes, only those whose key starts with them.
func listRecords[T any](stub shim.ChaincodeStubInterface, objectType string, attributes ...string) ([]*T, error) {
	if attributes == nil {
		attributes = []string{}
	}
	it, err := stub.GetStateByPartialCompositeKey(objectType, attributes)
	if err != nil {
		return nil, internalf("cannot list %s records: %v", objectType, err)
	}
	defer it.Close()
	out := []*T{}
	for it.HasNext() {
		kv, err := it.Next()
		if err != nil {
			return nil, internalf("cannot list %s records: %v", objectType, err)
		}
		rec := new(T)
		if err := json.Unmarshal(kv.Value, rec); err != nil {
			return nil, internalf("stored %s record %s is corrupt: %v", objectType, strconv.Quote(kv.Key), err)
		}
		out = append(out, rec)
	}
	return out, nil
}

// keyHistory returns the committed writes of key, oldest first. Fabric v2
// peers return history newest first, so the entries are reversed.
func keyHistory(stub shim.ChaincodeStubInterface, key, what string) ([]*records.HistoryEntry, error) {
	it, err := stub.GetHistoryForKey(key)
	if err != nil {
		return nil, internalf("cannot read the history of %s: %v", what, err)
	}
	defer it.Close()
	out := []*records.HistoryEntry{}
	for it.HasNext() {
		mod, err := it.Next()
		if err != nil {
			return nil, internalf("cannot read the history of %s: %v", what, err)
		}
		e := &records.HistoryEntry{TxID: mod.GetTxId(), IsDelete: mod.GetIsDelete()}
		if ts := mod.GetTimestamp(); ts != nil {
			e.Timestamp = records.FormatTimestamp(ts.AsTime())
		}
		if !e.IsDelete {
			e.Value = string(mod.GetValue())
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, notFoundf("%s has no history", what)
	}
	slices.Reverse(out)
	return out, nil
}

// describe names a record in messages: the kind and the quoted identifier.
func describe(kind string, ids ...string) string {
	return kind + " '" + strings.Join(ids, "@") + "'"
}

// newContract is a contract's embedded contractapi.Contract: its name and
// the metadata every DCT contract publishes (title, description, the
// chaincode's Version).
func newContract(name, title, description string) contractapi.Contract {
	return contractapi.Contract{
		Name: name,
		Info: metadata.InfoMetadata{Title: title, Description: description, Version: Version},
	}
}
