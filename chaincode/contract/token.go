package contract

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-chaincode-go/v2/shim"
	"github.com/hyperledger/fabric-contract-api-go/v2/contractapi"
)

// TokenContractName is the name clients use to call the token contract.
const TokenContractName = "token"

// TokenContract is the consortium token ledger (see the records package for
// the records and the invariant).
//
// Policy:
//   - Issue: an organisation's admin issues tokens only into its own
//     organisation's balance (a deposit backed by that member), at most
//     records.MaxIssuePerCall per call; Account.Issued counts every
//     issuance. Nobody else can create tokens.
//   - Transfer, Deposit (balance → escrow), Withdraw (escrow → balance): an
//     admin or publisher of the organisation, on its own account only.
//     Transfer needs the recipient's account to exist (an organisation
//     opens it with Open, by issuing, or by being paid), so that tokens are
//     not sent to a mistyped MSP ID. Withdraw is refused while the
//     organisation has queued payouts: its escrow is owed to them.
//   - SetPrice: any organisation's admin proposes the consortium price;
//     like every write it takes effect only when endorsed under the
//     chaincode's endorsement policy (the peers of the organisations the
//     policy names run the same chaincode and agree by endorsing), and
//     every change is on the ledger (history:Price). Until it is set the
//     price is 0.
//   - SetBudget: an organisation's admin sets the most its escrow pays
//     for the deliveries of one epoch (0, the default, is no limit);
//     every change is on the ledger (history:Budget).
//   - payDelivery (called by the delivery contract for an accepted batch)
//     pays price·bytes/MiB, rounded down with the remainder carried per
//     payer and payee, from the payer's escrow to the payee's balance,
//     for at most the bytes the payer's budget for the delivery's epoch
//     still covers (the rest is cut, recorded and never paid). An
//     escrow that runs short queues the whole payout, and so do later ones
//     while any is queued (payouts are paid in order); Deposit and
//     SettleQueued pay queued payouts in order as far as the escrow
//     allows, never in part. A ref is paid at most once.
type TokenContract struct {
	contractapi.Contract
}

// NewTokenContract returns the token contract.
func NewTokenContract() *TokenContract {
	return &TokenContract{Contract: newContract(TokenContractName, "DCT token", "Consortium token: issuance, balances, escrow and delivery payouts")}
}

// GetEvaluateTransactions lists the read-only functions.
func (c *TokenContract) GetEvaluateTransactions() []string {
	return []string{"Account", "Accounts", "Price", "Payouts", "Supply", "Budget", "Spend"}
}

// Issue creates amount tokens in the caller's organisation's balance. Only
// the organisation's admins may.
func (c *TokenContract) Issue(ctx contractapi.TransactionContextInterface, amount int64) (*records.Account, error) {
	a, err := issueTokens(ctx, amount)
	return a, asRecordsError(err)
}

// Open creates the caller's organisation's empty account, so that it can
// receive transfers; it is ALREADY_EXISTS when there is one.
func (c *TokenContract) Open(ctx contractapi.TransactionContextInterface) (*records.Account, error) {
	a, err := openAccount(ctx)
	return a, asRecordsError(err)
}

// Transfer moves amount tokens from the caller's organisation's balance to
// organisation toMSP's balance.
func (c *TokenContract) Transfer(ctx contractapi.TransactionContextInterface, toMSP string, amount int64) (*records.Account, error) {
	a, err := transferTokens(ctx, toMSP, amount)
	return a, asRecordsError(err)
}

// Deposit moves amount tokens from the caller's organisation's balance to
// its escrow, then pays its queued payouts as far as the escrow allows.
func (c *TokenContract) Deposit(ctx contractapi.TransactionContextInterface, amount int64) (*records.Account, error) {
	a, err := moveEscrow(ctx, "token:Deposit", amount)
	return a, asRecordsError(err)
}

// Withdraw moves amount tokens from the caller's organisation's escrow to
// its balance; refused while it has queued payouts.
func (c *TokenContract) Withdraw(ctx contractapi.TransactionContextInterface, amount int64) (*records.Account, error) {
	a, err := moveEscrow(ctx, "token:Withdraw", amount)
	return a, asRecordsError(err)
}

