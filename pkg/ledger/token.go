package ledger

import (
	"context"
	"strconv"

	"github.com/dct-network/dct/chaincode/records"
)

// The token contract (README, "Chaincode API"): issuance by an
// organisation's admin into its own account, transfers, escrow, the
// consortium price and payouts for accepted deliveries.

// IssueTokens creates amount tokens in the caller's organisation's
// balance; the caller must be one of its admins.
func (c *Client) IssueTokens(ctx context.Context, amount int64) (*records.Account, error) {
	a, _, err := invoke[*records.Account](ctx, c, "token:Issue", strconv.FormatInt(amount, 10))
	return a, err
}

// OpenAccount creates the caller's organisation's empty account, so that
// it can receive transfers; records.ErrConflict when it exists.
func (c *Client) OpenAccount(ctx context.Context) (*records.Account, error) {
	a, _, err := invoke[*records.Account](ctx, c, "token:Open")
	return a, err
}

// TransferTokens moves amount tokens from the caller's organisation's
// balance to organisation toMSP's, whose account must exist. It returns
// the caller's account.
func (c *Client) TransferTokens(ctx context.Context, toMSP string, amount int64) (*records.Account, error) {
	a, _, err := invoke[*records.Account](ctx, c, "token:Transfer", toMSP, strconv.FormatInt(amount, 10))
	return a, err
}

// DepositEscrow moves amount tokens from the caller's organisation's
// balance to its escrow and pays its queued payouts as far as the escrow
// allows.
func (c *Client) DepositEscrow(ctx context.Context, amount int64) (*records.Account, error) {
	a, _, err := invoke[*records.Account](ctx, c, "token:Deposit", strconv.FormatInt(amount, 10))
	return a, err
}

// WithdrawEscrow moves amount tokens from the caller's organisation's
// escrow to its balance; records.ErrFailedPrecondition while it has queued
// payouts.
func (c *Client) WithdrawEscrow(ctx context.Context, amount int64) (*records.Account, error) {
	a, _, err := invoke[*records.Account](ctx, c, "token:Withdraw", strconv.FormatInt(amount, 10))
	return a, err
}

// SetPrice sets the consortium price of delivery in tokens per MiB; the
// caller must be an organisation's admin.
func (c *Client) SetPrice(ctx context.Context, pricePerMiB int64) (*records.Price, error) {
	p, _, err := invoke[*records.Price](ctx, c, "token:SetPrice", strconv.FormatInt(pricePerMiB, 10))
	return p, err
}

// SettleQueued pays every organisation's queued payouts in order, as far
// as its escrow allows, and returns those it paid.
func (c *Client) SettleQueued(ctx context.Context) ([]*records.Payout, error) {
	p, _, err := invoke[[]*records.Payout](ctx, c, "token:SettleQueued")
	return p, err
}

// Account reads the token account of organisation mspID: private to that
// organisation and to auditors (records.ErrForbidden for anyone else).
func (c *Client) Account(ctx context.Context, mspID string) (*records.Account, error) {
	return query[*records.Account](ctx, c, "token:Account", mspID)
}

// Accounts reads every token account, by MSP ID.
func (c *Client) Accounts(ctx context.Context) ([]*records.Account, error) {
	return query[[]*records.Account](ctx, c, "token:Accounts")
}

// Price reads the consortium price (PerMiB 0 until it is set).
func (c *Client) Price(ctx context.Context) (*records.Price, error) {
	return query[*records.Price](ctx, c, "token:Price")
}

// Payouts reads the payouts to organisation payeeMSP, by ref.
func (c *Client) Payouts(ctx context.Context, payeeMSP string) ([]*records.Payout, error) {
	return query[[]*records.Payout](ctx, c, "token:Payouts", payeeMSP)
}

// Supply reads the sums over every account: issued, balances, escrows and
// queued payouts.
func (c *Client) Supply(ctx context.Context) (*records.Supply, error) {
	return query[*records.Supply](ctx, c, "token:Supply")
}

// AccountHistory is every committed write of an organisation's account,
// oldest first.
func (c *Client) AccountHistory(ctx context.Context, mspID string) ([]*records.HistoryEntry, error) {
	return query[[]*records.HistoryEntry](ctx, c, "history:Account", mspID)
}

// PriceHistory is every committed change of the consortium price, oldest
// first.
func (c *Client) PriceHistory(ctx context.Context) ([]*records.HistoryEntry, error) {
	return query[[]*records.HistoryEntry](ctx, c, "history:Price")
}

// PayoutHistory is every committed write of the payout of ref (recorded,
// then paid when it was queued), oldest first.
func (c *Client) PayoutHistory(ctx context.Context, ref string) ([]*records.HistoryEntry, error) {
	return query[[]*records.HistoryEntry](ctx, c, "history:Payout", ref)
}

// SetBudget sets the most the caller's organisation's escrow pays for the
// deliveries of one epoch (tokens; 0: no limit); the caller must be one
// of its admins.
func (c *Client) SetBudget(ctx context.Context, tokensPerEpoch int64) (*records.Budget, error) {
	b, _, err := invoke[*records.Budget](ctx, c, "token:SetBudget", strconv.FormatInt(tokensPerEpoch, 10))
	return b, err
}

// Budget reads organisation mspID's budget per epoch (PerEpoch 0, no
// limit, when it never set one).
func (c *Client) Budget(ctx context.Context, mspID string) (*records.Budget, error) {
	return query[*records.Budget](ctx, c, "token:Budget", mspID)
}

// EpochSpend reads what the payouts for epoch's deliveries of
// organisation mspID's content amount to, and the bytes its budget cut:
// private to that organisation and to auditors, like its account
// (records.ErrForbidden for anyone else).
func (c *Client) EpochSpend(ctx context.Context, mspID string, epoch int64) (*records.EpochSpend, error) {
	return query[*records.EpochSpend](ctx, c, "token:Spend", mspID, strconv.FormatInt(epoch, 10))
}

// BudgetHistory is every committed change of an organisation's budget,
// oldest first.
func (c *Client) BudgetHistory(ctx context.Context, mspID string) ([]*records.HistoryEntry, error) {
	return query[[]*records.HistoryEntry](ctx, c, "history:Budget", mspID)
}
