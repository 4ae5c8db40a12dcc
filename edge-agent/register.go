package edgeagent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

// Registry is what registration needs of the node registry
// (*ledger.Client).
type Registry interface {
	GetNode(ctx context.Context, id string) (*records.Node, error)
	RegisterNode(ctx context.Context, in records.NodeInput) (*records.Node, error)
	UpdateNode(ctx context.Context, in records.NodeInput) (*records.Node, error)
	ReactivateNode(ctx context.Context, id string) (*records.Node, error)
}

// ErrNodeOwned: the node id is registered by another organisation.
var ErrNodeOwned = errors.New("node id registered by another organisation")

// Register makes the registry hold in as an active node of org mspID:
// it registers a new node, or, for a node of the same organisation,
// reactivates it when inactive and updates it when a field changed. It
// returns the node as recorded.
func Register(ctx context.Context, reg Registry, mspID string, in records.NodeInput, log *slog.Logger) (*records.Node, error) {
	in.Org = mspID
	if err := in.Validate(); err != nil {
		return nil, fmt.Errorf("%w: node: %w", ErrConfig, err)
	}
	n, err := reg.GetNode(ctx, in.ID)
	if errors.Is(err, records.ErrNotFound) {
		n, err = reg.RegisterNode(ctx, in)
		if err == nil {
			log.Info("node registered", "id", n.ID, "endpoint", n.Endpoint, "zone", n.Zone, "storageBytes", n.StorageBytes)
			return n, nil
		}
		if !errors.Is(err, records.ErrConflict) {
			return nil, err
		}
		// Registered meanwhile (another instance, a retried commit):
		// continue as with an existing node.
		n, err = reg.GetNode(ctx, in.ID)
	}
	if err != nil {
		return nil, err
	}
	if n.Org != mspID {
		return nil, fmt.Errorf("%w: %s belongs to %s, not %s", ErrNodeOwned, in.ID, n.Org, mspID)
	}
	if !n.Active() {
		// Update needs an active node.
		if n, err = reg.ReactivateNode(ctx, in.ID); err != nil {
			return nil, err
		}
		log.Info("node reactivated", "id", in.ID)
	}
	if n.Input() != in {
		if n, err = reg.UpdateNode(ctx, in); err != nil {
			return nil, err
		}
		log.Info("node updated", "id", n.ID, "endpoint", n.Endpoint, "zone", n.Zone, "storageBytes", n.StorageBytes)
	} else {
		log.Info("node already registered", "id", n.ID, "endpoint", n.Endpoint)
	}
	return n, nil
}

// retryable reports whether a registration failure may succeed later.
func retryable(err error) bool {
	return errors.Is(err, ledger.ErrUnavailable) || errors.Is(err, ledger.ErrConflict)
}

// registerRetrying runs Register until it succeeds, fails for good, or ctx
// ends, backing off between attempts.
func registerRetrying(ctx context.Context, reg Registry, mspID string, in records.NodeInput, log *slog.Logger) (*records.Node, error) {
	delay := 500 * time.Millisecond
	for {
		n, err := Register(ctx, reg, mspID, in, log)
		if err == nil || !retryable(err) {
			return n, err
		}
		log.Warn("node registration failed; retrying", "id", in.ID, "in", delay, "err", err)
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("register node %s: %w (last error: %w)", in.ID, ctx.Err(), err)
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
}
