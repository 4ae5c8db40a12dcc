package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/dct-network/dct/edge-agent/store"
	dctv1 "github.com/dct-network/dct/proto/dct/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
)

const (
	// MaxChunk is the largest shard chunk sent in one message.
	MaxChunk = 1 << 20
	// MaxRecvMsgSize accepts MaxChunk plus framing, with room to spare.
	MaxRecvMsgSize = 4 * MaxChunk
)

// Config describes the agent to Stat callers.
type Config struct {
	NodeID  string
	Zone    string
	Version string
	// ChunkSize is the largest chunk of a GetShard message (default and
	// maximum MaxChunk).
	ChunkSize int
}

// Server implements dctv1.ShardServiceServer over a store.
type Server struct {
	dctv1.UnimplementedShardServiceServer
	store *store.Store
	cfg   Config
	log   *slog.Logger
	start time.Time
}

// New returns the shard service of st.
func New(st *store.Store, cfg Config, log *slog.Logger) *Server {
	if cfg.ChunkSize <= 0 || cfg.ChunkSize > MaxChunk {
		cfg.ChunkSize = MaxChunk
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Server{store: st, cfg: cfg, log: log, start: time.Now()}
}

// NewGRPCServer returns a gRPC server with the shard service and the health
// service (reporting SERVING for "" and the shard service) registered,
// serving over mutual TLS when tlsCfg is set. Call health.Shutdown before
// stopping the server so that clients see NOT_SERVING first.
func NewGRPCServer(svc *Server, tlsCfg *tls.Config, opts ...grpc.ServerOption) (*grpc.Server, *health.Server) {
	base := []grpc.ServerOption{
		grpc.MaxRecvMsgSize(MaxRecvMsgSize),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 15 * time.Minute}),
	}
	if tlsCfg != nil {
		base = append(base, grpc.Creds(credentials.NewTLS(tlsCfg)))
	}
	g := grpc.NewServer(append(base, opts...)...)
	dctv1.RegisterShardServiceServer(g, svc)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(dctv1.ShardService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(g, hs)
	return g, hs
}

// PutShard receives a header with the size, chunks, and a header with the
// hash that commits the shard.
func (s *Server) PutShard(stream grpc.ClientStreamingServer[dctv1.PutShardRequest, dctv1.PutShardResponse]) error {
	ctx := stream.Context()
	hash, size, err := s.putShard(ctx, stream)
	if err != nil {
		s.log.Debug("put shard failed", "hash", hash, "size", size, "err", err)
		return Status(err)
	}
	s.log.Debug("shard stored", "hash", hash, "size", size)
	return stream.SendAndClose(&dctv1.PutShardResponse{Hash: hash, Size: size})
}

func (s *Server) putShard(ctx context.Context, stream grpc.ClientStreamingServer[dctv1.PutShardRequest, dctv1.PutShardResponse]) (string, int64, error) {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return "", 0, fmt.Errorf("%w: empty PutShard stream", ErrProtocol)
	}
	if err != nil {
		return "", 0, err
	}
	h := first.GetHeader()
	if h == nil {
		return "", 0, fmt.Errorf("%w: PutShard must start with a header", ErrProtocol)
	}
	if h.GetHash() != "" {
		return "", 0, fmt.Errorf("%w: the first header carries only the size; the hash commits", ErrProtocol)
	}
	up, err := s.store.Create(ctx, h.GetSize())
	if err != nil {
		return "", h.GetSize(), err
	}
	defer up.Abort() // no-op once committed
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return "", up.Size(), fmt.Errorf("%w: stream ended after %d bytes without a commit header", ErrProtocol, up.Written())
		}
		if err != nil {
			return "", up.Size(), err
		}
		switch m := msg.GetMsg().(type) {
		case *dctv1.PutShardRequest_Chunk:
			if _, err := up.Write(m.Chunk); err != nil {
				return "", up.Size(), err
			}
		case *dctv1.PutShardRequest_Header:
			if m.Header.GetSize() != up.Size() {
				return m.Header.GetHash(), up.Size(), fmt.Errorf("%w: commit header says %d bytes, first header %d",
					store.ErrSizeMismatch, m.Header.GetSize(), up.Size())
			}
			if err := up.Commit(ctx, m.Header.GetHash()); err != nil {
				return m.Header.GetHash(), up.Size(), err
			}
			return m.Header.GetHash(), up.Size(), nil
		default:
			return "", up.Size(), fmt.Errorf("%w: empty PutShard message", ErrProtocol)
		}
	}
}

// GetShard streams the requested range; the first message carries the
// shard's size.
func (s *Server) GetShard(req *dctv1.GetShardRequest, stream grpc.ServerStreamingServer[dctv1.GetShardResponse]) error {
	ctx := stream.Context()
	sh, err := s.store.OpenShard(ctx, req.GetHash())
	if err != nil {
		return Status(err)
	}
	defer sh.Close()
	n, err := store.CheckRange(sh.Size(), req.GetOffset(), req.GetLength())
	if err != nil {
		return Status(err)
	}
	w := &chunkWriter{stream: stream, size: sh.Size(), buf: make([]byte, 0, min(int64(s.cfg.ChunkSize), max(n, 1)))}
	if _, err := sh.ReadRange(ctx, req.GetOffset(), req.GetLength(), w); err != nil {
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		if errors.Is(err, store.ErrCorrupt) {
			s.log.Error("corrupt shard not served", "hash", req.GetHash(), "err", err)
		}
		return Status(err)
	}
	return Status(w.flush())
}

// chunkWriter turns a byte stream into GetShardResponse messages of at most
// cap(buf) bytes, the first of which carries the shard size.
type chunkWriter struct {
	stream grpc.ServerStreamingServer[dctv1.GetShardResponse]
	size   int64
	sent   bool
	buf    []byte
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == cap(w.buf) {
			if err := w.send(); err != nil {
				return n - len(p), err
			}
		}
	}
	return n, nil
}

// flush sends what is buffered, and at least one message.
func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 && w.sent {
		return nil
	}
	return w.send()
}

func (w *chunkWriter) send() error {
	msg := &dctv1.GetShardResponse{Chunk: w.buf}
	if !w.sent {
		msg.ShardSize = w.size
	}
	// Send serialises the message before it returns: buf can be reused.
	if err := w.stream.Send(msg); err != nil {
		return err
	}
	w.sent = true
	w.buf = w.buf[:0]
	return nil
}

// DeleteShard removes a shard; deleting an absent one succeeds.
func (s *Server) DeleteShard(ctx context.Context, req *dctv1.DeleteShardRequest) (*dctv1.DeleteShardResponse, error) {
	existed, err := s.store.Delete(ctx, req.GetHash())
	if err != nil {
		return nil, Status(err)
	}
	if existed {
		s.log.Debug("shard deleted", "hash", req.GetHash())
	}
	return &dctv1.DeleteShardResponse{Existed: existed}, nil
}

// Stat reports the agent's identity and storage use.
func (s *Server) Stat(ctx context.Context, _ *dctv1.StatRequest) (*dctv1.StatResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, Status(err)
	}
	st := s.store.Stats()
	return &dctv1.StatResponse{
		NodeId:           s.cfg.NodeID,
		CapacityBytes:    st.Capacity,
		UsedBytes:        st.Used + st.Reserved,
		ShardCount:       st.Shards,
		UptimeSeconds:    int64(time.Since(s.start).Seconds()),
		Zone:             s.cfg.Zone,
		Version:          s.cfg.Version,
		ReservedBytes:    st.Reserved,
		QuarantinedCount: st.Quarantined,
	}, nil
}
