package edgeagent

import (
	"context"
	"fmt"

	"github.com/dct-network/dct/edge-agent/store"
	"github.com/dct-network/dct/pkg/metrics"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// registerAgentGauges registers the store's gauges, read at scrape time.
func registerAgentGauges(reg prometheus.Registerer, st *store.Store) {
	metrics.RegisterGaugeFunc(reg, "agent", "store_bytes", "The shard store's bytes, by kind (capacity, used, reserved: uploads in progress).",
		[]string{"kind"}, func(emit metrics.Emit) {
			s := st.Stats()
			emit(float64(s.Capacity), "capacity")
			emit(float64(s.Used), "used")
			emit(float64(s.Reserved), "reserved")
		})
	metrics.RegisterGaugeFunc(reg, "agent", "shards", "Shards held by the store.", nil,
		func(emit metrics.Emit) { emit(float64(st.Stats().Shards)) })
}

// grpcServing checks the agent's own gRPC health service (what dct-agent
// health asks over the network) for SERVING.
func grpcServing(hs *health.Server) metrics.Check {
	return func(ctx context.Context) error {
		resp, err := hs.Check(ctx, &healthpb.HealthCheckRequest{})
		if err != nil {
			return fmt.Errorf("%w: %w", ErrUnhealthy, err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			return fmt.Errorf("%w: %s", ErrUnhealthy, resp.GetStatus())
		}
		return nil
	}
}
