package contract

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

const orgC = "OrgCMSP"

// tokenEnv is an env with the token contract and, per organisation, its
// admin (the fake ledger's admin certificate), a publisher and a gateway.
type tokenEnv struct {
	*env
	tok   *TokenContract
	ids   *IdentityContract
	roles map[string]map[records.Role]member
}

func newTokenEnv(t *testing.T, orgs ...string) *tokenEnv {
	t.Helper()
	te := &tokenEnv{env: newEnv(t), tok: NewTokenContract(), ids: NewIdentityContract(), roles: map[string]map[records.Role]member{}}
	for _, org := range orgs {
		admin := member{msp: org, cert: te.ledger.AdminCert(org)}
		te.roles[org] = map[records.Role]member{records.RoleAdmin: admin}
		for _, r := range []records.Role{records.RolePublisher, records.RoleGateway, records.RoleAuditor} {
			m := newMember(t, org, string(r)+"@"+org, "client")
			if _, err := as(te.env, admin, func(ctx *fakes.Context) (*records.Identity, error) {
				return te.ids.Grant(ctx, toJSON(t, records.GrantInput{Certificate: m.pem, Roles: []records.Role{r}}))
			}); err != nil {
				t.Fatal(err)
			}
			te.roles[org][r] = m
		}
	}
	return te
}

// by runs fn as one committed transaction of org's identity with role r.
func by[T any](te *tokenEnv, org string, r records.Role, fn func(*fakes.Context) (T, error)) (T, error) {
	te.t.Helper()
	return as(te.env, te.roles[org][r], fn)
}

func (te *tokenEnv) account(msp string) *records.Account {
	te.t.Helper()
	return mustAs(te.env, te.auditor(), func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Account(ctx, msp) })
}

// auditor is an identity with the auditor role: the accounts and payouts
// of every organisation are private to it and to auditors.
func (te *tokenEnv) auditor() member {
	te.t.Helper()
	for _, org := range []string{orgA, orgB, orgC} {
		if m, ok := te.roles[org][records.RoleAuditor]; ok {
			return m
		}
	}
	te.t.Fatal("no auditor")
	return member{}
}

// mustAs runs fn as m like as and fails the test on error.
func mustAs[T any](e *env, m member, fn func(*fakes.Context) (T, error)) T {
	e.t.Helper()
	res, err := as(e, m, fn)
	if err != nil {
		e.t.Fatalf("unexpected error: %v", err)
	}
	return res
}

func (te *tokenEnv) supply() *records.Supply {
	te.t.Helper()
	return must(te.env, orgA, func(ctx *fakes.Context) (*records.Supply, error) { return te.tok.Supply(ctx) })
}

func (te *tokenEnv) spend(msp string, epoch int64) *records.EpochSpend {
	te.t.Helper()
	return mustAs(te.env, te.auditor(), func(ctx *fakes.Context) (*records.EpochSpend, error) { return te.tok.Spend(ctx, msp, epoch) })
}

func (te *tokenEnv) pay(payer, payee string, bytes int64, ref string) (*records.Payout, error) {
	te.t.Helper()
	return call(te.env, orgB, func(ctx *fakes.Context) (*records.Payout, error) {
		return payDelivery(ctx, payer, payee, 1, bytes, ref)
	})
}

func wantAccount(t *testing.T, a *records.Account, balance, escrow, issued, owed, queued int64) {
	t.Helper()
	if a.Balance != balance || a.Escrow != escrow || a.Issued != issued || a.Owed != owed || a.Queued != queued {
		t.Fatalf("account %s = balance %d escrow %d issued %d owed %d queued %d; want %d %d %d %d %d",
			a.MSPID, a.Balance, a.Escrow, a.Issued, a.Owed, a.Queued, balance, escrow, issued, owed, queued)
	}
}

