package contenttest

import (
	"context"
	"sync"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/receipts"
)

// Receipts records the deliveries a content service issues receipts for.
type Receipts struct {
	mu         sync.Mutex
	deliveries []receipts.Delivery
}

// Issue records d.
func (r *Receipts) Issue(_ context.Context, d receipts.Delivery) (*records.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries = append(r.deliveries, d)
	return &records.Receipt{Object: d.Object, Version: d.Version, Shard: d.Shard, Node: d.Node}, nil
}

// Take returns the deliveries recorded so far and forgets them.
func (r *Receipts) Take() []receipts.Delivery {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.deliveries
	r.deliveries = nil
	return out
}
