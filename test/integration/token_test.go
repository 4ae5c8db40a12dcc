//go:build integration

package integration

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	testnetwork "github.com/dct-network/dct/test-network"
)

// TestToken issues, transfers and moves tokens into escrow on the real
// network, and checks that the other roles are refused and change nothing:
// only an organisation's admin issues (into its own organisation), its
// admin or publisher transfers and moves escrow, and only admins set the
// price.
func TestToken(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	orgA, orgB := shared.Orgs[0].MSPID, shared.Orgs[1].MSPID
	adminA, adminB := adminClient(t, shared, 0), adminClient(t, shared, 1)
	publisherA, _ := identityClient(t, shared, 0, testnetwork.RolePublisher)
	gatewayA, _ := identityClient(t, shared, 0, testnetwork.RoleGateway)
	auditorA, _ := identityClient(t, shared, 0, testnetwork.RoleAuditor)
	publisherB, _ := identityClient(t, shared, 1, testnetwork.RolePublisher)

	before, err := adminA.Account(ctx, orgA)
	if errors.Is(err, records.ErrNotFound) {
		before, err = &records.Account{MSPID: orgA}, nil
	}
	if err != nil {
		t.Fatal(err)
	}
	a, err := adminA.IssueTokens(ctx, 100)
	if err != nil {
		t.Fatal(err)
	}
	if a.MSPID != orgA || a.Issued != before.Issued+100 || a.Balance != before.Balance+100 {
		t.Fatalf("after issuing 100: %+v (before %+v)", a, before)
	}
	if _, err := adminB.OpenAccount(ctx); err != nil && !errors.Is(err, records.ErrConflict) {
		t.Fatal(err)
	}
	b0, err := adminB.Account(ctx, orgB)
	if err != nil {
		t.Fatal(err)
	}

	// Refusals: nothing changes.
	if _, err := publisherA.IssueTokens(ctx, 5); !errors.Is(err, records.ErrForbidden) {
		t.Fatalf("a publisher issuing: %v, want PERMISSION_DENIED", err)
	}
	if _, err := gatewayA.TransferTokens(ctx, orgB, 5); !errors.Is(err, records.ErrForbidden) {
		t.Fatalf("a gateway transferring: %v, want PERMISSION_DENIED", err)
	}
	if _, err := auditorA.DepositEscrow(ctx, 5); !errors.Is(err, records.ErrForbidden) {
		t.Fatalf("an auditor depositing: %v, want PERMISSION_DENIED", err)
	}
	if _, err := publisherB.SetPrice(ctx, 1); !errors.Is(err, records.ErrForbidden) {
		t.Fatalf("a publisher setting the price: %v, want PERMISSION_DENIED", err)
	}
	if _, err := adminA.IssueTokens(ctx, records.MaxIssuePerCall+1); !errors.Is(err, records.ErrInvalid) {
		t.Fatalf("issuing over the cap: %v, want INVALID_ARGUMENT", err)
	}
	if _, err := adminA.TransferTokens(ctx, orgB, a.Balance+1); !errors.Is(err, records.ErrFailedPrecondition) {
		t.Fatalf("transferring more than the balance: %v, want FAILED_PRECONDITION", err)
	}
	if got, err := adminA.Account(ctx, orgA); err != nil || got.LastTxID != a.LastTxID || got.Balance != a.Balance {
		t.Fatalf("refused calls changed %+v into %+v, %v", a, got, err)
	}

	// A publisher transfers, the admin moves escrow.
	if a, err = publisherA.TransferTokens(ctx, orgB, 30); err != nil {
		t.Fatal(err)
	}
	if a, err = adminA.DepositEscrow(ctx, 40); err != nil {
		t.Fatal(err)
	}
	if a, err = publisherA.WithdrawEscrow(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if a.Balance != before.Balance+100-30-40+10 || a.Escrow != before.Escrow+30 {
		t.Fatalf("account A %+v (before %+v)", a, before)
	}
	// Org B's account is private to Org B and auditors.
	if b, err := auditorA.Account(ctx, orgB); err != nil || b.Balance != b0.Balance+30 {
		t.Fatalf("account B %+v, %v (before %+v)", b, err, b0)
	}
	if _, err := adminA.Account(ctx, orgB); !errors.Is(err, records.ErrForbidden) {
		t.Fatalf("org A's admin reading org B's account: %v, want PERMISSION_DENIED", err)
	}
	if p, err := adminA.SetPrice(ctx, 2); err != nil || p.PerMiB != 2 || p.SetBy != orgA {
		t.Fatalf("price %+v, %v", p, err)
	}
	if p, err := adminA.Price(ctx); err != nil || p.PerMiB != 2 {
		t.Fatalf("price %+v, %v", p, err)
	}
	if _, err := gatewayA.SettleQueued(ctx); err != nil {
		t.Fatal(err)
	}

	s, err := adminA.Supply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Issued < 100 || s.Balances+s.Escrows != s.Issued {
		t.Fatalf("supply %+v", s)
	}
	accounts, err := auditorA.Accounts(ctx)
	if err != nil || len(accounts) < 2 {
		t.Fatalf("accounts %v, %v", accounts, err)
	}
	h, err := adminA.AccountHistory(ctx, orgA)
	if err != nil || len(h) < 4 || h[len(h)-1].TxID != a.LastTxID {
		t.Fatalf("history of account A: %d entries, %v", len(h), err)
	}
	if h, err := adminA.PriceHistory(ctx); err != nil || len(h) == 0 {
		t.Fatalf("price history %v, %v", h, err)
	}
	if _, err := auditorA.Payouts(ctx, orgB); err != nil {
		t.Fatal(err)
	}
	if _, err := adminA.Payouts(ctx, orgB); !errors.Is(err, records.ErrForbidden) {
		t.Fatalf("org A's admin reading the payouts to org B: %v, want PERMISSION_DENIED", err)
	}
}
