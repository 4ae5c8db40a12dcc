package contract

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

// tokenModel is what the ledger should hold, computed independently of the
// contract.
type tokenModel struct {
	accounts map[string]*records.Account
	payouts  map[string]*records.Payout
	queues   map[string][]string // payer → queued refs in order
	carry    map[[2]string]int64
	price    int64
	// budget per payer (0: none); spend and capped per payer and epoch.
	budget map[string]int64
	spend  map[spendKey]*records.EpochSpend
	// queuedEver and settledEver count payouts queued and later paid.
	queuedEver, settledEver int
}

func (m *tokenModel) acct(msp string) *records.Account {
	a, ok := m.accounts[msp]
	if !ok {
		a = &records.Account{MSPID: msp}
		m.accounts[msp] = a
	}
	return a
}

type spendKey struct {
	payer string
	epoch int64
}

// settle pays payer's queue in order while its escrow covers the head.
func (m *tokenModel) settle(payer string) {
	a := m.accounts[payer]
	for len(m.queues[payer]) > 0 {
		p := m.payouts[m.queues[payer][0]]
		if a.Escrow < p.Amount {
			return
		}
		a.Escrow -= p.Amount
		a.Owed -= p.Amount
		a.Queued--
		m.acct(p.Payee).Balance += p.Amount
		p.Status = records.PayoutPaid
		m.queues[payer] = m.queues[payer][1:]
		m.settledEver++
	}
}

// pay applies a new payout: bytes are cut to what payer's budget for
// epoch still covers, found by bisection over the (monotonic) amount.
func (m *tokenModel) pay(payer, payee string, epoch, bytes int64, ref, txID string) {
	pair := [2]string{payer, payee}
	amount := func(b int64) int64 {
		a, _, _ := records.DeliveryAmount(b, m.price, m.carry[pair])
		return a
	}
	sk := spendKey{payer, epoch}
	sp := m.spend[sk]
	if sp == nil {
		sp = &records.EpochSpend{MSPID: payer, Epoch: epoch}
	}
	paid := bytes
	if b := m.budget[payer]; b > 0 {
		left := max(b-sp.Amount, 0)
		if amount(bytes) > left {
			lo, hi := int64(0), bytes // amount(lo) <= left < amount(hi)
			for hi-lo > 1 {
				mid := lo + (hi-lo)/2
				if amount(mid) <= left {
					lo = mid
				} else {
					hi = mid
				}
			}
			paid = lo
		}
	}
	amt, rem, _ := records.DeliveryAmount(paid, m.price, m.carry[pair])
	m.carry[pair] = rem
	if amt > 0 || paid < bytes {
		sp.Amount += amt
		sp.CappedBytes += bytes - paid
		m.spend[sk] = sp
	}
	p := &records.Payout{Ref: ref, Payer: payer, Payee: payee, Epoch: epoch, Bytes: paid, CappedBytes: bytes - paid, Amount: amt, Status: records.PayoutPaid, TxID: txID}
	m.payouts[ref] = p
	if amt <= 0 {
		return
	}
	from := m.acct(payer)
	if from.Queued == 0 && from.Escrow >= amt {
		from.Escrow -= amt
		m.acct(payee).Balance += amt
		return
	}
	p.Status = records.PayoutQueued
	from.Owed += amt
	from.Queued++
	m.queues[payer] = append(m.queues[payer], ref)
	m.queuedEver++
}

