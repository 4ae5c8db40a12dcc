package ledger

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Defaults for Options.
const (
	DefaultChannel   = "dct"
	DefaultChaincode = "dct"
)

type options struct {
	channel, chaincode                       string
	evaluate, endorse, submit, commitTimeout time.Duration
}

// Option configures a Client.
type Option func(*options)

// WithChannel selects the channel (default "dct").
func WithChannel(name string) Option { return func(o *options) { o.channel = name } }

// WithChaincode selects the chaincode name (default "dct").
func WithChaincode(name string) Option { return func(o *options) { o.chaincode = name } }

// WithTimeouts sets the per-step deadlines applied when the caller's context
// has none: evaluate, endorse, submit and waiting for the commit status.
func WithTimeouts(evaluate, endorse, submit, commit time.Duration) Option {
	return func(o *options) {
		o.evaluate, o.endorse, o.submit, o.commitTimeout = evaluate, endorse, submit, commit
	}
}

// Client calls the DCT chaincode through one peer's Gateway service.
type Client struct {
	gw       *client.Gateway
	network  *client.Network
	contract *client.Contract
	opts     options
	// conn is set when the Client owns its connection (Connect).
	conn interface{ Close() error }
}

// New returns a Client using the caller-owned connection conn and the signer.
// Close the Client before the connection.
func New(conn grpc.ClientConnInterface, s Signer, opts ...Option) (*Client, error) {
	o := options{
		channel: DefaultChannel, chaincode: DefaultChaincode,
		evaluate: 10 * time.Second, endorse: 30 * time.Second, submit: 10 * time.Second, commitTimeout: time.Minute,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if conn == nil || s.ID == nil || s.Sign == nil {
		return nil, errors.New("ledger: connection and signer are required")
	}
	gw, err := client.Connect(s.ID,
		client.WithSign(s.Sign),
		client.WithClientConnection(conn),
		client.WithEvaluateTimeout(o.evaluate),
		client.WithEndorseTimeout(o.endorse),
		client.WithSubmitTimeout(o.submit),
		client.WithCommitStatusTimeout(o.commitTimeout),
	)
	if err != nil {
		return nil, fmt.Errorf("ledger: connect gateway: %w", err)
	}
	network := gw.GetNetwork(o.channel)
	return &Client{gw: gw, network: network, contract: network.GetContract(o.chaincode), opts: o}, nil
}

// Close releases the gateway. It closes the connection only when Connect
// made it; a caller-owned connection (New) stays open.
func (c *Client) Close() error {
	err := c.gw.Close()
	if c.conn != nil {
		err = errors.Join(err, c.conn.Close())
	}
	return err
}

// MSPID is the organisation of the client's identity.
func (c *Client) MSPID() string { return c.gw.Identity().MspID() }

// evaluate runs a read-only transaction function on one peer.
func (c *Client) evaluate(ctx context.Context, fn string, args ...string) ([]byte, error) {
	ctx, cancel := stepContext(ctx, c.opts.evaluate)
	defer cancel()
	out, err := c.contract.EvaluateWithContext(ctx, fn, client.WithArguments(args...))
	if err != nil {
		return nil, classify(fn, "", err)
	}
	return out, nil
}

// submit endorses fn with the peers the endorsement policy requires, sends it
// to ordering and waits until it is committed. It returns the function's
// result and the transaction id.
func (c *Client) submit(ctx context.Context, fn string, args ...string) ([]byte, string, error) {
	proposal, err := c.contract.NewProposal(fn, client.WithArguments(args...))
	if err != nil {
		return nil, "", classify(fn, "", err)
	}
	txID := proposal.TransactionID()
	ectx, cancel := stepContext(ctx, c.opts.endorse)
	tx, err := endorse(ectx, proposal)
	cancel()
	if err != nil {
		return nil, txID, classify(fn, txID, err)
	}
	sctx, cancel := stepContext(ctx, c.opts.submit)
	commit, err := tx.SubmitWithContext(sctx)
	cancel()
	if err != nil {
		return nil, txID, classify(fn, txID, err)
	}
	// A transaction lost in ordering (an orderer restarting as it took
	// it) never commits: without a deadline this would wait for ever.
	cctx, cancel := stepContext(ctx, c.opts.commitTimeout)
	st, err := commit.StatusWithContext(cctx)
	cancel()
	if err != nil {
		return nil, txID, classify(fn, txID, err)
	}
	if !st.Successful {
		return nil, txID, classify(fn, txID, &commitFailure{code: st.Code})
	}
	return tx.Result(), txID, nil
}

// stepContext bounds one step of a call by d when ctx has no deadline of
// its own (fabric-gateway's *WithContext calls apply none of the client's
// default timeouts).
func stepContext(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok || d <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, d)
}

