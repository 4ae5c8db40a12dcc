package contract

import (
	"fmt"
	"testing"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"google.golang.org/protobuf/proto"
)

// TestDeliveryThroughContractAPI runs the delivery functions through the
// real router, so that the batch records are checked against their
// generated schema as on a peer.
func TestDeliveryThroughContractAPI(t *testing.T) {
	inv := newInvoker(t)
	var n records.Node
	for _, id := range []string{"n1-orga", "n2-orga"} {
		inv.ok(orgA, &n, "node:Register", nodeJSON(t, id))
	}
	// n3 offers 8 bit/s: 60 bytes an epoch.
	inv.ok(orgA, &n, "node:Register", nodeJSON(t, "n3-orga", func(in *records.NodeInput) { in.BandwidthBps = 8 }))
	// One token a byte; org A pays at most 150 tokens an epoch.
	var price records.Price
	inv.ok(orgA, &price, "token:SetPrice", "1048576")
	var budget records.Budget
	inv.ok(orgA, &budget, "token:SetBudget", "150")
	var m records.Manifest
	inv.ok(orgA, &m, "manifest:Record", manifestJSON(t, "a/app.js", "1"))

	cert, p, key, err := fakes.NewCertKey(orgA, "User2@a", "client")
	if err != nil {
		t.Fatal(err)
	}
	creator, err := proto.Marshal(&msp.SerializedIdentity{Mspid: orgA, IdBytes: []byte(p)})
	if err != nil {
		t.Fatal(err)
	}
	inv.creators["gwA"] = creator
	var id records.Identity
	inv.ok(orgA, &id, "identity:Grant", toJSON(t, records.GrantInput{Certificate: p, Roles: []records.Role{records.RoleGateway}}))
	g := gateway{member: member{msp: orgA, cert: cert, pem: p}, key: key}

	var ep records.EpochInfo
	inv.ok(orgB, &ep, "delivery:Epoch")
	b := &batch{epoch: ep.Epoch, publisher: map[string]string{"a/app.js": orgA}, gw: g}
	for s := range 3 {
		b.receipts = append(b.receipts, g.receipt(t, ep.Epoch, "r"+string(rune('0'+s)), &m, s, m.Shards[s].Nodes[0], 100))
	}
	b.receipts = append(b.receipts, g.receipt(t, ep.Epoch, "bad", &m, 0, "n2-orga", 50)) // not a holder
	inv.fail(orgA, records.CodeForbidden, "delivery:Commit", toJSON(t, b.input()))
	var got records.Batch
	inv.ok("gwA", &got, "delivery:Commit", toJSON(t, b.input()))
	if got.Status != records.BatchPending {
		t.Fatalf("committed %+v", got)
	}
	inv.ok("gwA", &got, "delivery:Prove", got.ID, toJSON(t, b.samples(t, got.ID)))
	if got.Status != records.BatchAccepted || len(got.Excluded) != 1 || len(got.Payouts) != 3 {
		t.Fatalf("proved %+v", got)
	}
	// n1 is paid its 100 bytes, n2 50 of its 100 (the budget runs out),
	// n3 nothing: 40 of its 100 bytes are over its capacity, the other
	// 60 over the budget.
	// Capacity cuts come first, then the budget's, in totals order.
	want := []records.Capped{
		{Node: "n3-orga", Publisher: orgA, Bytes: 40, Reason: records.CappedNodeCapacity},
		{Node: "n2-orga", Publisher: orgA, Bytes: 50, Reason: records.CappedPublisherBudget},
		{Node: "n3-orga", Publisher: orgA, Bytes: 60, Reason: records.CappedPublisherBudget},
	}
	if len(got.Capped) != len(want) {
		t.Fatalf("capped %+v, want %+v", got.Capped, want)
	}
	for i, c := range got.Capped {
		c.Detail = ""
		if c != want[i] {
			t.Fatalf("capped %+v, want %+v", got.Capped, want)
		}
	}
	for i, paid := range []int64{100, 50, 0} {
		if p := got.Payouts[i]; p.Bytes != paid || p.Amount != paid || got.Accepted[i].Bytes != paid {
			t.Fatalf("payout %d = %+v, want %d bytes paid", i, p, paid)
		}
	}
	var ne records.NodeEpoch
	inv.ok(orgB, &ne, "delivery:NodeEpoch", "n3-orga", fmt.Sprint(ep.Epoch))
	if ne.CapacityBytes != 60 || ne.Bytes != 60 || ne.CappedBytes != 40 || ne.Batches != 1 {
		t.Fatalf("node epoch %+v", ne)
	}
	var spend records.EpochSpend
	inv.ok(orgA, &spend, "token:Spend", orgA, fmt.Sprint(ep.Epoch))
	if spend.Amount != 150 || spend.CappedBytes != 110 {
		t.Fatalf("spend %+v", spend)
	}
	inv.ok(orgB, &got, "delivery:Batch", got.ID)
	var list []*records.Batch
	inv.ok(orgB, &list, "delivery:Batches", orgA)
	if len(list) != 1 {
		t.Fatalf("batches %+v", list)
	}
	var h []*records.HistoryEntry
	inv.ok(orgB, &h, "history:Batch", got.ID)
	if len(h) != 2 {
		t.Fatalf("history %d entries", len(h))
	}
	inv.ok(orgB, &h, "history:NodeEpoch", "n3-orga", fmt.Sprint(ep.Epoch))
	if len(h) != 1 {
		t.Fatalf("node epoch history %d entries", len(h))
	}
	inv.fail(orgB, records.CodeNotFound, "delivery:Batch", "none")
}