// TestTokenProperties runs thousands of random operations by random
// organisations and roles and checks after each one that the ledger equals
// the model, that no amount is negative, that balances and escrows sum to
// the tokens issued, and that every queued payout is either still owed
// whole or paid whole. DCT_TOKEN_SEED replays a failing run.
func TestTokenProperties(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("DCT_TOKEN_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		seed = v
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("seed %d (DCT_TOKEN_SEED=%d replays it)", seed, seed)
		}
	})
	steps := 2000
	if testing.Short() {
		steps = 500
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	orgs := []string{orgA, orgB, orgC}
	te := newTokenEnv(t, orgs...)
	roles := []records.Role{records.RoleAdmin, records.RolePublisher, records.RoleGateway, records.RoleAuditor}
	m := &tokenModel{accounts: map[string]*records.Account{}, payouts: map[string]*records.Payout{}, queues: map[string][]string{}, carry: map[[2]string]int64{},
		budget: map[string]int64{}, spend: map[spendKey]*records.EpochSpend{}}
	const mib = records.PriceUnitBytes
	amount := func() int64 {
		switch rng.IntN(10) {
		case 0:
			return int64(rng.IntN(3)) - 1 // -1, 0, 1
		case 1:
			return records.MaxIssuePerCall + int64(rng.IntN(2))
		}
		return 1 + int64(rng.IntN(500))
	}
	// A ref keeps its payer, payee and bytes, so repeats are replays, but
	// now and then it is reused with other bytes (a conflict).
	type delivery struct {
		payer, payee string
		epoch, bytes int64
	}
	newDelivery := func() delivery {
		return delivery{orgs[rng.IntN(len(orgs))], orgs[rng.IntN(len(orgs))], int64(rng.IntN(4)), 1 + rng.Int64N(20*mib)}
	}
	refs := map[string]delivery{}
	counts := map[string]int{}

	for step := range steps {
		org := orgs[rng.IntN(len(orgs))]
		role := roles[rng.IntN(len(roles))]
		var desc string
		var err error
		op := rng.IntN(10)
		switch op {
		case 0: // issue
			amt := amount()
			desc = fmt.Sprintf("Issue(%d) by %s %s", amt, org, role)
			_, err = by(te, org, role, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Issue(ctx, amt) })
			if ok := role == records.RoleAdmin && amt > 0 && amt <= records.MaxIssuePerCall; ok {
				a := m.acct(org)
				a.Balance += amt
				a.Issued += amt
			}
		case 1: // transfer
			to := orgs[rng.IntN(len(orgs))]
			amt := amount()
			desc = fmt.Sprintf("Transfer(%s, %d) by %s %s", to, amt, org, role)
			_, err = by(te, org, role, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Transfer(ctx, to, amt) })
			from, toA := m.accounts[org], m.accounts[to]
			if (role == records.RoleAdmin || role == records.RolePublisher) && amt > 0 && to != org && toA != nil && from != nil && from.Balance >= amt {
				from.Balance -= amt
				toA.Balance += amt
			}
		case 2: // deposit
			amt := amount()
			desc = fmt.Sprintf("Deposit(%d) by %s %s", amt, org, role)
			_, err = by(te, org, role, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Deposit(ctx, amt) })
			if a := m.accounts[org]; (role == records.RoleAdmin || role == records.RolePublisher) && amt > 0 && a != nil && a.Balance >= amt {
				a.Balance -= amt
				a.Escrow += amt
				m.settle(org)
			}
		case 3: // withdraw
			amt := amount()
			desc = fmt.Sprintf("Withdraw(%d) by %s %s", amt, org, role)
			_, err = by(te, org, role, func(ctx *fakes.Context) (*records.Account, error) { return te.tok.Withdraw(ctx, amt) })
			if a := m.accounts[org]; (role == records.RoleAdmin || role == records.RolePublisher) && amt > 0 && a != nil && a.Queued == 0 && a.Escrow >= amt {
				a.Escrow -= amt
				a.Balance += amt
			}
		case 4, 5: // payDelivery
			ref := fmt.Sprintf("batch-%d", rng.IntN(steps/4+1))
			d, seen := refs[ref]
			if !seen {
				d = newDelivery()
				refs[ref] = d
			}
			if rng.IntN(10) == 0 {
				d.bytes++ // a conflicting reuse of the ref
			}
			desc = fmt.Sprintf("payDelivery(%s, %s, epoch %d, %d, %s)", d.payer, d.payee, d.epoch, d.bytes, ref)
			spentBefore := te.spend(d.payer, d.epoch).Amount
			ctx := te.ledger.NewContext(org)
			var got *records.Payout
			got, err = callCtx(te.env, ctx, func(ctx *fakes.Context) (*records.Payout, error) {
				return payDelivery(ctx, d.payer, d.payee, d.epoch, d.bytes, ref)
			})
			if old, ok := m.payouts[ref]; ok {
				same := old.Bytes+old.CappedBytes == d.bytes && old.Epoch == d.epoch
				if same && (err != nil || len(ctx.Stub.Writes()) != 0 || got.TxID != old.TxID) {
					t.Fatalf("step %d: replay %s: %v, wrote %v", step, desc, err, ctx.Stub.Writes())
				}
				if !same && records.CodeOf(err) != records.CodeConflict {
					t.Fatalf("step %d: conflicting %s: %v", step, desc, err)
				}
				err = nil
				break
			}
			if err != nil {
				t.Fatalf("step %d: %s: %v", step, desc, err)
			}
			// A budget bounds what the epoch's payouts amount to: a payout
			// never takes the spend past it (a budget lowered below what
			// was spent already lets nothing more through).
			if b := m.budget[d.payer]; b > 0 {
				if after := te.spend(d.payer, d.epoch).Amount; after > max(spentBefore, b) {
					t.Fatalf("step %d: %s: spend %d → %d over budget %d", step, desc, spentBefore, after, b)
				}
			}
			if got.Bytes+got.CappedBytes != d.bytes || got.Bytes < 0 || got.CappedBytes < 0 {
				t.Fatalf("step %d: %s: paid %d + capped %d bytes", step, desc, got.Bytes, got.CappedBytes)
			}
			m.pay(d.payer, d.payee, d.epoch, d.bytes, ref, got.TxID)
		case 6: // settle
			desc = fmt.Sprintf("SettleQueued by %s %s", org, role)
			_, err = by(te, org, role, func(ctx *fakes.Context) ([]*records.Payout, error) { return te.tok.SettleQueued(ctx) })
			payers := slices.Sorted(func(yield func(string) bool) {
				for p := range m.queues {
					if !yield(p) {
						return
					}
				}
			})
			for _, p := range payers {
				m.settle(p)
			}
		case 8: // several payouts in one transaction, a ref maybe twice
			n := 2 + rng.IntN(3)
			var batch []string
			for range n {
				ref := fmt.Sprintf("multi-%d", rng.IntN(steps/4+1))
				if len(batch) > 0 && rng.IntN(4) == 0 {
					ref = batch[rng.IntN(len(batch))]
				}
				if _, ok := refs[ref]; !ok {
					refs[ref] = newDelivery()
				}
				batch = append(batch, ref)
			}
			desc = fmt.Sprintf("payDelivery ×%d in one transaction: %v", n, batch)
			ctx := te.ledger.NewContext(org)
			_, err = callCtx(te.env, ctx, func(ctx *fakes.Context) ([]*records.Payout, error) {
				var out []*records.Payout
				for _, ref := range batch {
					d := refs[ref]
					p, err := payDelivery(ctx, d.payer, d.payee, d.epoch, d.bytes, ref)
					if err != nil {
						return nil, err
					}
					out = append(out, p)
				}
				return out, nil
			})
			if err != nil {
				t.Fatalf("step %d: %s: %v", step, desc, err)
			}
			for _, ref := range batch {
				if _, ok := m.payouts[ref]; !ok {
					d := refs[ref]
					m.pay(d.payer, d.payee, d.epoch, d.bytes, ref, ctx.Stub.GetTxID())
				}
			}
		case 9: // budget: mostly small ones, so that they bind
			var v int64
			switch rng.IntN(8) {
			case 0, 1:
				v = 0 // no limit
			case 2:
				v = -1
			case 3:
				v = records.MaxBudgetPerEpoch + 1
			case 4, 5:
				v = 1 + int64(rng.IntN(5000))
			default:
				v = 1 + int64(rng.IntN(200))
			}
			desc = fmt.Sprintf("SetBudget(%d) by %s %s", v, org, role)
			_, err = by(te, org, role, func(ctx *fakes.Context) (*records.Budget, error) { return te.tok.SetBudget(ctx, v) })
			if role == records.RoleAdmin && v >= 0 && v <= records.MaxBudgetPerEpoch {
				m.budget[org] = v
			}
		case 7: // price
			v := int64(rng.IntN(40))
			if rng.IntN(20) == 0 {
				v = -1
			}
			desc = fmt.Sprintf("SetPrice(%d) by %s %s", v, org, role)
			_, err = by(te, org, role, func(ctx *fakes.Context) (*records.Price, error) { return te.tok.SetPrice(ctx, v) })
			if role == records.RoleAdmin && v >= 0 {
				m.price = v
			}
		}
		counts[fmt.Sprint(op, err == nil)]++
		_ = desc
		checkTokenState(t, te, m, step, desc, step%20 == 0 || step == steps-1)
	}
	queued := 0
	for _, p := range m.payouts {
		if p.Status == records.PayoutQueued {
			queued++
		}
	}
	capped := 0
	for _, p := range m.payouts {
		if p.CappedBytes > 0 {
			capped++
		}
	}
	t.Logf("seed %d, %d steps, outcomes (op ok): %v; %d payouts, %d queued, %d of them settled later, %d queued at the end, %d cut by a budget",
		seed, steps, counts, len(m.payouts), m.queuedEver, m.settledEver, queued, capped)
	if !testing.Short() && (m.queuedEver == 0 || m.settledEver == 0) {
		t.Errorf("the run queued %d and settled %d payouts: it does not exercise the queue", m.queuedEver, m.settledEver)
	}
	if !testing.Short() && capped == 0 {
		t.Errorf("no payout was cut by a budget: the run does not exercise budgets")
	}
}

