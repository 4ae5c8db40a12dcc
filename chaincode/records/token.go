package records

import (
	"math"
	"math/bits"
	"unicode/utf8"
)

// The consortium token (contract "token").
//
// Every organisation (MSP ID) has an Account with a Balance it may transfer
// and an Escrow that funds the delivery of its own content. Amounts are
// whole tokens (int64, never negative). Tokens come into existence only by
// issuance: an organisation's admin issues into its own organisation's
// balance (a deposit backed by that member, like a bank issuing claims on
// itself), at most MaxIssuePerCall per call, and every issuance is counted
// in Account.Issued. Nothing else creates or destroys tokens, so at all
// times the sum of every Balance and Escrow equals the sum of every Issued.
//
// Deliveries are paid at the consortium price in force (Price, tokens per
// MiB delivered) from the publisher's escrow to the node operator's
// balance. The amount of a delivery is rounded down to whole tokens and the
// remainder is carried per payer and payee (Carry), so many small
// deliveries are paid in full over time. A payout the escrow cannot cover
// is queued whole and paid, in order, when the escrow allows; it is never
// paid in part nor dropped.

// Composite key object types of the token records: [mspId] for accounts,
// [] for the price, [ref] for payouts, [payer, seq] for queued payouts and
// [payer, payee] for carried remainders, [mspId] for delivery budgets
// and [payer, epoch as 20 decimal digits] for what an organisation's
// escrow was charged for an epoch's deliveries.
const (
	AccountKeyType = "dct.token.account"
	PriceKeyType   = "dct.token.price"
	PayoutKeyType  = "dct.token.payout"
	QueueKeyType   = "dct.token.queue"
	CarryKeyType   = "dct.token.carry"
	BudgetKeyType  = "dct.token.budget"
	SpendKeyType   = "dct.token.spend"
)

// Token limits.
const (
	// MaxIssuePerCall caps one issuance.
	MaxIssuePerCall int64 = 1_000_000_000_000
	// MaxPricePerMiB caps the consortium price.
	MaxPricePerMiB int64 = 1_000_000_000
	// MaxBudgetPerEpoch caps a publisher's budget per epoch.
	MaxBudgetPerEpoch int64 = 1_000_000_000_000_000
	// MaxRefLength caps a payout reference.
	MaxRefLength = 256
	// PriceUnitBytes is the number of bytes the price is given for (1 MiB).
	PriceUnitBytes int64 = 1 << 20
	// QueueSeqDigits is the width of the zero-padded sequence number in
	// queue keys, so that key order is queue order.
	QueueSeqDigits = 19
)

// Account is an organisation's token account, stored under
// AccountKey(mspId).
type Account struct {
	MSPID string `json:"mspId"`
	// Balance is transferable; Escrow funds payouts for deliveries.
	Balance int64 `json:"balance"`
	Escrow  int64 `json:"escrow"`
	// Issued is every token the organisation's admins ever issued.
	Issued int64 `json:"issued"`
	// Owed is the sum of the organisation's queued payouts and Queued their
	// number; NextSeq numbers the next one.
	Owed    int64 `json:"owed"`
	Queued  int64 `json:"queued"`
	NextSeq int64 `json:"nextSeq"`
	// UpdatedAt and LastTxID: the last write.
	UpdatedAt string `json:"updatedAt"`
	LastTxID  string `json:"lastTxId"`
}

// Price is the consortium price of delivery, stored under PriceKey().
type Price struct {
	// PerMiB is the price in tokens of 1 MiB (PriceUnitBytes) delivered.
	PerMiB int64 `json:"perMiB"`
	// SetBy is the MSP ID, SetByCert the certificate hash of the admin that
	// set it.
	SetBy     string `json:"setBy"`
	SetByCert string `json:"setByCert"`
	SetAt     string `json:"setAt"`
	TxID      string `json:"txId"`
}

// Payout statuses.
const (
	PayoutPaid   = "paid"
	PayoutQueued = "queued"
)