// SetPrice sets the consortium price of delivery, in tokens per MiB.
func (c *TokenContract) SetPrice(ctx contractapi.TransactionContextInterface, pricePerMiB int64) (*records.Price, error) {
	p, err := setPrice(ctx, pricePerMiB)
	return p, asRecordsError(err)
}

// SetBudget sets the most the caller's organisation's escrow pays for the
// deliveries of one epoch, in tokens (0: no limit). Only the
// organisation's admins may.
func (c *TokenContract) SetBudget(ctx contractapi.TransactionContextInterface, tokensPerEpoch int64) (*records.Budget, error) {
	b, err := setBudget(ctx, tokensPerEpoch)
	return b, asRecordsError(err)
}

// Budget reads organisation mspID's budget per epoch (PerEpoch 0, no
// limit, when it never set one).
func (c *TokenContract) Budget(ctx contractapi.TransactionContextInterface, mspID string) (*records.Budget, error) {
	v, err := newTokenView(ctx.GetStub())
	if err != nil {
		return nil, asRecordsError(err)
	}
	b, err := loadBudget(v, mspID)
	return b, asRecordsError(err)
}

// Spend reads what the payouts for epoch's deliveries of organisation
// mspID's content amount to, and the bytes its budget cut (zero when
// nothing was paid for that epoch): for a member of it or an auditor, as
// its account.
func (c *TokenContract) Spend(ctx contractapi.TransactionContextInterface, mspID string, epoch int64) (*records.EpochSpend, error) {
	r, err := currentCaller(ctx)
	if err != nil {
		return nil, asRecordsError(err)
	}
	if err := readPrivate(r, describe("the spend of", mspID), mspID); err != nil {
		return nil, asRecordsError(err)
	}
	v, err := newTokenView(ctx.GetStub())
	if err != nil {
		return nil, asRecordsError(err)
	}
	s, _, err := loadSpend(v, mspID, epoch)
	return s, asRecordsError(err)
}

// SettleQueued pays every organisation's queued payouts, in order, as far
// as its escrow allows, and returns those it paid.
func (c *TokenContract) SettleQueued(ctx contractapi.TransactionContextInterface) ([]*records.Payout, error) {
	paid, err := settleQueued(ctx)
	return paid, asRecordsError(err)
}

// Account reads the account of organisation mspID: for a member of it or
// an auditor (see AuditContract for the privacy rule).
func (c *TokenContract) Account(ctx contractapi.TransactionContextInterface, mspID string) (*records.Account, error) {
	r, err := currentCaller(ctx)
	if err != nil {
		return nil, asRecordsError(err)
	}
	a, err := readAccount(ctx, r, mspID)
	return a, asRecordsError(err)
}

// Accounts reads every account, by MSP ID: for an auditor.
func (c *TokenContract) Accounts(ctx contractapi.TransactionContextInterface) ([]*records.Account, error) {
	r, err := currentCaller(ctx)
	if err != nil {
		return nil, asRecordsError(err)
	}
	as, err := readAccounts(ctx, r)
	return as, asRecordsError(err)
}

// Price reads the consortium price (0, unset, until SetPrice).
func (c *TokenContract) Price(ctx contractapi.TransactionContextInterface) (*records.Price, error) {
	v, err := newTokenView(ctx.GetStub())
	if err != nil {
		return nil, asRecordsError(err)
	}
	p, err := loadPrice(v)
	return p, asRecordsError(err)
}

// Payouts reads the payouts to organisation payeeMSP, by ref: for a
// member of it or an auditor.
func (c *TokenContract) Payouts(ctx contractapi.TransactionContextInterface, payeeMSP string) ([]*records.Payout, error) {
	r, err := currentCaller(ctx)
	if err != nil {
		return nil, asRecordsError(err)
	}
	ps, err := readPayouts(ctx, r, payeeMSP)
	return ps, asRecordsError(err)
}

// Supply sums the accounts: issued, balances, escrows and queued payouts.
// The consortium's totals are public: they show no organisation's figures
// (with two members, each can subtract its own; see the README's threat
// model).
func (c *TokenContract) Supply(ctx contractapi.TransactionContextInterface) (*records.Supply, error) {
	s, err := tokenSupply(ctx.GetStub())
	return s, asRecordsError(err)
}