// checkTokenState compares the ledger with the model: the accounts and the
// supply always, every payout when payouts is true.
func checkTokenState(t *testing.T, te *tokenEnv, m *tokenModel, step int, desc string, payouts bool) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("step %d after %s: %s", step, desc, fmt.Sprintf(format, args...))
	}
	accounts := mustAs(te.env, te.auditor(), func(ctx *fakes.Context) ([]*records.Account, error) { return te.tok.Accounts(ctx) })
	if len(accounts) != len(m.accounts) {
		fail("%d accounts, model has %d", len(accounts), len(m.accounts))
	}
	var issued, held int64
	for _, a := range accounts {
		w := m.accounts[a.MSPID]
		if w == nil {
			fail("unexpected account %s", a.MSPID)
		}
		if a.Balance < 0 || a.Escrow < 0 || a.Owed < 0 || a.Queued < 0 || a.Issued < 0 {
			fail("negative amount in %+v", a)
		}
		if a.Balance != w.Balance || a.Escrow != w.Escrow || a.Issued != w.Issued || a.Owed != w.Owed || a.Queued != w.Queued {
			fail("account %+v, model %+v", a, w)
		}
		issued += a.Issued
		held += a.Balance + a.Escrow
	}
	if held != issued {
		fail("balances + escrows = %d, issued %d", held, issued)
	}
	s := te.supply()
	if s.Issued != issued || s.Balances+s.Escrows != s.Issued {
		fail("supply %+v, issued %d", s, issued)
	}
	if !payouts {
		return
	}
	// Every payout is paid whole or queued whole, as the model says; the
	// queued ones are what their payers owe.
	owed := map[string]int64{}
	for _, org := range []string{orgA, orgB, orgC} {
		ps := mustAs(te.env, te.auditor(), func(ctx *fakes.Context) ([]*records.Payout, error) { return te.tok.Payouts(ctx, org) })
		for _, p := range ps {
			w := m.payouts[p.Ref]
			if w == nil || p.Status != w.Status || p.Amount != w.Amount || p.Payer != w.Payer || p.Payee != org ||
				p.Bytes != w.Bytes || p.CappedBytes != w.CappedBytes || p.Epoch != w.Epoch {
				fail("payout %+v, model %+v", p, w)
			}
			if (p.Status == records.PayoutPaid) != (p.PaidTxID != "") {
				fail("payout %+v: status and paid transaction disagree", p)
			}
			if p.Status == records.PayoutQueued {
				owed[p.Payer] += p.Amount
			}
		}
	}
	for msp, a := range m.accounts {
		if owed[msp] != a.Owed {
			fail("queued payouts of %s sum to %d, account owes %d", msp, owed[msp], a.Owed)
		}
	}
	// Budgets and what each epoch's payouts amount to.
	for _, org := range []string{orgA, orgB, orgC} {
		if b := must(te.env, orgA, func(ctx *fakes.Context) (*records.Budget, error) { return te.tok.Budget(ctx, org) }); b.PerEpoch != m.budget[org] {
			fail("budget of %s = %d, model %d", org, b.PerEpoch, m.budget[org])
		}
		for e := range int64(4) {
			got, w := te.spend(org, e), m.spend[spendKey{org, e}]
			if w == nil {
				w = &records.EpochSpend{}
			}
			if got.Amount != w.Amount || got.CappedBytes != w.CappedBytes {
				fail("spend of %s in epoch %d = %+v, model %+v", org, e, got, w)
			}
		}
	}
}
