package contract

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// invoker drives the real contractapi router with fake stubs, so that the
// parameter conversion and the runtime check of return values against the
// generated metadata schema run as on a peer.
type invoker struct {
	t        *testing.T
	cc       *contractapi.ContractChaincode
	ledger   *fakes.Ledger
	creators map[string][]byte
}

func newInvoker(t *testing.T) *invoker {
	t.Helper()
	cc, err := NewChaincode()
	if err != nil {
		t.Fatalf("NewChaincode: %v", err)
	}
	inv := &invoker{t: t, cc: cc, ledger: fakes.NewLedger(), creators: map[string][]byte{}}
	for _, org := range []string{orgA, orgB} {
		c, err := fakes.Creator(org)
		if err != nil {
			t.Fatal(err)
		}
		inv.creators[org] = c
	}
	return inv
}

// invoke calls fn with args as a client of org and commits on success. It
// returns the payload, or the error message with ok false.
func (inv *invoker) invoke(org, fn string, args ...string) (string, bool) {
	inv.t.Helper()
	stub := inv.ledger.NewStub()
	stub.Args = append([]string{fn}, args...)
	stub.Creator = inv.creators[org]
	resp := inv.cc.Invoke(stub)
	if resp.GetStatus() != 200 {
		return resp.GetMessage(), false
	}
	stub.Commit()
	return string(resp.GetPayload()), true
}