// tokenView caches the accounts one call reads and changes, so that every
// account is written once, at flush, whatever the number of changes (a
// payer that is also the payee, several queued payouts to one
// organisation); it reads through the transaction's own writes (txWrites).
type tokenView struct {
	stub     shim.ChaincodeStubInterface
	w        *txWrites
	tx       txInfo
	accounts map[string]*records.Account
	exists   map[string]bool
	dirty    map[string]bool
}

func newTokenView(stub shim.ChaincodeStubInterface) (*tokenView, error) {
	tx, err := currentTx(stub)
	if err != nil {
		return nil, err
	}
	return &tokenView{stub: stub, w: writesOf(stub), tx: tx, accounts: map[string]*records.Account{}, exists: map[string]bool{}, dirty: map[string]bool{}}, nil
}

// account returns the account of mspID, a new empty one when there is
// none (exists reports whether there was).
func (v *tokenView) account(mspID string) (a *records.Account, exists bool, err error) {
	if a, ok := v.accounts[mspID]; ok {
		return a, v.exists[mspID], nil
	}
	key, err := records.AccountKey(mspID)
	if err != nil {
		return nil, false, err
	}
	a, found, err := getRec[records.Account](v, key, describe("account", mspID))
	if err != nil {
		return nil, false, err
	}
	if !found {
		a = &records.Account{MSPID: mspID}
	}
	v.accounts[mspID], v.exists[mspID] = a, found
	return a, found, nil
}

func (v *tokenView) touch(mspID string) { v.dirty[mspID] = true }

// flush writes the changed accounts, in MSP ID order.
func (v *tokenView) flush() error {
	ids := make([]string, 0, len(v.dirty))
	for id := range v.dirty {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		a := v.accounts[id]
		if a.Balance < 0 || a.Escrow < 0 || a.Owed < 0 || a.Queued < 0 {
			return internalf("%s would become negative: %+v", describe("account", id), *a)
		}
		a.UpdatedAt, a.LastTxID = v.tx.time, v.tx.id
		key, err := records.AccountKey(id)
		if err != nil {
			return err
		}
		if err := v.put(key, describe("account", id), a); err != nil {
			return err
		}
	}
	return nil
}

func addAmount(what string, a, b int64) (int64, error) {
	s, ok := records.AddAmounts(a, b)
	if !ok {
		return 0, preconditionf("%s would overflow: %d + %d", what, a, b)
	}
	return s, nil
}

func issueTokens(ctx txContext, amount int64) (*records.Account, error) {
	who, err := authorize(ctx, "token:Issue")
	if err != nil {
		return nil, err
	}
	if err := records.ValidateAmount(amount); err != nil {
		return nil, err
	}
	if amount > records.MaxIssuePerCall {
		return nil, invalidf("amount %d exceeds the issuance cap of %d per call", amount, records.MaxIssuePerCall)
	}
	v, err := newTokenView(ctx.GetStub())
	if err != nil {
		return nil, err
	}
	a, _, err := v.account(who.MSPID)
	if err != nil {
		return nil, err
	}
	if a.Issued, err = addAmount("issued", a.Issued, amount); err != nil {
		return nil, err
	}
	if a.Balance, err = addAmount("balance", a.Balance, amount); err != nil {
		return nil, err
	}
	v.touch(who.MSPID)
	return a, v.flush()
}

func openAccount(ctx txContext) (*records.Account, error) {
	who, err := authorize(ctx, "token:Open")
	if err != nil {
		return nil, err
	}
	v, err := newTokenView(ctx.GetStub())
	if err != nil {
		return nil, err
	}
	a, exists, err := v.account(who.MSPID)
	if err != nil {
		return nil, err
	}
	if exists {
		return nil, conflictf("%s already exists", describe("account", who.MSPID))
	}
	v.touch(who.MSPID)
	return a, v.flush()
}

