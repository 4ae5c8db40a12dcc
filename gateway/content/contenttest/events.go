package contenttest

import (
	"context"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/ledger"
)

var _ content.ManifestEvents = (*Ledger)(nil)

// eventLog is the ledger's chaincode events and their subscribers; every
// transaction is a block of its own (Block = transaction number).
type eventLog struct {
	events   []ledger.ManifestEvent
	subs     map[chan ledger.ManifestEvent]struct{}
	failSubs int
}

// emit records the event of the transaction just committed (st.tx) and
// delivers it; st.mu is held. A subscriber that fell 1024 events behind
// loses its stream, as a peer drops a slow consumer.
func (st *ledgerState) emit(name, version string, kind records.ManifestEventKind, txID string) {
	st.emitEvent(records.ManifestEvent{Name: name, Version: version, Kind: kind, TxID: txID})
}

// emitEvent is emit of a whole event.
func (st *ledgerState) emitEvent(me records.ManifestEvent) {
	ev := ledger.ManifestEvent{ManifestEvent: me, Block: uint64(st.tx)}
	st.ev.events = append(st.ev.events, ev)
	for ch := range st.ev.subs {
		select {
		case ch <- ev:
		default:
			delete(st.ev.subs, ch)
			close(ch)
		}
	}
}

// ManifestEvents implements content.ManifestEvents like ledger.Client: the
// events after the checkpoint (or from the next transaction), then every
// one committed, until ctx ends or BreakEvents.
func (l *Ledger) ManifestEvents(ctx context.Context, opts ...ledger.EventsOption) (<-chan ledger.ManifestEvent, error) {
	var o ledger.EventsOptions
	o.Apply(opts...)
	st := l.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ev.failSubs > 0 {
		st.ev.failSubs--
		return nil, &ledger.CallError{Function: "chaincode events", Err: ledger.ErrUnavailable}
	}
	ch := make(chan ledger.ManifestEvent, 1024)
	for _, ev := range st.ev.events {
		switch {
		case !o.After.IsZero() && ev.Block > o.After.Block:
		case o.After.IsZero() && o.FromBlock != nil && ev.Block >= *o.FromBlock:
		default:
			continue
		}
		ch <- ev
	}
	if st.ev.subs == nil {
		st.ev.subs = map[chan ledger.ManifestEvent]struct{}{}
	}
	st.ev.subs[ch] = struct{}{}
	go func() {
		<-ctx.Done()
		st.mu.Lock()
		defer st.mu.Unlock()
		if _, ok := st.ev.subs[ch]; ok {
			delete(st.ev.subs, ch)
			close(ch)
		}
	}()
	return ch, nil
}

// BreakEvents ends every event subscription (as a peer going away does),
// and makes the next n subscriptions fail.
func (l *Ledger) BreakEvents(n int) {
	st := l.st
	st.mu.Lock()
	defer st.mu.Unlock()
	for ch := range st.ev.subs {
		delete(st.ev.subs, ch)
		close(ch)
	}
	st.ev.failSubs = n
}

// Subscribers is the number of event subscriptions open.
func (l *Ledger) Subscribers() int {
	l.st.mu.Lock()
	defer l.st.mu.Unlock()
	return len(l.st.ev.subs)
}