func TestTokenIssuancePolicy(t *testing.T) {
	te := newTokenEnv(t, orgA, orgB)
	issue := func(org string, r records.Role, amount int64) (*records.Account, error) {
		return by(te, org, r, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Issue(ctx, amount) })
	}
	a, err := issue(orgA, records.RoleAdmin, 100)
	if err != nil {
		t.Fatal(err)
	}
	wantAccount(t, a, 100, 0, 100, 0, 0)
	if a.MSPID != orgA || a.LastTxID == "" || a.UpdatedAt == "" {
		t.Fatalf("issued into %+v", a)
	}
	if _, err := issue(orgA, records.RoleAdmin, records.MaxIssuePerCall); err != nil {
		t.Fatal(err)
	}
	for _, r := range []records.Role{records.RolePublisher, records.RoleGateway, records.RoleAuditor} {
		_, err := issue(orgA, r, 1)
		wantCode(t, err, records.CodeForbidden, "needs the role admin")
	}
	for _, amount := range []int64{0, -1, records.MaxIssuePerCall + 1} {
		_, err := issue(orgA, records.RoleAdmin, amount)
		wantCode(t, err, records.CodeInvalid, "amount")
	}
	// Org B's admin issues into org B only: there is no way to name another
	// organisation, and org A's account is unchanged.
	b, err := issue(orgB, records.RoleAdmin, 7)
	if err != nil {
		t.Fatal(err)
	}
	wantAccount(t, b, 7, 0, 7, 0, 0)
	wantAccount(t, te.account(orgA), 100+records.MaxIssuePerCall, 0, 100+records.MaxIssuePerCall, 0, 0)
	s := te.supply()
	if s.Issued != 107+records.MaxIssuePerCall || s.Balances != s.Issued || s.Escrows != 0 || s.Accounts != 2 {
		t.Fatalf("supply %+v", s)
	}
	_, err = as(te.env, te.auditor(), func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Account(ctx, orgC) })
	wantCode(t, err, records.CodeNotFound, "does not exist")
	h := mustAs(te.env, te.auditor(), func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return te.hist.Account(ctx, orgA) })
	if len(h) != 2 {
		t.Fatalf("history of org A's account: %d entries, want 2 issuances", len(h))
	}
}

func TestTokenTransfersAndEscrow(t *testing.T) {
	te := newTokenEnv(t, orgA, orgB)
	must(te.env, orgA, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Issue(ctx, 100) })
	transfer := func(r records.Role, to string, amount int64) (*records.Account, error) {
		return by(te, orgA, r, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Transfer(ctx, to, amount) })
	}
	_, err := transfer(records.RoleAdmin, orgB, 10)
	wantCode(t, err, records.CodeNotFound, "token:Open")
	must(te.env, orgB, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Open(ctx) })
	_, err = call(te.env, orgB, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Open(ctx) })
	wantCode(t, err, records.CodeConflict, "already exists")
	_, err = by(te, orgB, records.RolePublisher, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Open(ctx) })
	wantCode(t, err, records.CodeForbidden, "admin")

	if a, err := transfer(records.RoleAdmin, orgB, 10); err != nil {
		t.Fatal(err)
	} else {
		wantAccount(t, a, 90, 0, 100, 0, 0)
	}
	if _, err := transfer(records.RolePublisher, orgB, 15); err != nil {
		t.Fatal(err)
	}
	wantAccount(t, te.account(orgB), 25, 0, 0, 0, 0)
	for _, tc := range []struct {
		r      records.Role
		to     string
		amount int64
		code   records.Code
		msg    string
	}{
		{records.RoleGateway, orgB, 1, records.CodeForbidden, "admin or publisher"},
		{records.RoleAuditor, orgB, 1, records.CodeForbidden, "admin or publisher"},
		{records.RoleAdmin, orgB, 76, records.CodeFailedPrecondition, "short of 76"},
		{records.RoleAdmin, orgA, 1, records.CodeInvalid, "itself"},
		{records.RoleAdmin, orgB, 0, records.CodeInvalid, "amount"},
		{records.RoleAdmin, "", 1, records.CodeInvalid, "toMSP"},
	} {
		_, err := transfer(tc.r, tc.to, tc.amount)
		wantCode(t, err, tc.code, tc.msg)
	}

	deposit := func(org string, r records.Role, amount int64) (*records.Account, error) {
		return by(te, org, r, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Deposit(ctx, amount) })
	}
	withdraw := func(org string, r records.Role, amount int64) (*records.Account, error) {
		return by(te, org, r, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Withdraw(ctx, amount) })
	}
	if a, err := deposit(orgA, records.RolePublisher, 50); err != nil {
		t.Fatal(err)
	} else {
		wantAccount(t, a, 25, 50, 100, 0, 0)
	}
	if a, err := withdraw(orgA, records.RoleAdmin, 20); err != nil {
		t.Fatal(err)
	} else {
		wantAccount(t, a, 45, 30, 100, 0, 0)
	}
	_, err = deposit(orgA, records.RoleAdmin, 46)
	wantCode(t, err, records.CodeFailedPrecondition, "balance of 45")
	_, err = withdraw(orgA, records.RoleAdmin, 31)
	wantCode(t, err, records.CodeFailedPrecondition, "escrow of 30")
	_, err = deposit(orgA, records.RoleGateway, 1)
	wantCode(t, err, records.CodeForbidden, "admin or publisher")
	_, err = withdraw(orgB, records.RoleAuditor, 1)
	wantCode(t, err, records.CodeForbidden, "admin or publisher")
	_, err = by(te, orgC, records.RoleAdmin, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Deposit(ctx, 1) })
	if err == nil {
		t.Fatal("deposit without an account succeeded")
	}
	s := te.supply()
	if s.Issued != 100 || s.Balances+s.Escrows != 100 || s.Escrows != 30 {
		t.Fatalf("supply %+v", s)
	}
}