func transferTokens(ctx txContext, toMSP string, amount int64) (*records.Account, error) {
	who, err := authorize(ctx, "token:Transfer")
	if err != nil {
		return nil, err
	}
	if err := records.ValidateMSPID("toMSP", toMSP); err != nil {
		return nil, err
	}
	if err := records.ValidateAmount(amount); err != nil {
		return nil, err
	}
	if toMSP == who.MSPID {
		return nil, invalidf("%s cannot transfer to itself", who.MSPID)
	}
	v, err := newTokenView(ctx.GetStub())
	if err != nil {
		return nil, err
	}
	from, _, err := v.account(who.MSPID)
	if err != nil {
		return nil, err
	}
	to, exists, err := v.account(toMSP)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, notFoundf("%s does not exist; its organisation opens it with token:Open", describe("account", toMSP))
	}
	if from.Balance < amount {
		return nil, preconditionf("%s has a balance of %d, short of %d", describe("account", who.MSPID), from.Balance, amount)
	}
	if to.Balance, err = addAmount("balance of "+toMSP, to.Balance, amount); err != nil {
		return nil, err
	}
	from.Balance -= amount
	v.touch(who.MSPID)
	v.touch(toMSP)
	return from, v.flush()
}

// moveEscrow is Deposit (balance → escrow, then settle the organisation's
// queue) and Withdraw (escrow → balance).
func moveEscrow(ctx txContext, fn string, amount int64) (*records.Account, error) {
	who, err := authorize(ctx, fn)
	if err != nil {
		return nil, err
	}
	if err := records.ValidateAmount(amount); err != nil {
		return nil, err
	}
	stub := ctx.GetStub()
	v, err := newTokenView(stub)
	if err != nil {
		return nil, err
	}
	a, exists, err := v.account(who.MSPID)
	if err != nil {
		return nil, err
	}
	if !exists {
		return nil, notFoundf("%s does not exist", describe("account", who.MSPID))
	}
	if fn == "token:Withdraw" {
		if a.Queued > 0 {
			return nil, preconditionf("%s has %d queued payouts (%d tokens); its escrow is owed to them", describe("account", who.MSPID), a.Queued, a.Owed)
		}
		if a.Escrow < amount {
			return nil, preconditionf("%s has an escrow of %d, short of %d", describe("account", who.MSPID), a.Escrow, amount)
		}
		if a.Balance, err = addAmount("balance", a.Balance, amount); err != nil {
			return nil, err
		}
		a.Escrow -= amount
	} else {
		if a.Balance < amount {
			return nil, preconditionf("%s has a balance of %d, short of %d", describe("account", who.MSPID), a.Balance, amount)
		}
		if a.Escrow, err = addAmount("escrow", a.Escrow, amount); err != nil {
			return nil, err
		}
		a.Balance -= amount
	}
	v.touch(who.MSPID)
	if fn == "token:Deposit" {
		if _, err := v.settle(who.MSPID); err != nil {
			return nil, err
		}
	}
	return a, v.flush()
}

func setPrice(ctx txContext, perMiB int64) (*records.Price, error) {
	who, err := authorize(ctx, "token:SetPrice")
	if err != nil {
		return nil, err
	}
	if perMiB < 0 || perMiB > records.MaxPricePerMiB {
		return nil, invalidf("pricePerMiB must be in 0..%d, got %d", records.MaxPricePerMiB, perMiB)
	}
	v, err := newTokenView(ctx.GetStub())
	if err != nil {
		return nil, err
	}
	p := &records.Price{PerMiB: perMiB, SetBy: who.MSPID, SetByCert: who.CertHash, SetAt: v.tx.time, TxID: v.tx.id}
	key, err := compositeKey(v.stub, records.PriceKeyType)
	if err != nil {
		return nil, err
	}
	return p, v.put(key, "price", p)
}

func setBudget(ctx txContext, perEpoch int64) (*records.Budget, error) {
	who, err := authorize(ctx, "token:SetBudget")
	if err != nil {
		return nil, err
	}
	if err := records.ValidateBudget(perEpoch); err != nil {
		return nil, err
	}
	v, err := newTokenView(ctx.GetStub())
	if err != nil {
		return nil, err
	}
	key, err := records.BudgetKey(who.MSPID)
	if err != nil {
		return nil, err
	}
	b := &records.Budget{MSPID: who.MSPID, PerEpoch: perEpoch, SetByCert: who.CertHash, SetAt: v.tx.time, TxID: v.tx.id}
	return b, v.put(key, describe("budget", who.MSPID), b)
}