// Payout is the payment for one accepted delivery batch, stored under
// PayoutKey(ref).
type Payout struct {
	// Ref identifies the delivery (the batch); it is paid at most once.
	Ref   string `json:"ref"`
	Payer string `json:"payer"`
	Payee string `json:"payee"`
	// Epoch is the epoch the bytes were delivered in (whose budget of
	// the payer they count against).
	Epoch int64 `json:"epoch"`
	// Bytes are the bytes paid for; CappedBytes those of the delivery
	// not paid because the payer's budget for the epoch ran out.
	Bytes       int64 `json:"bytes"`
	CappedBytes int64 `json:"cappedBytes,omitempty" metadata:",optional"`
	// PricePerMiB is the price in force when the delivery was accepted
	// (the consortium price, or the node's contracted one, Contract),
	// Amount the tokens due (rounded down, with the carried remainder).
	PricePerMiB int64 `json:"pricePerMiB"`
	Amount      int64 `json:"amount"`
	// Contract, when set, is the auction whose contract set PricePerMiB
	// (the node's contracted delivery price for the publisher's content).
	Contract string `json:"contract,omitempty" metadata:",optional"`
	// Status is PayoutPaid or PayoutQueued; Seq is the queue position of a
	// payout that was queued.
	Status    string `json:"status"`
	Seq       int64  `json:"seq"`
	CreatedAt string `json:"createdAt"`
	TxID      string `json:"txId"`
	// PaidAt and PaidTxID are set once it is paid.
	PaidAt   string `json:"paidAt,omitempty" metadata:",optional"`
	PaidTxID string `json:"paidTxId,omitempty" metadata:",optional"`
}

// Budget is the most an organisation's escrow pays for the deliveries of
// one epoch, stored under BudgetKey(mspId). PerEpoch 0 (or no record) is
// no limit.
type Budget struct {
	MSPID    string `json:"mspId"`
	PerEpoch int64  `json:"perEpoch"`
	// SetByCert is the certificate hash of the admin that set it.
	SetByCert string `json:"setByCert,omitempty" metadata:",optional"`
	SetAt     string `json:"setAt,omitempty" metadata:",optional"`
	TxID      string `json:"txId,omitempty" metadata:",optional"`
}

// EpochSpend is what the payouts for an epoch's deliveries of an
// organisation's content amount to (queued or paid), and the bytes its
// budget cut; stored under SpendKeyType [payer, EpochPad(epoch)].
type EpochSpend struct {
	MSPID       string `json:"mspId"`
	Epoch       int64  `json:"epoch"`
	Amount      int64  `json:"amount"`
	Payouts     int64  `json:"payouts"`
	CappedBytes int64  `json:"cappedBytes"`
	UpdatedAt   string `json:"updatedAt,omitempty" metadata:",optional"`
	LastTxID    string `json:"lastTxId,omitempty" metadata:",optional"`
}

// BudgetKey returns the ledger key of an organisation's budget.
func BudgetKey(mspID string) (string, error) {
	if err := ValidateMSPID("mspId", mspID); err != nil {
		return "", err
	}
	return CompositeKey(BudgetKeyType, mspID)
}

// ValidateBudget checks a budget per epoch: 0 (no limit) to
// MaxBudgetPerEpoch.
func ValidateBudget(perEpoch int64) error {
	if perEpoch < 0 || perEpoch > MaxBudgetPerEpoch {
		return invalidf("tokensPerEpoch must be in 0..%d (0: no limit), got %d", MaxBudgetPerEpoch, perEpoch)
	}
	return nil
}

// QueueEntry is a queued payout in its payer's queue, stored under
// QueueKey(payer, seq).
type QueueEntry struct {
	Ref    string `json:"ref"`
	Amount int64  `json:"amount"`
}

// Carry is the remainder, in byte·tokens per MiB, not yet paid to payee
// for deliveries of payer's content.
type Carry struct {
	Payer     string `json:"payer"`
	Payee     string `json:"payee"`
	Remainder int64  `json:"remainder"`
}

// Supply sums every account.
type Supply struct {
	// Issued is every token issued, Balances and Escrows the sums over the
	// accounts: Issued == Balances + Escrows.
	Issued   int64 `json:"issued"`
	Balances int64 `json:"balances"`
	Escrows  int64 `json:"escrows"`
	// Queued is the sum of queued payouts, QueuedCount their number.
	Queued      int64 `json:"queued"`
	QueuedCount int64 `json:"queuedCount"`
	Accounts    int64 `json:"accounts"`
}

