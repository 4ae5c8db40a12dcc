package contract

import (
	"slices"
	"testing"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

// TestAuditNodePayments: the payments to a node come with the batch behind
// each, for an auditor of any organisation (directly or through a
// gateway that names it) and for the node's owner; others are refused.
func TestAuditNodePayments(t *testing.T) {
	w := newACLWorld(t)
	w.acceptBatchA()
	audit := NewAuditContract()
	read := func(who, node, asMSP, asCert string) (*records.NodePayments, error) {
		t.Helper()
		var out *records.NodePayments
		err := w.asRole(who, func(ctx *fakes.Context) (any, error) {
			p, err := audit.NodePayments(ctx, node, asMSP, asCert)
			out = p
			return p, err
		})
		return out, err
	}
	hash := func(who string) string { return records.CertHash(w.members[who].cert) }

	got, err := read("auditorB", "n1-orga", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Node != "n1-orga" || got.Org != orgA || len(got.Payments) != 1 || got.Bytes != 100 || got.Queued != 0 {
		t.Fatalf("payments of n1-orga: %+v", got)
	}
	p := got.Payments[0]
	if p.Payout.Ref != w.payoutRefA() || p.Payout.Payer != orgA || p.Payout.Payee != orgA || p.Payout.Bytes != 100 {
		t.Fatalf("payout %+v", p.Payout)
	}
	b := p.Batch
	if b.ID != w.batch || b.Status != records.BatchAccepted || b.GatewayMSP != orgA || b.Gateway != hash("gatewayA") ||
		b.Size != 1 || b.Receipts != 1 || b.Bytes != 100 || b.Excluded != 0 || b.ProvedAt == "" || b.Root == "" {
		t.Fatalf("batch behind the payout: %+v", b)
	}

	// Through a gateway of either organisation, for the auditor: the same.
	for _, gw := range []string{"gatewayA", "gatewayB"} {
		via, err := read(gw, "n1-orga", orgB, hash("auditorB"))
		if err != nil || len(via.Payments) != 1 || via.Payments[0].Batch.ID != w.batch {
			t.Fatalf("%s for auditorB: %+v, %v", gw, via, err)
		}
	}
	// The owner reads its node's payments; a node without any has none.
	if own, err := read("publisherA", "n1-orga", "", ""); err != nil || len(own.Payments) != 1 {
		t.Fatalf("owner: %+v, %v", own, err)
	}
	if none, err := read("auditorA", "n2-orga", "", ""); err != nil || len(none.Payments) != 0 || none.Payments == nil {
		t.Fatalf("n2-orga: %+v, %v", none, err)
	}

	// Refusals: another organisation's member, directly or named by a
	// gateway; a non-gateway naming an auditor; a certificate the registry
	// does not know.
	for _, c := range []struct{ who, asMSP, asCert, contains string }{
		{"publisherB", "", "", "needs the auditor role"},
		{"adminB", "", "", "needs the auditor role"},
		{"gatewayB", "", "", "needs the auditor role"},
		{"gatewayB", orgB, hash("publisherB"), "needs the auditor role"},
		{"gatewayA", orgB, hash("publisherB"), "needs the auditor role"},
		{"gatewayB", orgB, digest("unknown"), "needs the auditor role"},
		{"publisherB", orgB, hash("auditorB"), "only a gateway acts for"},
		{"auditorA", orgB, hash("auditorB"), "only a gateway acts for"},
	} {
		_, err := read(c.who, "n1-orga", c.asMSP, c.asCert)
		wantCode(t, err, records.CodeForbidden, c.contains)
	}
	_, err = read("auditorA", "n9-orga", "", "")
	wantCode(t, err, records.CodeNotFound, "n9-orga")
	_, err = read("auditorA", "BAD", "", "")
	wantCode(t, err, records.CodeInvalid, "")
	_, err = read("gatewayA", "n1-orga", orgB, "not-a-hash")
	wantCode(t, err, records.CodeInvalid, "")
}

// TestAuditHistoryAndAccounts: audit:History reads every kind, private
// ones for the organisations concerned and auditors; the account and
// payout reads follow the same rule through a gateway.
func TestAuditHistoryAndAccounts(t *testing.T) {
	w := newACLWorld(t)
	w.acceptBatchA()
	audit := NewAuditContract()
	hash := func(who string) string { return records.CertHash(w.members[who].cert) }
	history := func(who, kind, key, sub, asMSP, asCert string) ([]*records.HistoryEntry, error) {
		t.Helper()
		var out []*records.HistoryEntry
		err := w.asRole(who, func(ctx *fakes.Context) (any, error) {
			h, err := audit.History(ctx, kind, key, sub, asMSP, asCert)
			out = h
			return h, err
		})
		return out, err
	}
	for _, c := range []struct {
		kind, key, sub string
		min            int
	}{
		{records.HistoryNode, "n1-orga", "", 1},
		{records.HistoryManifest, "obj", "v1", 1},
		{records.HistoryObject, "obj", "", 1},
		{records.HistoryIdentity, orgB, hash("auditorB"), 1},
		{records.HistoryBatch, w.batch, "", 2}, // committed, accepted
		{records.HistoryAccount, orgA, "", 2},  // issued, deposited
		{records.HistoryPayout, w.payoutRefA(), "", 1},
	} {
		h, err := history("publisherB", c.kind, c.key, c.sub, "", "")
		if records.PrivateHistory(c.kind) {
			wantCode(t, err, records.CodeForbidden, "private to "+orgA)
			h, err = history("gatewayB", c.kind, c.key, c.sub, orgB, hash("auditorB"))
		}
		if err != nil || len(h) < c.min {
			t.Fatalf("history of %s %s: %d entries, %v", c.kind, c.key, len(h), err)
		}
	}
	_, err := history("auditorA", "secrets", "x", "", "", "")
	wantCode(t, err, records.CodeInvalid, "kind must be one of")
	_, err = history("auditorA", records.HistoryNode, "n1-orga", "extra", "", "")
	wantCode(t, err, records.CodeInvalid, "takes one key")
	_, err = history("auditorA", records.HistoryPrice, "x", "", "", "")
	wantCode(t, err, records.CodeInvalid, "takes no key")
	_, err = history("auditorA", records.HistoryPayout, "nothing", "", "", "")
	wantCode(t, err, records.CodeNotFound, "no history")

	// Accounts and payouts through a gateway: the named member decides.
	account := func(who, msp, asMSP, asCert string) error {
		return w.asRole(who, func(ctx *fakes.Context) (any, error) { return audit.Account(ctx, msp, asMSP, asCert) })
	}
	if err := account("gatewayB", orgA, orgA, hash("publisherA")); err != nil {
		t.Fatalf("org A's publisher through a gateway reads its account: %v", err)
	}
	wantCode(t, account("gatewayA", orgA, orgB, hash("publisherB")), records.CodeForbidden, "auditor role")
	var accts []*records.Account
	if err := w.asRole("gatewayA", func(ctx *fakes.Context) (any, error) {
		a, err := audit.Accounts(ctx, orgB, hash("auditorB"))
		accts = a
		return a, err
	}); err != nil || len(accts) != 2 {
		t.Fatalf("accounts for auditorB: %v, %v", accts, err)
	}
	err = w.asRole("gatewayA", func(ctx *fakes.Context) (any, error) { return audit.Accounts(ctx, orgA, hash("publisherA")) })
	wantCode(t, err, records.CodeForbidden, "auditor role")
	err = w.asRole("gatewayB", func(ctx *fakes.Context) (any, error) { return audit.Payouts(ctx, orgA, orgB, hash("nodeB")) })
	wantCode(t, err, records.CodeForbidden, "private to "+orgA)
	var who *records.Caller
	if err := w.asRole("gatewayA", func(ctx *fakes.Context) (any, error) {
		c, err := audit.Whoami(ctx, orgB, hash("auditorB"))
		who = c
		return c, err
	}); err != nil || who.MSPID != orgB || !slices.Contains(who.Roles, records.RoleAuditor) {
		t.Fatalf("whoami for auditorB: %+v, %v", who, err)
	}
}