// ok invokes and decodes the payload into out.
func (inv *invoker) ok(org string, out any, fn string, args ...string) {
	inv.t.Helper()
	payload, ok := inv.invoke(org, fn, args...)
	if !ok {
		inv.t.Fatalf("%s failed: %s", fn, payload)
	}
	if out == nil {
		return
	}
	dec := json.NewDecoder(strings.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(out); err != nil {
		inv.t.Fatalf("%s payload %q: %v", fn, payload, err)
	}
}

func (inv *invoker) fail(org string, code records.Code, fn string, args ...string) *records.Error {
	inv.t.Helper()
	msg, ok := inv.invoke(org, fn, args...)
	if ok {
		inv.t.Fatalf("%s succeeded, want %s", fn, code)
	}
	e, found := records.ParseError(msg)
	if !found || e.Code != code {
		inv.t.Fatalf("%s failed with %q, want %s", fn, msg, code)
	}
	return e
}

func TestNewChaincodeMetadata(t *testing.T) {
	inv := newInvoker(t)
	payload, ok := inv.invoke(orgA, "org.hyperledger.fabric:GetMetadata")
	if !ok {
		t.Fatalf("GetMetadata: %s", payload)
	}
	var md struct {
		Contracts map[string]struct {
			Transactions []struct {
				Name string   `json:"name"`
				Tags []string `json:"tag"`
			} `json:"transactions"`
		} `json:"contracts"`
		Components struct {
			Schemas map[string]struct {
				Required   []string       `json:"required"`
				Properties map[string]any `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal([]byte(payload), &md); err != nil {
		t.Fatal(err)
	}
	wantTx := map[string][]string{
		NodeContractName:     {"Deactivate", "Get", "List", "Reactivate", "Register", "Update"},
		ManifestContractName: {"Get", "GetPurge", "Latest", "List", "Object", "Purge", "PurgeBy", "Record", "UpdateHolders", "Versions"},
		HistoryContractName:  {"Account", "Batch", "Budget", "Identity", "Manifest", "Node", "NodeEpoch", "Object", "Payout", "Price", "SLAScore"},
		IdentityContractName: {"Get", "Grant", "List", "Revoke", "Whoami"},
		TokenContractName:    {"Account", "Accounts", "Budget", "Deposit", "Issue", "Open", "Payouts", "Price", "SetBudget", "SetPrice", "SettleQueued", "Spend", "Supply", "Transfer", "Withdraw"},
		DeliveryContractName: {"Batch", "Batches", "Commit", "Epoch", "NodeEpoch", "Prove", "SetEpochLength"},
		AuctionContractName:  {"Bid", "Bids", "Clear", "Contracts", "Get", "GetBid", "Holdings", "Open", "Reauction", "Reopen", "Reveal", "Reveals", "Withdraw"},
		SLAContractName:      {"Attest", "Attestations", "Breakdown", "Epoch", "Get", "History", "List", "Score"},
	}
	evaluate := map[string]bool{"Get": true, "List": true, "Latest": true, "Versions": true, "Node": true, "Manifest": true,
		"Object": true, "Identity": true, "Whoami": true, "Account": true, "Accounts": true, "Price": true, "Payout": true,
		"Payouts": true, "Supply": true, "Batch": true, "Batches": true, "Epoch": true, "Budget": true, "Spend": true, "NodeEpoch": true,
		"GetBid": true, "GetPurge": true, "Bids": true, "Reveals": true, "Contracts": true, "Holdings": true, "Reauction": true,
		"SLAScore": true, "Breakdown": true, "History": true, "Attestations": true}
	for name, want := range wantTx {
		c, ok := md.Contracts[name]
		if !ok {
			t.Fatalf("contract %q missing from metadata", name)
		}
		var got []string
		for _, tx := range c.Transactions {
			got = append(got, tx.Name)
			wantTag := "SUBMIT"
			if evaluate[tx.Name] {
				wantTag = "EVALUATE"
			}
			if !slices.Contains(tx.Tags, wantTag) {
				t.Errorf("%s:%s tags %v, want %s", name, tx.Name, tx.Tags, wantTag)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("contract %s transactions %v, want %v", name, got, want)
		}
	}
	optional := map[string][]string{
		"Node":        {"deactivationReason"},
		"Manifest":    {"contentType", "purged", "updatedAt", "updatedBy", "updateTxId", "publishedBy", "recordedBy", "auction", "keys"},
		"PurgeRecord": {"key", "name", "version"},
		"Encryption":  {"keyId", "salt"},
		"Tombstone":   {"byCert"}, "Shard": nil, "Object": nil, "HistoryEntry": nil,
		"Payout": {"paidAt", "paidTxId", "cappedBytes", "contract"}, "SealedBid": {"opening"}, "Account": nil, "Price": nil, "Supply": nil,
	}
	for schema, opt := range optional {
		s, ok := md.Components.Schemas[schema]
		if !ok {
			t.Fatalf("schema %s missing", schema)
		}
		for prop := range s.Properties {
			if slices.Contains(opt, prop) == slices.Contains(s.Required, prop) {
				t.Errorf("schema %s property %s: required=%v", schema, prop, slices.Contains(s.Required, prop))
			}
		}
	}
}

// TestInvokeThroughContractAPI runs every function through the real router;
// contractapi checks each returned value against the generated schema, so a
// record that does not match its metadata fails here as it would on a peer.
func TestInvokeThroughContractAPI(t *testing.T) {
	inv := newInvoker(t)

	var nodes []*records.Node
	inv.ok(orgA, &nodes, "node:List")
	if nodes == nil || len(nodes) != 0 {
		t.Fatalf("empty node:List = %#v", nodes)
	}
	var objects []*records.Object
	inv.ok(orgA, &objects, "manifest:List")
	if objects == nil || len(objects) != 0 {
		t.Fatalf("empty manifest:List = %#v", objects)
	}

	var n records.Node
	for _, id := range []string{"n1-orga", "n2-orga", "n3-orga"} {
		inv.ok(orgA, &n, "node:Register", nodeJSON(t, id))
	}
	if n.Org != orgA || n.Status != records.NodeStatusActive {
		t.Fatalf("registered %+v", n)
	}
	inv.ok(orgB, &n, "Register", nodeJSON(t, "b1-orgb")) // node is the default contract
	inv.ok(orgA, &n, "node:Update", nodeJSON(t, "n3-orga", func(in *records.NodeInput) { in.Zone = "ap-south" }))
	inv.ok(orgA, &n, "node:Deactivate", "n3-orga", "maintenance")
	if n.DeactivationReason != "maintenance" {
		t.Fatalf("deactivated %+v", n)
	}
	inv.ok(orgA, &n, "node:Reactivate", "n3-orga")
	inv.ok(orgB, &n, "node:Get", "n3-orga")
	inv.ok(orgB, &nodes, "node:List")
	if len(nodes) != 4 {
		t.Fatalf("node:List = %d nodes", len(nodes))
	}

	var m records.Manifest
	inv.ok(orgA, &m, "manifest:Record", manifestJSON(t, "img/logo.svg", "1"))
	inv.ok(orgA, &m, "manifest:Record", manifestJSON(t, "img/logo.svg", "2", func(m *records.Manifest) { m.ContentType = "" }))
	inv.ok(orgA, &m, "manifest:Purge", "img/logo.svg", "2", "wrong colours")
	if m.Purged == nil {
		t.Fatal("purge returned no tombstone")
	}
	inv.ok(orgB, &m, "manifest:Get", "img/logo.svg", "2")
	// Purges by surrogate key, through the router (schema-checked).
	inv.ok(orgA, &m, "manifest:Record", manifestJSON(t, "img/tagged.svg", "1", func(m *records.Manifest) { m.Keys = []string{"release-42"} }))
	var pr records.PurgeRecord
	inv.ok(orgA, &pr, "manifest:PurgeBy", `{"key":"release-42","mode":"soft","reason":"refresh"}`)
	if len(pr.Targets) != 1 || pr.Targets[0] != "img/tagged.svg@1" || pr.Mode != records.PurgeSoft {
		t.Fatalf("soft purge by key %+v", pr)
	}
	inv.ok(orgB, &pr, "manifest:GetPurge", pr.TxID)
	inv.fail(orgA, records.CodeInvalid, "manifest:PurgeBy", `{"key":"bad key","mode":"hard","reason":"r"}`)
	inv.fail(orgB, records.CodeNotFound, "manifest:PurgeBy", `{"key":"release-42","mode":"hard","reason":"r"}`)
	inv.ok(orgA, &pr, "manifest:PurgeBy", `{"key":"release-42","mode":"hard","reason":"recall"}`)
	inv.ok(orgB, &m, "manifest:Get", "img/tagged.svg", "1")
	if m.Purged == nil || m.Purged.TxID != pr.TxID || len(m.Keys) != 1 {
		t.Fatalf("hard purge by key left %+v", m)
	}
	inv.fail(orgB, records.CodeForbidden, "manifest:UpdateHolders", "img/logo.svg", "1", "2", `["n3-orga"]`, `["b1-orgb"]`)
	inv.ok(orgA, &m, "manifest:UpdateHolders", "img/logo.svg", "1", "2", `["n3-orga"]`, `["b1-orgb"]`)
	if m.UpdatedBy != orgA || m.UpdateTxID == "" || m.UpdatedAt == "" || m.Shards[2].Nodes[0] != "b1-orgb" {
		t.Fatalf("updated holders %+v", m)
	}
	var head records.Object
	inv.ok(orgB, &head, "manifest:Object", "img/logo.svg")
	if head.Owner != orgA || len(head.Versions) != 2 || head.Latest != "1" {
		t.Fatalf("object head %+v", head)
	}
	inv.ok(orgB, &m, "manifest:Latest", "img/logo.svg")
	if m.Version != "1" {
		t.Fatalf("latest %s", &m)
	}
	var ms []*records.Manifest
	inv.ok(orgB, &ms, "manifest:Versions", "img/logo.svg")
	if len(ms) != 2 || ms[1].Purged == nil {
		t.Fatalf("versions %v", ms)
	}
	inv.ok(orgB, &objects, "manifest:List")
	if len(objects) != 2 || objects[0].Latest != "1" || objects[1].Latest != "" {
		t.Fatalf("objects %+v", objects)
	}

	var h []*records.HistoryEntry
	inv.ok(orgB, &h, "history:Node", "n3-orga")
	if len(h) != 4 {
		t.Fatalf("node history %d entries", len(h))
	}
	inv.ok(orgB, &h, "history:Manifest", "img/logo.svg", "2")
	inv.ok(orgB, &h, "history:Object", "img/logo.svg")
	if len(h) != 3 {
		t.Fatalf("object history %d entries", len(h))
	}

	// The token contract: integer arguments and every record type.
	var acct records.Account
	inv.ok(orgA, &acct, "token:Issue", "1000")
	inv.ok(orgB, &acct, "token:Open")
	inv.ok(orgA, &acct, "token:Transfer", orgB, "100")
	inv.ok(orgA, &acct, "token:Deposit", "50")
	inv.ok(orgA, &acct, "token:Withdraw", "10")
	if acct.Balance != 860 || acct.Escrow != 40 || acct.Issued != 1000 {
		t.Fatalf("account %+v", acct)
	}
	var price records.Price
	inv.ok(orgB, &price, "token:Price")
	inv.ok(orgB, &price, "token:SetPrice", "3")
	var paid []*records.Payout
	inv.ok(orgB, &paid, "token:SettleQueued")
	if paid == nil || len(paid) != 0 {
		t.Fatalf("settled %#v", paid)
	}
	// Payouts are made by the delivery contract: one paid, one queued.
	for _, p := range []struct {
		ref   string
		bytes int64
	}{{"b-1", 1 << 20}, {"b-2", 1 << 30}} {
		ctx := inv.ledger.NewContext(orgA)
		if _, err := payDelivery(ctx, orgA, orgB, 1, p.bytes, p.ref); err != nil {
			t.Fatal(err)
		}
		ctx.Commit()
	}
	inv.ok(orgB, &paid, "token:Payouts", orgB)
	if len(paid) != 2 || paid[0].Status != records.PayoutPaid || paid[1].Status != records.PayoutQueued {
		t.Fatalf("payouts %v", paid)
	}
	inv.ok(orgB, &h, "history:Payout", "b-2")
	// Other organisations' figures are private (auditors read them).
	inv.fail(orgB, records.CodeForbidden, "token:Accounts")
	inv.fail(orgB, records.CodeForbidden, "token:Account", orgA)
	inv.fail(orgA, records.CodeForbidden, "token:Payouts", orgB)
	inv.ok(orgB, &acct, "token:Account", orgB)
	var supply records.Supply
	inv.ok(orgB, &supply, "token:Supply")
	if acct.Balance != 103 || supply.Issued != 1000 || supply.Balances+supply.Escrows != 1000 {
		t.Fatalf("account %+v, supply %+v", acct, supply)
	}
	inv.fail(orgB, records.CodeForbidden, "history:Account", orgA)
	inv.ok(orgA, &h, "history:Account", orgA)
	if len(h) != 6 { // issue, transfer, deposit, withdraw, a payout, a queued payout
		t.Fatalf("account history %d entries", len(h))
	}
	inv.ok(orgB, &h, "history:Price")
	// Budgets: the default, a change with history, and the spend of an
	// epoch.
	var budget records.Budget
	inv.ok(orgB, &budget, "token:Budget", orgA)
	if budget.PerEpoch != 0 || budget.MSPID != orgA {
		t.Fatalf("default budget %+v", budget)
	}
	inv.ok(orgA, &budget, "token:SetBudget", "500")
	inv.ok(orgB, &budget, "token:Budget", orgA)
	if budget.PerEpoch != 500 || budget.TxID == "" {
		t.Fatalf("budget %+v", budget)
	}
	inv.ok(orgB, &h, "history:Budget", orgA)
	if len(h) != 1 {
		t.Fatalf("budget history %d entries", len(h))
	}
	var spend records.EpochSpend
	inv.ok(orgA, &spend, "token:Spend", orgA, "1")
	if spend.Amount != 3+3072 || spend.Epoch != 1 {
		t.Fatalf("spend %+v", spend)
	}
	inv.fail(orgA, records.CodeInvalid, "token:SetBudget", "-1")
	inv.fail(orgA, records.CodeInvalid, "token:Spend", orgA, "-1")
	var ne records.NodeEpoch
	inv.ok(orgB, &ne, "delivery:NodeEpoch", "n1-orga", "7")
	if ne.Node != "n1-orga" || ne.Epoch != 7 || ne.Bytes != 0 {
		t.Fatalf("node epoch %+v", ne)
	}
	inv.fail(orgA, records.CodeNotFound, "history:NodeEpoch", "n1-orga", "7")
	inv.fail(orgA, records.CodeInvalid, "token:Issue", "-5")
	inv.fail(orgA, records.CodeFailedPrecondition, "token:Transfer", orgB, "100000")
	inv.fail(orgA, records.CodeNotFound, "history:Payout", "nothing")

	// Errors reach the client as DCT errors.
	inv.fail(orgB, records.CodeForbidden, "node:Update", nodeJSON(t, "n1-orga"))
	inv.fail(orgB, records.CodeForbidden, "node:Deactivate", "n1-orga", "")
	inv.fail(orgB, records.CodeForbidden, "manifest:Purge", "img/logo.svg", "1", "not yours")
	inv.fail(orgA, records.CodeConflict, "manifest:Record", manifestJSON(t, "img/logo.svg", "1"))
	inv.fail(orgA, records.CodeConflict, "manifest:UpdateHolders", "img/logo.svg", "1", "2", `["n3-orga"]`, `["n1-orga"]`)
	inv.fail(orgA, records.CodeInvalid, "manifest:UpdateHolders", "img/logo.svg", "1", "x", `["b1-orgb"]`, `["n3-orga"]`)
	inv.fail(orgA, records.CodeFailedPrecondition, "manifest:UpdateHolders", "img/logo.svg", "2", "0", `["n1-orga"]`, `["b1-orgb"]`)
	inv.fail(orgA, records.CodeInvalid, "manifest:Record", strings.Replace(manifestJSON(t, "x", "1"), `{"name"`, `{"key":"k","name"`, 1))
	e := inv.fail(orgA, records.CodeNotFound, "manifest:Record", manifestJSON(t, "x", "1", func(m *records.Manifest) { m.Shards[0].Nodes = []string{"nx"} }))
	if !strings.Contains(e.Message, "'nx'") {
		t.Errorf("message %q does not name the node", e.Message)
	}
	inv.fail(orgA, records.CodeNotFound, "history:Object", "nothing")
	inv.fail(orgA, records.CodeInvalid, "node:Get", "BAD")

	// A client without a parsable identity is refused, not crashed.
	stub := inv.ledger.NewStub()
	stub.Args = []string{"node:Register", nodeJSON(t, "n9")}
	stub.Creator = []byte("not a serialized identity")
	resp := inv.cc.Invoke(stub)
	if e, ok := records.ParseError(resp.GetMessage()); resp.GetStatus() == 200 || !ok || e.Code != records.CodeForbidden {
		t.Fatalf("invoke without identity: %d %q", resp.GetStatus(), resp.GetMessage())
	}
}
