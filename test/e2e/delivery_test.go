//go:build integration

package e2e

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/receipts"
	"github.com/dct-network/dct/test/internal/testenv"
)

// TestDeliveryPaid: reads through the gateway are receipted, batched once
// their epoch has ended (plus the gateway's --receipts-grace), committed
// and proved by the gateway's submitter, and paid: the node owners'
// balances rise and the publisher's escrow falls by price × bytes / MiB,
// with the chaincode's carried remainder, and no token is made or lost.
func TestDeliveryPaid(t *testing.T) {
	const (
		reads   = 5
		issued  = 1_000_000_000
		deposit = 500_000_000
		price   = 997 // tokens per MiB: not a divisor, so remainders carry
	)
	gw := env.Gateways[0]
	pub := gw.Org
	ctx := ctxT(t, 5*time.Minute)
	admins := orgAdmins(t)
	pubAdmin := admins[pub]
	// Every organisation's figures: private to it and to auditors.
	auditor := auditorLedger(t)
	payQueued(t, ctx, admins, pub)
	before, batchesBefore := settled(t, ctx, auditor, pub)
	fund(t, ctx, admins, issued, deposit, price)

	// Cold reads (the gateway caches nothing), each receipted per shard.
	body := payload(700<<10, 93)
	res := publish(t, "e2e/delivery/paid.bin", "application/octet-stream", body)
	reqs := map[string]bool{}
	for range reads {
		resp, got := do(t, http.MethodGet, res.VersionedURL, nil)
		if resp.StatusCode != http.StatusOK || len(got) != len(body) {
			t.Fatalf("GET: %s, %d bytes", resp.Status, len(got))
		}
		reqs[resp.Header.Get(api.RequestIDHeader)] = true
	}
	var mine []records.Receipt
	deadline := time.Now().Add(10 * time.Second)
	for len(mine) < reads*k && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // the group commit is every few ms
		mine = mine[:0]
		err := receipts.ReadDir(gw.ReceiptsDir, func(l receipts.Logged) error {
			if reqs[l.Receipt.Request] {
				if l.Publisher != pub {
					t.Fatalf("receipt %s: publisher %s, want %s", l.Receipt.Serial, l.Publisher, pub)
				}
				mine = append(mine, l.Receipt)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(mine) != reads*k {
		t.Fatalf("%d receipts for %d reads, want %d (k=%d shards each)", len(mine), reads, reads*k, k)
	}
	type sum struct{ receipts, bytes int64 }
	want := map[int64]map[string]*sum{} // epoch → node → our receipts
	for _, r := range mine {
		if want[r.Epoch] == nil {
			want[r.Epoch] = map[string]*sum{}
		}
		s := want[r.Epoch][r.Node]
		if s == nil {
			s = &sum{}
			want[r.Epoch][r.Node] = s
		}
		s.receipts++
		s.bytes += r.Bytes
	}

	// Readiness: the gateway's batches of those epochs accepted (the epoch
	// ends, then the grace, then Commit and Prove).
	start := time.Now()
	ours := map[int64]*records.Batch{}
	for len(ours) < len(want) {
		if time.Since(start) > 3*time.Minute {
			t.Fatalf("after %s, %d of the batches of epochs %v accepted", time.Since(start), len(ours), slices.Collect(mapKeys(want)))
		}
		bs, err := pubAdmin.Batches(ctx, pub)
		if err != nil {
			t.Fatal(err)
		}
		for _, b := range bs {
			if want[b.Epoch] != nil && b.Status == records.BatchAccepted {
				ours[b.Epoch] = b
			}
		}
		time.Sleep(time.Second)
	}
	t.Logf("%d batch(es) accepted %s after the reads", len(ours), time.Since(start).Round(time.Second))

	// The totals cover our receipts; nothing of ours was excluded.
	for e, b := range ours {
		for node, s := range want[e] {
			i := slices.IndexFunc(b.Accepted, func(nt records.NodeTotal) bool { return nt.Node == node && nt.Publisher == pub })
			if i < 0 || b.Accepted[i].Receipts < s.receipts || b.Accepted[i].Bytes < s.bytes {
				t.Fatalf("batch %s (epoch %d) accepted %+v, excluded %+v: not our %d receipts (%d bytes) of node %s",
					b.ID, e, b.Accepted, b.Excluded, s.receipts, s.bytes, node)
			}
		}
		if len(b.Excluded) != 0 {
			t.Fatalf("batch %s excluded %+v", b.ID, b.Excluded)
		}
		var paidBytes int64
		for _, p := range b.Payouts {
			// A node with a storage contract for the publisher's content is
			// paid its contracted price (the suite places by auction), the
			// others the consortium price.
			want := int64(price)
			if p.Contract != "" {
				a, err := pubAdmin.GetAuction(ctx, p.Contract)
				if err != nil {
					t.Fatal(err)
				}
				node := strings.Split(p.Ref, "/")[1]
				if a.Publisher != pub || !slices.ContainsFunc(a.Awards, func(w records.Award) bool { return w.Node == node }) {
					t.Fatalf("payout %+v names auction %s of %s that awarded %v", p, a.ID, a.Publisher, a.Awards)
				}
				want = a.DeliveryPerMiB
			}
			if p.PricePerMiB != want || p.Payer != pub {
				t.Fatalf("payout %+v: want price %d paid by %s", p, want, pub)
			}
			paidBytes += p.Bytes
		}
		if ab := acceptedBytes(b); paidBytes != ab {
			t.Fatalf("batch %s: payouts for %d bytes, accepted %d", b.ID, paidBytes, ab)
		}
	}

	// Every payout of the gateway's batches, in the order they were made,
	// is price × bytes / MiB with the remainder carried per (payer, payee);
	// the ledger's payout records agree; the accounts moved by exactly
	// those amounts; issued = balances + escrows.
	after, bs := settled(t, ctx, auditor, pub)
	paidTo, paidFrom := checkPayouts(t, ctx, auditor, bs, acceptedIDs(batchesBefore))
	checkAccounts(t, before, after, paidTo, paidFrom, pub, issued, deposit)
	var owners []string
	for e := range want {
		for _, p := range ours[e].Payouts {
			owners = append(owners, p.Payee)
			if a, b := after[p.Payee], before[p.Payee]; a.Balance <= b.Balance && p.Payee != pub {
				t.Errorf("node owner %s: balance %d, was %d", p.Payee, a.Balance, b.Balance)
			}
		}
	}
	if after[pub].Escrow >= deposit+before[pub].Escrow {
		t.Errorf("escrow of %s: %d, did not fall from %d", pub, after[pub].Escrow, deposit+before[pub].Escrow)
	}
	checkSupply(t, ctx, pubAdmin)
	t.Logf("paid %v to %v; escrow of %s %d → %d", paidTo, owners, pub, deposit+before[pub].Escrow, after[pub].Escrow)

	// The auditor's view of these deliveries (audit_test.go), on the
	// batches just accepted: no second wait for an epoch.
	t.Run("AuditorView", func(t *testing.T) {
		checkAuditorView(t, ctx, auditedDeliveries{gateway: gw, publisher: pub, name: "e2e/delivery/paid.bin", body: body, batches: ours, receipts: mine})
	})
}

// ledgerClient is a ledger client of the i-th organisation's peer as
// signer, closed with the test.
func ledgerClient(t *testing.T, i int, signer ledger.Signer) *ledger.Client {
	t.Helper()
	return testenv.LedgerClient(t, env, i, signer)
}

// orgAdmins are ledger clients of every organisation's admin, by MSP id.
func orgAdmins(t *testing.T) map[string]*ledger.Client {
	t.Helper()
	out := map[string]*ledger.Client{}
	for i, o := range env.Orgs {
		s, err := o.AdminSigner()
		if err != nil {
			t.Fatal(err)
		}
		out[o.MSPID] = ledgerClient(t, i, s)
	}
	if out[env.Gateways[0].Org] == nil {
		t.Fatalf("no organisation %s", env.Gateways[0].Org)
	}
	return out
}

// fund issues tokens to the gateway's organisation (the publisher of the
// tests' objects), opens every organisation's account, moves deposit into
// the publisher's escrow and sets the price per MiB.
// payQueued pays the payouts pub owes from before the test: the suite's
// nodes have storage contracts, whose price applies before any consortium
// price is set, while pub had no escrow yet. The accounts then move only
// by the test's own payouts.
func payQueued(t *testing.T, ctx context.Context, admins map[string]*ledger.Client, pub string) {
	t.Helper()
	for msp, c := range admins {
		if _, err := c.OpenAccount(ctx); err != nil && !errors.Is(err, records.ErrConflict) {
			t.Fatalf("open the account of %s: %v", msp, err)
		}
	}
	a, err := admins[pub].Account(ctx, pub)
	if err != nil {
		t.Fatal(err)
	}
	if a.Owed == 0 {
		return
	}
	if _, err := admins[pub].IssueTokens(ctx, a.Owed); err != nil {
		t.Fatal(err)
	}
	if _, err := admins[pub].DepositEscrow(ctx, a.Owed); err != nil {
		t.Fatal(err)
	}
}

func fund(t *testing.T, ctx context.Context, admins map[string]*ledger.Client, issued, deposit, price int64) {
	t.Helper()
	pubAdmin := admins[env.Gateways[0].Org]
	if _, err := pubAdmin.IssueTokens(ctx, issued); err != nil {
		t.Fatal(err)
	}
	for msp, c := range admins {
		if _, err := c.OpenAccount(ctx); err != nil && !errors.Is(err, records.ErrConflict) {
			t.Fatalf("open the account of %s: %v", msp, err)
		}
	}
	if _, err := pubAdmin.DepositEscrow(ctx, deposit); err != nil {
		t.Fatal(err)
	}
	if _, err := pubAdmin.SetPrice(ctx, price); err != nil {
		t.Fatal(err)
	}
}

// settled reads every organisation's account between two reads of the
// batches of gatewayMSP that agree, so that the accounts reflect exactly
// the batches accepted in the list it returns.
func settled(t *testing.T, ctx context.Context, c *ledger.Client, gatewayMSP string) (map[string]records.Account, []*records.Batch) {
	t.Helper()
	for attempt := 0; ; attempt++ {
		bs1, err := c.Batches(ctx, gatewayMSP)
		if err != nil {
			t.Fatal(err)
		}
		acc := accounts(t, ctx, c)
		bs2, err := c.Batches(ctx, gatewayMSP)
		if err != nil {
			t.Fatal(err)
		}
		if sameStatuses(bs1, bs2) {
			return acc, bs2
		}
		if attempt == 10 {
			t.Fatalf("the batches of %s kept changing while the accounts were read", gatewayMSP)
		}
	}
}

// acceptedIDs are the ids of the accepted batches of bs.
func acceptedIDs(bs []*records.Batch) map[string]bool {
	out := map[string]bool{}
	for _, b := range bs {
		if b.Status == records.BatchAccepted {
			out[b.ID] = true
		}
	}
	return out
}

// checkAccounts checks that every organisation's balance and escrow moved
// from before to after by exactly what was paid to and by it, and for the
// publisher pub by the tokens issued to it and the deposit into its escrow.
func checkAccounts(t *testing.T, before, after map[string]records.Account, paidTo, paidFrom map[string]int64, pub string, issued, deposit int64) {
	t.Helper()
	for msp, a := range after {
		b := before[msp]
		wantBal, wantEsc := b.Balance+paidTo[msp], b.Escrow-paidFrom[msp]
		if msp == pub {
			wantBal += issued - deposit
			wantEsc += deposit
		}
		if a.Balance != wantBal || a.Escrow != wantEsc {
			t.Errorf("%s: balance %d, escrow %d; want %d, %d (paid to it %d, by it %d)", msp, a.Balance, a.Escrow, wantBal, wantEsc, paidTo[msp], paidFrom[msp])
		}
	}
}

// checkSupply checks that issued = balances + escrows and that no payout
// is queued.
func checkSupply(t *testing.T, ctx context.Context, c *ledger.Client) {
	t.Helper()
	sup, err := c.Supply(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sup.Issued != sup.Balances+sup.Escrows || sup.Queued != 0 {
		t.Errorf("supply %+v: issued != balances + escrows, or payouts queued", sup)
	}
}

// accounts are every organisation's account (zero when it has none).
func accounts(t *testing.T, ctx context.Context, c *ledger.Client) map[string]records.Account {
	t.Helper()
	out := map[string]records.Account{}
	for _, o := range env.Orgs {
		a, err := c.Account(ctx, o.MSPID)
		switch {
		case errors.Is(err, records.ErrNotFound):
			out[o.MSPID] = records.Account{MSPID: o.MSPID}
		case err != nil:
			t.Fatal(err)
		default:
			out[o.MSPID] = *a
		}
	}
	return out
}

// checkPayouts replays the carried-remainder rule over the payouts of the
// accepted batches, in the order they were proved, checks each against
// the ledger's payout record (each ref paid once) and returns what was
// paid to and by each organisation by the batches not in since (those
// accepted before the test's first reading of the accounts).
func checkPayouts(t *testing.T, ctx context.Context, c *ledger.Client, bs []*records.Batch, since map[string]bool) (to, from map[string]int64) {
	t.Helper()
	accepted := slices.DeleteFunc(slices.Clone(bs), func(b *records.Batch) bool { return b.Status != records.BatchAccepted })
	slices.SortFunc(accepted, func(x, y *records.Batch) int {
		tx, _ := time.Parse(time.RFC3339Nano, x.ProvedAt)
		ty, _ := time.Parse(time.RFC3339Nano, y.ProvedAt)
		return tx.Compare(ty)
	})
	onLedger := map[string]*records.Payout{}
	for _, o := range env.Orgs {
		ps, err := c.Payouts(ctx, o.MSPID)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if onLedger[p.Ref] != nil {
				t.Fatalf("payout %s is on the ledger twice: %+v, %+v", p.Ref, onLedger[p.Ref], p)
			}
			onLedger[p.Ref] = p
		}
	}
	type pair struct{ payer, payee string }
	carry := map[pair]int64{}
	to, from = map[string]int64{}, map[string]int64{}
	for _, b := range accepted {
		for _, p := range b.Payouts {
			k := pair{p.Payer, p.Payee}
			amount, rem, ok := records.DeliveryAmount(p.Bytes, p.PricePerMiB, carry[k])
			if !ok || p.Amount != amount {
				t.Fatalf("batch %s: payout %s of %d bytes at %d/MiB (carry %d) is %d, want %d", b.ID, p.Ref, p.Bytes, p.PricePerMiB, carry[k], p.Amount, amount)
			}
			carry[k] = rem
			l := onLedger[p.Ref]
			if l == nil || l.Amount != p.Amount || l.Bytes != p.Bytes || l.Status != records.PayoutPaid {
				t.Fatalf("payout %s: ledger has %+v, the batch %+v", p.Ref, l, p)
			}
			if !since[b.ID] {
				to[p.Payee] += p.Amount
				from[p.Payer] += p.Amount
			}
		}
	}
	return to, from
}

func acceptedBytes(b *records.Batch) int64 {
	var n int64
	for _, t := range b.Accepted {
		n += t.Bytes
	}
	return n
}

func sameStatuses(x, y []*records.Batch) bool {
	return slices.EqualFunc(x, y, func(a, b *records.Batch) bool { return a.ID == b.ID && a.Status == b.Status })
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