func TestTokenPrice(t *testing.T) {
	te := newTokenEnv(t, orgA, orgB)
	p := must(te.env, orgA, func(ctx *fakes.Context) (*records.Price, error) { return te.tok.Price(ctx) })
	if p.PerMiB != 0 {
		t.Fatalf("unset price %+v", p)
	}
	_, err := by(te, orgA, records.RolePublisher, func(ctx *fakes.Context) (*records.Price, error) { return te.tok.SetPrice(ctx, 5) })
	wantCode(t, err, records.CodeForbidden, "admin")
	for _, v := range []int64{-1, records.MaxPricePerMiB + 1} {
		_, err := call(te.env, orgA, func(ctx *fakes.Context) (*records.Price, error) { return te.tok.SetPrice(ctx, v) })
		wantCode(t, err, records.CodeInvalid, "pricePerMiB")
	}
	must(te.env, orgA, func(ctx *fakes.Context) (*records.Price, error) { return te.tok.SetPrice(ctx, 5) })
	set := must(te.env, orgB, func(ctx *fakes.Context) (*records.Price, error) { return te.tok.SetPrice(ctx, 8) })
	if set.SetBy != orgB || set.SetByCert == "" || set.TxID == "" {
		t.Fatalf("price %+v", set)
	}
	if p := must(te.env, orgA, func(ctx *fakes.Context) (*records.Price, error) { return te.tok.Price(ctx) }); p.PerMiB != 8 {
		t.Fatalf("price %+v", p)
	}
	h := must(te.env, orgA, func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return te.hist.Price(ctx) })
	if len(h) != 2 {
		t.Fatalf("price history %d entries", len(h))
	}
}