// ValidateAmount checks that amount is a positive number of tokens.
func ValidateAmount(amount int64) error {
	if amount <= 0 {
		return invalidf("amount must be greater than 0, got %d", amount)
	}
	return nil
}

// ValidateRef checks a payout reference: 1 to MaxRefLength bytes of valid
// UTF-8 without U+0000 or U+10FFFF (it is a key attribute).
func ValidateRef(ref string) error {
	if ref == "" {
		return invalidf("ref must not be empty")
	}
	if len(ref) > MaxRefLength {
		return invalidf("ref must be at most %d bytes", MaxRefLength)
	}
	if !utf8.ValidString(ref) {
		return invalidf("ref must be valid UTF-8")
	}
	for _, r := range ref {
		if r == 0 || r == utf8.MaxRune {
			return invalidf("ref must not contain U+0000 or U+10FFFF")
		}
	}
	return nil
}

// AccountKey returns the ledger key of an organisation's account.
func AccountKey(mspID string) (string, error) {
	if err := ValidateMSPID("mspId", mspID); err != nil {
		return "", err
	}
	return CompositeKey(AccountKeyType, mspID)
}

// PayoutKey returns the ledger key of the payout of ref.
func PayoutKey(ref string) (string, error) {
	if err := ValidateRef(ref); err != nil {
		return "", err
	}
	return CompositeKey(PayoutKeyType, ref)
}

// AddAmounts returns a+b, or ok false when it overflows int64.
func AddAmounts(a, b int64) (sum int64, ok bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

// DeliveryAmount returns the tokens due for bytes delivered at pricePerMiB
// with carry (the remainder carried from earlier deliveries, 0 <= carry <
// PriceUnitBytes): (carry + bytes·price) / MiB, rounded down, and the new
// remainder. ok is false when bytes or price is negative or the amount does
// not fit an int64.
func DeliveryAmount(bytes, pricePerMiB, carry int64) (amount, remainder int64, ok bool) {
	if bytes < 0 || pricePerMiB < 0 || carry < 0 || carry >= PriceUnitBytes {
		return 0, 0, false
	}
	hi, lo := bits.Mul64(uint64(bytes), uint64(pricePerMiB))
	lo, c := bits.Add64(lo, uint64(carry), 0)
	hi += c
	if hi >= uint64(PriceUnitBytes) { // quotient would not fit 64 bits
		return 0, 0, false
	}
	q, r := bits.Div64(hi, lo, uint64(PriceUnitBytes))
	if q > math.MaxInt64 {
		return 0, 0, false
	}
	return int64(q), int64(r), true
}

// BytesWithin returns the most bytes, at most bytes, whose DeliveryAmount
// at pricePerMiB with carry is at most budget tokens: the largest b with
// (carry + b·price) / MiB < budget + 1, that is b = ((budget+1)·MiB −
// carry − 1) / price. With price 0 every byte is free: bytes. ok is false
// on arguments DeliveryAmount refuses or a negative budget.
func BytesWithin(bytes, pricePerMiB, carry, budget int64) (n int64, ok bool) {
	if bytes < 0 || pricePerMiB < 0 || carry < 0 || carry >= PriceUnitBytes || budget < 0 {
		return 0, false
	}
	if pricePerMiB == 0 {
		return bytes, true
	}
	// (budget+1)·MiB − carry − 1 in 128 bits; carry+1 <= MiB, so no
	// borrow past the product.
	hi, lo := bits.Mul64(uint64(budget)+1, uint64(PriceUnitBytes))
	lo, borrow := bits.Sub64(lo, uint64(carry)+1, 0)
	hi -= borrow
	if hi >= uint64(pricePerMiB) { // the quotient exceeds 64 bits: more than bytes
		return bytes, true
	}
	q, _ := bits.Div64(hi, lo, uint64(pricePerMiB))
	if q >= uint64(bytes) {
		return bytes, true
	}
	return int64(q), true
}
