package gateway

import (
	"context"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/mesh"
	"github.com/dct-network/dct/pkg/metrics"
	"github.com/dct-network/dct/pkg/receipts"
	"github.com/prometheus/client_golang/prometheus"
)

// maxToleranceObjects bounds the objects dct_gateway_object_*_tolerance
// reports (the cached latest versions, by name).
const maxToleranceObjects = 1000

// registerGatewayGauges registers the gauges read at scrape time: the
// mesh members by state, the decoded-object cache's size and the
// per-object read and write tolerances.
func registerGatewayGauges(reg prometheus.Registerer, svc *content.Service, m *mesh.Mesh) {
	if m != nil {
		metrics.RegisterMesh(reg, "gateway", m.Members)
	}
	metrics.RegisterGaugeFunc(reg, "gateway", "cache_bytes", "Bytes held by the decoded-object cache.", nil,
		func(emit metrics.Emit) { emit(float64(svc.CachedBytes())) })
	metrics.RegisterGaugeFunc(reg, "gateway", "object_read_tolerance",
		"How many more shards of the object's latest version may lose every live holder before it cannot be read (shards with a live holder minus k; negative: unreadable). Cached latest versions only.",
		[]string{"object"}, func(emit metrics.Emit) {
			for _, t := range svc.Tolerances(maxToleranceObjects) {
				emit(float64(t.Read), t.Object)
			}
		})
	metrics.RegisterGaugeFunc(reg, "gateway", "object_write_tolerance",
		"How many more live nodes may fail before the object's k+m shards can no longer each be written to a distinct live node (live active nodes minus k+m). Cached latest versions only.",
		[]string{"object"}, func(emit metrics.Emit) {
			for _, t := range svc.Tolerances(maxToleranceObjects) {
				emit(float64(t.Write), t.Object)
			}
		})
}

// countingReceipts counts the receipts the issuer issues.
type countingReceipts struct {
	r  *receipts.Issuer
	gm *metrics.Gateway
}

func (c countingReceipts) Issue(ctx context.Context, d receipts.Delivery) (*records.Receipt, error) {
	r, err := c.r.Issue(ctx, d)
	if err == nil {
		c.gm.ReceiptsIssued(1)
	}
	return r, err
}