func TestTokenPayouts(t *testing.T) {
	const mib = records.PriceUnitBytes
	te := newTokenEnv(t, orgA, orgB)
	must(te.env, orgA, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Issue(ctx, 1000) })
	must(te.env, orgA, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Deposit(ctx, 100) })
	must(te.env, orgA, func(ctx *fakes.Context) (*records.Price, error) { return te.tok.SetPrice(ctx, 10) })

	// Paid at once: 3 MiB at 10 per MiB.
	p, err := te.pay(orgA, orgB, 3*mib, "batch-1")
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != records.PayoutPaid || p.Amount != 30 || p.PricePerMiB != 10 || p.PaidTxID == "" {
		t.Fatalf("payout %+v", p)
	}
	wantAccount(t, te.account(orgA), 900, 70, 1000, 0, 0)
	wantAccount(t, te.account(orgB), 30, 0, 0, 0, 0)

	// A replay changes nothing and returns the recorded payout.
	ctx := te.ledger.NewContext(orgB)
	again, err := callCtx(te.env, ctx, func(ctx *fakes.Context) (*records.Payout, error) {
		return payDelivery(ctx, orgA, orgB, 1, 3*mib, "batch-1")
	})
	if err != nil || again.TxID != p.TxID || len(ctx.Stub.Writes()) != 0 {
		t.Fatalf("replay = %+v, %v, wrote %v", again, err, ctx.Stub.Writes())
	}
	_, err = te.pay(orgA, orgB, 4*mib, "batch-1")
	wantCode(t, err, records.CodeConflict, "batch-1")

	// Rounding down with the remainder carried: a quarter MiB at 10 per MiB
	// is 2.5 tokens: 2, then 3 (5 of 5), then 2.
	for i, want := range []int64{2, 3, 2} {
		p, err := te.pay(orgA, orgB, mib/4, "small-"+string(rune('a'+i)))
		if err != nil {
			t.Fatal(err)
		}
		if p.Amount != want {
			t.Fatalf("small payout %d = %d, want %d", i, p.Amount, want)
		}
	}
	wantAccount(t, te.account(orgA), 900, 63, 1000, 0, 0)

	// Short escrow: the whole payout is queued, and so is a later one
	// that would fit (order), and the escrow cannot be withdrawn.
	q1, err := te.pay(orgA, orgB, 7*mib, "batch-2")
	if err != nil {
		t.Fatal(err)
	}
	if q1.Status != records.PayoutQueued || q1.Amount != 70 || q1.PaidTxID != "" {
		t.Fatalf("queued payout %+v", q1)
	}
	q2, err := te.pay(orgA, orgB, 1*mib, "batch-3")
	if err != nil {
		t.Fatal(err)
	}
	if q2.Status != records.PayoutQueued || q2.Seq != q1.Seq+1 {
		t.Fatalf("second queued payout %+v", q2)
	}
	q3, err := te.pay(orgA, orgB, 50*mib, "batch-4")
	if err != nil {
		t.Fatal(err)
	}
	wantAccount(t, te.account(orgA), 900, 63, 1000, 580, 3)
	wantAccount(t, te.account(orgB), 37, 0, 0, 0, 0)
	_, err = call(te.env, orgA, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Withdraw(ctx, 1) })
	wantCode(t, err, records.CodeFailedPrecondition, "queued")

	// Settling with too little escrow pays nothing, never a part.
	paid := must(te.env, orgB, func(ctx *fakes.Context) ([]*records.Payout, error) { return te.tok.SettleQueued(ctx) })
	if len(paid) != 0 {
		t.Fatalf("settled %v with a short escrow", paid)
	}
	// A deposit of 20 (escrow 83) pays batch-2 and batch-3 in order, not
	// batch-4 (500).
	a := must(te.env, orgA, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Deposit(ctx, 20) })
	wantAccount(t, a, 880, 3, 1000, 500, 1)
	wantAccount(t, te.account(orgB), 117, 0, 0, 0, 0)
	for _, ref := range []string{"batch-2", "batch-3"} {
		h := must(te.env, orgB, func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return te.hist.Payout(ctx, ref) })
		if len(h) != 2 {
			t.Fatalf("history of %s: %d entries, want queued then paid", ref, len(h))
		}
	}
	// SettleQueued by any member, once the escrow allows.
	must(te.env, orgA, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Transfer(ctx, orgB, 380) })
	te2 := must(te.env, orgA, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Deposit(ctx, 499) })
	wantAccount(t, te2, 1, 2, 1000, 0, 0)
	paid = must(te.env, orgB, func(ctx *fakes.Context) ([]*records.Payout, error) { return te.tok.SettleQueued(ctx) })
	if len(paid) != 0 {
		t.Fatalf("settled %v after the deposit had paid", paid)
	}
	all := mustAs(te.env, te.auditor(), func(ctx *fakes.Context) ([]*records.Payout, error) { return te.tok.Payouts(ctx, orgB) })
	if len(all) != 7 {
		t.Fatalf("payouts to org B: %d", len(all))
	}
	for _, p := range all {
		if p.Status != records.PayoutPaid {
			t.Fatalf("payout %+v not paid", p)
		}
	}
	_ = q3
	s := te.supply()
	if s.Issued != 1000 || s.Balances+s.Escrows != 1000 || s.Queued != 0 || s.QueuedCount != 0 {
		t.Fatalf("supply %+v", s)
	}

	// A payer that pays itself, and one without an account (queued).
	must(te.env, orgB, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Deposit(ctx, 10) })
	if p, err := te.pay(orgB, orgB, mib, "self"); err != nil || p.Status != records.PayoutPaid {
		t.Fatalf("self payout %+v, %v", p, err)
	}
	wantAccount(t, te.account(orgB), 997, 0, 0, 0, 0)
	if p, err := te.pay(orgC, orgB, mib, "no-account"); err != nil || p.Status != records.PayoutQueued {
		t.Fatalf("payout of an org without account %+v, %v", p, err)
	}
	wantAccount(t, te.account(orgC), 0, 0, 0, 10, 1)

	for _, tc := range []struct {
		payer, payee string
		bytes        int64
		ref, msg     string
	}{
		{orgA, orgB, 0, "x", "bytes"},
		{orgA, orgB, -1, "x", "bytes"},
		{"", orgB, 1, "x", "payer"},
		{orgA, "", 1, "x", "payee"},
		{orgA, orgB, 1, "", "ref"},
		{orgA, orgB, 1, "a\x00b", "ref"},
	} {
		_, err := te.pay(tc.payer, tc.payee, tc.bytes, tc.ref)
		wantCode(t, err, records.CodeInvalid, tc.msg)
	}
	must(te.env, orgA, func(ctx *fakes.Context) (*records.Price, error) { return te.tok.SetPrice(ctx, records.MaxPricePerMiB) })
	_, err = te.pay(orgA, orgB, 1<<62, "huge")
	wantCode(t, err, records.CodeInvalid, "more than a payout")
}

