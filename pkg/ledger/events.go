package ledger

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/hyperledger/fabric-gateway/pkg/client"
)

// ManifestEvent is one committed manifest change (records.ManifestEvent)
// with where it was found on the channel: its block and transaction, the
// position to resume after (Checkpoint).
type ManifestEvent struct {
	records.ManifestEvent
	Block uint64
}

// Checkpoint is a position in the channel's chaincode events: the block of
// the last event handled and its transaction. The zero value means "from
// the next block committed".
type Checkpoint struct {
	Block uint64
	TxID  string
}

// After is the checkpoint just past ev.
func (ev ManifestEvent) After() Checkpoint { return Checkpoint{Block: ev.Block, TxID: ev.TxID} }

// IsZero reports the zero checkpoint.
func (c Checkpoint) IsZero() bool { return c.Block == 0 && c.TxID == "" }

// String is "block N after tx T".
func (c Checkpoint) String() string {
	if c.IsZero() {
		return "next block"
	}
	return fmt.Sprintf("block %d after tx %s", c.Block, c.TxID)
}

// BlockNumber and TransactionID make a Checkpoint a client.Checkpoint.
func (c Checkpoint) BlockNumber() uint64   { return c.Block }
func (c Checkpoint) TransactionID() string { return c.TxID }

// EventsOptions is where a subscription starts (see EventsOption).
type EventsOptions struct {
	// After, when not zero, starts just past a checkpoint.
	After Checkpoint
	// FromBlock, when set and After is zero, starts at a block.
	FromBlock *uint64
}

// EventsOption configures ManifestEvents.
type EventsOption func(*EventsOptions)

// Apply sets o from opts (for implementations of the subscription, such
// as test fakes).
func (o *EventsOptions) Apply(opts ...EventsOption) {
	for _, opt := range opts {
		opt(o)
	}
}

// ResumeAfter starts the subscription just past a checkpoint (the last
// event a previous subscription delivered): nothing committed since is
// missed. The zero checkpoint starts at the next block committed.
func ResumeAfter(cp Checkpoint) EventsOption { return func(o *EventsOptions) { o.After = cp } }

// FromBlock starts the subscription at a block (0: replay the channel).
func FromBlock(n uint64) EventsOption { return func(o *EventsOptions) { o.FromBlock = &n } }

// ManifestEvents subscribes to the manifest changes the chaincode announces
// (records.ManifestEventName), in commit order, from the peer this client
// talks to: an event arrives once the peer has committed its transaction
// valid. By default the subscription starts at the next block committed;
// ResumeAfter continues a broken one.
//
// The channel is closed when ctx ends or the stream breaks (the peer went
// away, the connection dropped): resubscribe then with ResumeAfter(the
// last event's After()). Events of other names, and payloads that do not
// decode, are skipped. An error is returned only when the subscription
// could not be opened; it is classified like a call's (ErrUnavailable for
// a peer that does not answer).
func (c *Client) ManifestEvents(ctx context.Context, opts ...EventsOption) (<-chan ManifestEvent, error) {
	return chaincodeEvents(ctx, c, records.ManifestEventName, func(ev *client.ChaincodeEvent) (ManifestEvent, bool) {
		me, err := records.DecodeManifestEvent(ev.Payload)
		if err != nil || me.TxID != ev.TransactionID {
			return ManifestEvent{}, false
		}
		return ManifestEvent{ManifestEvent: me, Block: ev.BlockNumber}, true
	}, opts...)
}

// SLAEvent is one committed sla:Score (the records.SLAEpoch it wrote,
// records.SLAEventName) with its block, the position to resume after.
type SLAEvent struct {
	records.SLAEpoch
	Block uint64
}

// After is the checkpoint just past ev.
func (ev SLAEvent) After() Checkpoint { return Checkpoint{Block: ev.Block, TxID: ev.TxID} }

// SLAEvents subscribes to the epochs sla:Score scores, like
// ManifestEvents: in commit order, each once its transaction is committed
// valid on the peer this client talks to; the channel closes when ctx
// ends or the stream breaks (resubscribe with ResumeAfter(the last
// event's After())).
func (c *Client) SLAEvents(ctx context.Context, opts ...EventsOption) (<-chan SLAEvent, error) {
	return chaincodeEvents(ctx, c, records.SLAEventName, decodeSLAEvent, opts...)
}

// decodeSLAEvent reads an sla:Score event; false for a payload that does
// not decode or names another transaction.
func decodeSLAEvent(ev *client.ChaincodeEvent) (SLAEvent, bool) {
	var e records.SLAEpoch
	if err := json.Unmarshal(ev.Payload, &e); err != nil || e.TxID != ev.TransactionID || e.Epoch < 0 {
		return SLAEvent{}, false
	}
	return SLAEvent{SLAEpoch: e, Block: ev.BlockNumber}, true
}

// chaincodeEvents subscribes to the chaincode's events named name, decoded
// by decode (false: skipped), from where opts say.
func chaincodeEvents[T any](ctx context.Context, c *Client, name string, decode func(*client.ChaincodeEvent) (T, bool), opts ...EventsOption) (<-chan T, error) {
	var o EventsOptions
	o.Apply(opts...)
	var copts []client.ChaincodeEventsOption
	switch {
	case !o.After.IsZero():
		copts = append(copts, client.WithCheckpoint(o.After))
	case o.FromBlock != nil:
		copts = append(copts, client.WithStartBlock(*o.FromBlock))
	}
	raw, err := c.network.ChaincodeEvents(ctx, c.opts.chaincode, copts...)
	if err != nil {
		return nil, classify("chaincode events", "", err)
	}
	out := make(chan T, 64)
	go func() {
		defer close(out)
		// The client's stream goroutine sends without watching ctx: drain
		// it so that it ends once ctx's cancellation stops the stream.
		defer func() {
			go func() {
				for range raw {
				}
			}()
		}()
		for {
			var ev *client.ChaincodeEvent
			var ok bool
			select {
			case <-ctx.Done():
				return
			case ev, ok = <-raw:
				if !ok {
					return
				}
			}
			if ev.EventName != name {
				continue
			}
			v, ok := decode(ev)
			if !ok {
				continue
			}
			select {
			case out <- v:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}