func loadBudget(v *tokenView, mspID string) (*records.Budget, error) {
	key, err := records.BudgetKey(mspID)
	if err != nil {
		return nil, err
	}
	b, found, err := getRec[records.Budget](v, key, describe("budget", mspID))
	if err != nil {
		return nil, err
	}
	if !found {
		return &records.Budget{MSPID: mspID}, nil
	}
	return b, nil
}

// loadSpend returns the spend of mspID for epoch and its key.
func loadSpend(v *tokenView, mspID string, epoch int64) (*records.EpochSpend, string, error) {
	if err := records.ValidateMSPID("mspId", mspID); err != nil {
		return nil, "", err
	}
	if epoch < 0 {
		return nil, "", invalidf("epoch must not be negative, got %d", epoch)
	}
	key, err := compositeKey(v.stub, records.SpendKeyType, mspID, records.EpochPad(epoch))
	if err != nil {
		return nil, "", err
	}
	s, found, err := getRec[records.EpochSpend](v, key, describe("spend", mspID, records.EpochPad(epoch)))
	if err != nil {
		return nil, "", err
	}
	if !found {
		s = &records.EpochSpend{MSPID: mspID, Epoch: epoch}
	}
	return s, key, nil
}

func loadPrice(v *tokenView) (*records.Price, error) {
	key, err := compositeKey(v.stub, records.PriceKeyType)
	if err != nil {
		return nil, err
	}
	p, found, err := getRec[records.Price](v, key, "price")
	if err != nil {
		return nil, err
	}
	if !found {
		return &records.Price{}, nil
	}
	return p, nil
}

func settleQueued(ctx txContext) ([]*records.Payout, error) {
	if _, err := authorize(ctx, "token:SettleQueued"); err != nil {
		return nil, err
	}
	v, err := newTokenView(ctx.GetStub())
	if err != nil {
		return nil, err
	}
	paid, err := v.settle("")
	if err != nil {
		return nil, err
	}
	return paid, v.flush()
}

// settle pays the queued payouts of payer ("": of every payer), each
// payer's in queue order, stopping at a payer's first payout its escrow
// cannot cover whole.
func (v *tokenView) settle(payer string) ([]*records.Payout, error) {
	attrs := []string{}
	if payer != "" {
		attrs = []string{payer}
	}
	keys, vals, err := v.listState(records.QueueKeyType, attrs...)
	if err != nil {
		return nil, err
	}
	type queued struct {
		key, payer string
		entry      records.QueueEntry
	}
	var entries []queued
	for i, key := range keys {
		_, parts, err := v.stub.SplitCompositeKey(key)
		if err != nil || len(parts) != 2 {
			return nil, internalf("malformed queue key %q", key)
		}
		q := queued{key: key, payer: parts[0]}
		if err := json.Unmarshal(vals[i], &q.entry); err != nil {
			return nil, internalf("stored queue entry %q is corrupt: %v", key, err)
		}
		entries = append(entries, q)
	}
	paid := []*records.Payout{}
	blocked := map[string]bool{}
	for _, q := range entries {
		if blocked[q.payer] {
			continue
		}
		from, _, err := v.account(q.payer)
		if err != nil {
			return nil, err
		}
		if from.Escrow < q.entry.Amount {
			blocked[q.payer] = true
			continue
		}
		pkey, err := records.PayoutKey(q.entry.Ref)
		if err != nil {
			return nil, internalf("queue entry %q: %v", q.key, err)
		}
		p, found, err := getRec[records.Payout](v, pkey, describe("payout", q.entry.Ref))
		if err != nil {
			return nil, err
		}
		if !found || p.Status != records.PayoutQueued || p.Amount != q.entry.Amount || p.Payer != q.payer {
			return nil, internalf("queue entry %q does not match its payout", q.key)
		}
		to, _, err := v.account(p.Payee)
		if err != nil {
			return nil, err
		}
		if to.Balance, err = addAmount("balance of "+p.Payee, to.Balance, p.Amount); err != nil {
			return nil, err
		}
		from.Escrow -= p.Amount
		from.Owed -= p.Amount
		from.Queued--
		v.touch(p.Payer)
		v.touch(p.Payee)
		p.Status, p.PaidAt, p.PaidTxID = records.PayoutPaid, v.tx.time, v.tx.id
		if err := v.put(pkey, describe("payout", p.Ref), p); err != nil {
			return nil, err
		}
		if err := v.del(q.key, "queue entry"); err != nil {
			return nil, err
		}
		paid = append(paid, p)
	}
	return paid, nil
}