// TestTokenPayoutsInOneTransaction: several batches paid in one
// transaction see each other's writes; the same ref twice is paid once.
func TestTokenPayoutsInOneTransaction(t *testing.T) {
	const mib = records.PriceUnitBytes
	te := newTokenEnv(t, orgA, orgB)
	must(te.env, orgA, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Issue(ctx, 100) })
	must(te.env, orgA, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Deposit(ctx, 25) })
	must(te.env, orgA, func(ctx *fakes.Context) (*records.Price, error) { return te.tok.SetPrice(ctx, 10) })
	ps := must(te.env, orgB, func(ctx *fakes.Context) ([]*records.Payout, error) {
		var out []*records.Payout
		for _, b := range []struct {
			ref   string
			bytes int64
		}{{"x", mib}, {"y", mib / 2}, {"x", mib}, {"z", mib / 2}, {"w", mib}} {
			p, err := payDelivery(ctx, orgA, orgB, 1, b.bytes, b.ref)
			if err != nil {
				return nil, err
			}
			out = append(out, p)
		}
		return out, nil
	})
	var status []string
	for _, p := range ps {
		status = append(status, fmt.Sprint(p.Ref, ":", p.Amount, ":", p.Status))
	}
	// Escrow 25: 10 and 5 paid, x again is the same payout, 5 paid (escrow
	// 5 left), then 10 queued.
	if got := strings.Join(status, " "); got != "x:10:paid y:5:paid x:10:paid z:5:paid w:10:queued" {
		t.Fatalf("payouts %s", got)
	}
	wantAccount(t, te.account(orgA), 75, 5, 100, 10, 1)
	wantAccount(t, te.account(orgB), 20, 0, 0, 0, 0)
	a := must(te.env, orgA, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Deposit(ctx, 10) })
	wantAccount(t, a, 65, 5, 100, 0, 0)
}

func TestDeliveryAmount(t *testing.T) {
	const mib = records.PriceUnitBytes
	for _, tc := range []struct {
		bytes, price, carry, amount, rem int64
		ok                               bool
	}{
		{mib, 1, 0, 1, 0, true},
		{mib - 1, 1, 0, 0, mib - 1, true},
		{1, 1, mib - 1, 1, 0, true},
		{0, 5, 7, 0, 7, true},
		{1 << 62, records.MaxPricePerMiB, 0, 0, 0, false},
		{1 << 40, records.MaxPricePerMiB, 0, 1 << 20 * records.MaxPricePerMiB, 0, true},
		{-1, 1, 0, 0, 0, false},
		{1, 1, mib, 0, 0, false},
	} {
		a, r, ok := records.DeliveryAmount(tc.bytes, tc.price, tc.carry)
		if a != tc.amount || r != tc.rem || ok != tc.ok {
			t.Errorf("DeliveryAmount(%d, %d, %d) = %d, %d, %v; want %d, %d, %v", tc.bytes, tc.price, tc.carry, a, r, ok, tc.amount, tc.rem, tc.ok)
		}
	}
}

// TestTxWritesAreDropped: the writes kept for a transaction go when its
// stub is garbage collected.
func TestTxWritesAreDropped(t *testing.T) {
	te := newTokenEnv(t, orgA)
	for range 50 {
		must(te.env, orgA, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Issue(ctx, 1) })
	}
	deadline := time.Now().Add(5 * time.Second)
	for pendingCount() >= 50 {
		if time.Now().After(deadline) {
			t.Fatalf("%d transactions' writes kept after their stubs went", pendingCount())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}