// endorseAttempts bounds the endorsements of one proposal whose endorsing
// peers answered differently.
const endorseAttempts = 6

// endorse gets the proposal endorsed. When the first endorser agreed but
// the others required answered differently (typically one organisation's
// peer has not yet committed the block of a write the caller just made
// through another), the peers are asked again after a short backoff, until
// they agree, endorseAttempts are spent or ctx ends. A refusal by the first
// endorser (a chaincode error) is returned at once.
func endorse(ctx context.Context, proposal *client.Proposal) (*client.Transaction, error) {
	backoff := 10 * time.Millisecond
	for attempt := 1; ; attempt++ {
		tx, err := proposal.EndorseWithContext(ctx)
		if err == nil || !endorsersDisagreed(err) || attempt == endorseAttempts {
			return tx, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(backoff):
		}
		backoff *= 2
	}
}

// endorsersDisagreed reports the Fabric Gateway's answer when the
// endorsement plan could not be completed after a first endorsement.
func endorsersDisagreed(err error) bool {
	st, ok := status.FromError(err)
	return ok && st.Code() == codes.Aborted && strings.HasPrefix(st.Message(), "failed to collect enough transaction endorsements")
}

// CheckEndorsement asks the gateway to endorse a read-only proposal with every
// organisation the endorsement policy needs, without submitting it. It fails
// until service discovery knows endorsers for all of them, which makes it the
// readiness signal of a freshly started network.
func (c *Client) CheckEndorsement(ctx context.Context) error {
	const fn = "node:List"
	proposal, err := c.contract.NewProposal(fn)
	if err != nil {
		return classify(fn, "", err)
	}
	if _, err := proposal.EndorseWithContext(ctx); err != nil {
		return classify(fn, proposal.TransactionID(), err)
	}
	return nil
}

// Invoke submits any chaincode function with raw string arguments and waits
// for its commit; for tools and tests that need what the typed methods do
// not offer. Errors are classified like those of the typed methods.
func (c *Client) Invoke(ctx context.Context, fn string, args ...string) ([]byte, string, error) {
	return c.submit(ctx, fn, args...)
}

// Query evaluates any chaincode function with raw string arguments.
func (c *Client) Query(ctx context.Context, fn string, args ...string) ([]byte, error) {
	return c.evaluate(ctx, fn, args...)
}

// WaitForCommit returns once the peer this client talks to has committed
// the transaction txID, from the peer's block events (blocks are replayed
// from the channel's first block, so a transaction committed before the
// call is found too). A transaction the peer marked invalid returns an
// error carrying its validation code. Use it where a write made through
// one organisation's peer must be visible on another's.
func (c *Client) WaitForCommit(ctx context.Context, txID string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	blocks, err := c.network.FilteredBlockEvents(ctx, client.WithStartBlock(0))
	if err != nil {
		return classify("block events", txID, err)
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case b, ok := <-blocks:
			if !ok {
				if err := ctx.Err(); err != nil {
					return err
				}
				return classify("block events", txID, errors.New("block event stream ended"))
			}
			for _, tx := range b.GetFilteredTransactions() {
				if tx.GetTxid() != txID {
					continue
				}
				if code := tx.GetTxValidationCode(); code != peer.TxValidationCode_VALID {
					return classify("block events", txID, &commitFailure{code: code})
				}
				return nil
			}
		}
	}
}