// payDelivery pays the delivery ref of bytes of payerMSP's content,
// delivered by payeeMSP's node in epoch, at the price in force:
// price·bytes/MiB, rounded down with the remainder carried per payer and
// payee, from the payer's escrow to the payee's balance. When the payer
// has a budget (SetBudget), the payouts for one epoch's deliveries amount
// to at most that budget: the bytes beyond what it still covers are cut
// (Payout.CappedBytes, never paid; the carry advances only with the bytes
// paid). When the escrow is short, or the payer already has queued
// payouts, the whole payout is queued (status queued) and paid later by
// Deposit or SettleQueued, in order; a queued payout counts against the
// budget when it is recorded. A ref already paid or queued with the same
// payer, payee, epoch and bytes returns the recorded payout and changes
// nothing; with other values it is ALREADY_EXISTS.
//
// The delivery contract calls it after accepting a batch; it checks no
// caller role (the caller is the one accepting the batch). It may be
// called several times in one transaction: the token functions read the
// transaction's own writes (txWrites).
func payDelivery(ctx txContext, payerMSP, payeeMSP string, epoch, bytes int64, ref string) (*records.Payout, error) {
	return payDeliveryAt(ctx, payerMSP, payeeMSP, epoch, bytes, ref, nil)
}

// payDeliveryAt is payDelivery at a contracted price (nil: the consortium
// price in force); the payout names the contract's auction.
func payDeliveryAt(ctx txContext, payerMSP, payeeMSP string, epoch, bytes int64, ref string, contract *records.ContractPrice) (*records.Payout, error) {
	if err := records.ValidateMSPID("payer", payerMSP); err != nil {
		return nil, err
	}
	if err := records.ValidateMSPID("payee", payeeMSP); err != nil {
		return nil, err
	}
	if bytes <= 0 {
		return nil, invalidf("bytes must be greater than 0, got %d", bytes)
	}
	if epoch < 0 {
		return nil, invalidf("epoch must not be negative, got %d", epoch)
	}
	pkey, err := records.PayoutKey(ref)
	if err != nil {
		return nil, err
	}
	v, err := newTokenView(ctx.GetStub())
	if err != nil {
		return nil, err
	}
	stub := v.stub
	what := describe("payout", ref)
	if p, found, err := getRec[records.Payout](v, pkey, what); err != nil {
		return nil, err
	} else if found {
		if p.Payer != payerMSP || p.Payee != payeeMSP || p.Bytes+p.CappedBytes != bytes || p.Epoch != epoch {
			return nil, conflictf("%s was recorded for %d bytes of %s delivered by %s in epoch %d", what, p.Bytes+p.CappedBytes, p.Payer, p.Payee, p.Epoch)
		}
		return p, nil
	}
	price, err := loadPrice(v)
	if err != nil {
		return nil, err
	}
	if contract != nil {
		price = &records.Price{PerMiB: contract.DeliveryPerMiB}
	}
	ckey, err := compositeKey(stub, records.CarryKeyType, payerMSP, payeeMSP)
	if err != nil {
		return nil, err
	}
	cwhat := describe("carry", payerMSP, payeeMSP)
	carry, found, err := getRec[records.Carry](v, ckey, cwhat)
	if err != nil {
		return nil, err
	}
	if !found {
		carry = &records.Carry{Payer: payerMSP, Payee: payeeMSP}
	}
	budget, err := loadBudget(v, payerMSP)
	if err != nil {
		return nil, err
	}
	spend, skey, err := loadSpend(v, payerMSP, epoch)
	if err != nil {
		return nil, err
	}
	paidBytes := bytes
	if budget.PerEpoch > 0 {
		left := max(budget.PerEpoch-spend.Amount, 0)
		var ok bool
		if paidBytes, ok = records.BytesWithin(bytes, price.PerMiB, carry.Remainder, left); !ok {
			return nil, internalf("cannot apply the budget of %s: price %d, carry %d", payerMSP, price.PerMiB, carry.Remainder)
		}
	}
	amount, rem, ok := records.DeliveryAmount(paidBytes, price.PerMiB, carry.Remainder)
	if !ok {
		return nil, invalidf("%d bytes at %d per MiB is more than a payout can hold", bytes, price.PerMiB)
	}
	p := &records.Payout{
		Ref: ref, Payer: payerMSP, Payee: payeeMSP, Epoch: epoch, Bytes: paidBytes, CappedBytes: bytes - paidBytes,
		PricePerMiB: price.PerMiB, Amount: amount, Status: records.PayoutPaid, CreatedAt: v.tx.time, TxID: v.tx.id,
	}
	if contract != nil {
		p.Contract = contract.Auction
	}
	if amount > 0 {
		from, _, err := v.account(payerMSP)
		if err != nil {
			return nil, err
		}
		if from.Queued == 0 && from.Escrow >= amount {
			to, _, err := v.account(payeeMSP)
			if err != nil {
				return nil, err
			}
			if to.Balance, err = addAmount("balance of "+payeeMSP, to.Balance, amount); err != nil {
				return nil, err
			}
			from.Escrow -= amount
			v.touch(payeeMSP)
			p.PaidAt, p.PaidTxID = v.tx.time, v.tx.id
		} else {
			if from.Owed, err = addAmount("owed by "+payerMSP, from.Owed, amount); err != nil {
				return nil, err
			}
			p.Status, p.Seq = records.PayoutQueued, from.NextSeq
			qkey, err := compositeKey(stub, records.QueueKeyType, payerMSP, fmt.Sprintf("%0*d", records.QueueSeqDigits, p.Seq))
			if err != nil {
				return nil, err
			}
			if err := v.put(qkey, "queue entry", &records.QueueEntry{Ref: ref, Amount: amount}); err != nil {
				return nil, err
			}
			from.NextSeq++
			from.Queued++
		}
		v.touch(payerMSP)
	} else {
		p.PaidAt, p.PaidTxID = v.tx.time, v.tx.id
	}
	if rem != carry.Remainder {
		carry.Remainder = rem
		if err := v.put(ckey, cwhat, carry); err != nil {
			return nil, err
		}
	}
	if amount > 0 || p.CappedBytes > 0 {
		if spend.Amount, err = addAmount("spend of "+payerMSP, spend.Amount, amount); err != nil {
			return nil, err
		}
		// The bytes claimed are unbounded (a gateway's word): count them
		// without ever failing a payment on them.
		spend.CappedBytes = saturatingAdd(spend.CappedBytes, p.CappedBytes)
		spend.UpdatedAt, spend.LastTxID = v.tx.time, v.tx.id
		if err := v.put(skey, describe("spend", payerMSP, records.EpochPad(epoch)), spend); err != nil {
			return nil, err
		}
	}
	if err := v.put(pkey, what, p); err != nil {
		return nil, err
	}
	return p, v.flush()
}

// tokenSupply sums every account.
func tokenSupply(stub shim.ChaincodeStubInterface) (*records.Supply, error) {
	accounts, err := listRecords[records.Account](stub, records.AccountKeyType)
	if err != nil {
		return nil, err
	}
	s := &records.Supply{}
	for _, a := range accounts {
		for _, f := range []struct {
			sum *int64
			v   int64
		}{{&s.Issued, a.Issued}, {&s.Balances, a.Balance}, {&s.Escrows, a.Escrow}, {&s.Queued, a.Owed}, {&s.QueuedCount, a.Queued}} {
			sum, ok := records.AddAmounts(*f.sum, f.v)
			if !ok {
				return nil, internalf("the supply overflows at account %s", a.MSPID)
			}
			*f.sum = sum
		}
		s.Accounts++
	}
	return s, nil
}
