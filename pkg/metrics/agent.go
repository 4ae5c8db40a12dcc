package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"
)

// Agent is an edge agent's instruments: its gRPC calls (unary and
// streaming interceptors) and the shard bytes they carry.
type Agent struct {
	calls    *prometheus.CounterVec   // method, code
	duration *prometheus.HistogramVec // method
	bytesOut prometheus.Counter
	bytesIn  prometheus.Counter
}

// NewAgent registers an agent's instruments on reg.
func NewAgent(reg prometheus.Registerer) *Agent {
	a := &Agent{
		calls: counterVec("agent", "requests_total",
			"gRPC calls answered, by method and status code.", "method", "code"),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "agent", Name: "request_duration_seconds",
			Help: "Time to answer a gRPC call (a stream: until it ends), by method.", Buckets: fetchBuckets}, []string{"method"}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "agent", Name: "sent_bytes_total",
			Help: "Shard bytes sent (GetShard answers)."}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "agent", Name: "received_bytes_total",
			Help: "Shard bytes received (PutShard uploads)."}),
	}
	reg.MustRegister(a.calls, a.duration, a.bytesOut, a.bytesIn)
	return a
}

// dataMessage is a message carrying shard bytes (GetShardResponse,
// PutShardRequest).
type dataMessage interface{ GetChunk() []byte }

func (a *Agent) record(method string, start time.Time, err error) {
	a.calls.WithLabelValues(method, status.Code(err).String()).Inc()
	a.duration.WithLabelValues(method).Observe(time.Since(start).Seconds())
}

// ServerOptions are the interceptors recording every call; put them
// after the authorizer's so that refused calls are counted too (they
// are: the authorizer answers inside the chain).
func (a *Agent) ServerOptions() []grpc.ServerOption {
	return []grpc.ServerOption{grpc.ChainUnaryInterceptor(a.unary), grpc.ChainStreamInterceptor(a.stream)}
}

func (a *Agent) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := h(ctx, req)
	if d, ok := resp.(dataMessage); ok && err == nil {
		a.bytesOut.Add(float64(len(d.GetChunk())))
	}
	a.record(info.FullMethod, start, err)
	return resp, err
}

func (a *Agent) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	start := time.Now()
	err := h(srv, &countingStream{ServerStream: ss, a: a})
	a.record(info.FullMethod, start, err)
	return err
}

// countingStream counts the shard bytes of the messages it carries.
type countingStream struct {
	grpc.ServerStream
	a *Agent
}

func (s *countingStream) SendMsg(m any) error {
	err := s.ServerStream.SendMsg(m)
	if d, ok := m.(dataMessage); ok && err == nil {
		s.a.bytesOut.Add(float64(len(d.GetChunk())))
	}
	return err
}

func (s *countingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if d, ok := m.(dataMessage); ok && err == nil {
		s.a.bytesIn.Add(float64(len(d.GetChunk())))
	}
	return err
}
