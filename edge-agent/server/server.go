package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/edge-agent/store"
	"github.com/dct-network/dct/pkg/bufpool"
	dctv1 "github.com/dct-network/dct/proto/dct/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
)

const (
	// MaxChunk is the largest shard chunk sent in one message.
	MaxChunk = 1 << 20
	// MaxRecvMsgSize accepts MaxChunk plus framing, with room to spare.
	MaxRecvMsgSize = 4 * MaxChunk

	// Flow-control windows and connection buffers of the gRPC server.
	streamWindow = 4 << 20
	connWindow   = 16 << 20
	connBuffer   = 64 << 10
)

// Config describes the agent to Stat callers.
type Config struct {
	NodeID  string
	Zone    string
	Version string
	// ChunkSize is the largest chunk of a GetShard message (default and
	// maximum MaxChunk).
	ChunkSize int
	// Ledger answers whether a shard may go from this node (NodeID):
	// DeleteShard reads the manifest it names. Required.
	Ledger Ledger
	// Uploads records the shards received that no manifest may name yet
	// (default: NewUploads(0, 0, nil)).
	Uploads *Uploads
	// UploadIdleTimeout aborts a PutShard stream that sends nothing for
	// that long, releasing its reserved capacity (default
	// DefaultUploadIdleTimeout).
	UploadIdleTimeout time.Duration
	// Served counts the shard bytes sent per epoch and gateway identity
	// (default: NewServed(0, 0, nil)).
	Served *Served
}

// DefaultUploadIdleTimeout is Config.UploadIdleTimeout's default.
const DefaultUploadIdleTimeout = 30 * time.Second

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
	if cfg.Uploads == nil {
		cfg.Uploads = NewUploads(0, 0, nil)
	}
	if cfg.UploadIdleTimeout <= 0 {
		cfg.UploadIdleTimeout = DefaultUploadIdleTimeout
	}
	if cfg.Served == nil {
		cfg.Served = NewServed(0, 0, nil)
	}
	return &Server{store: st, cfg: cfg, log: log, start: time.Now()}
}

// NewGRPCServer returns a gRPC server with the shard service and the health
// service (reporting SERVING for "" and the shard service) registered,
// serving over mutual TLS (tlsCfg, from TLSConfig). Every call of the shard
// service must pass auth (the gateway role on the ledger); the health
// service needs only the TLS handshake. Call health.Shutdown before
// stopping the server so that clients see NOT_SERVING first.
func NewGRPCServer(svc *Server, tlsCfg *tls.Config, auth *Authorizer, opts ...grpc.ServerOption) (*grpc.Server, *health.Server, error) {
	if tlsCfg == nil || auth == nil || svc.cfg.Ledger == nil {
		return nil, nil, errors.New("agent gRPC server: TLS, an authorizer and a ledger are required")
	}
	base := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(auth.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(auth.StreamInterceptor()),
		grpc.MaxRecvMsgSize(MaxRecvMsgSize),
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{MaxConnectionIdle: 15 * time.Minute}),
		// A shard answer (headers, data, trailers) leaves in one TLS
		// write when it fits the buffer; fixed windows turn off the
		// bandwidth estimator's pings on uploads.
		grpc.WriteBufferSize(connBuffer),
		grpc.ReadBufferSize(connBuffer),
		grpc.InitialWindowSize(streamWindow),
		grpc.InitialConnWindowSize(connWindow),
		// gRPC fills every buffer it takes before it is read: the
		// pool's clearing of each one (every byte sent and received)
		// is saved.
		experimental.BufferPool(bufpool.Shared),
	}
	base = append(base, grpc.Creds(credentials.NewTLS(tlsCfg)))
	// opts go first: their interceptors (metrics) wrap the authorizer's,
	// so refused calls are seen too.
	g := grpc.NewServer(append(opts, base...)...)
	dctv1.RegisterShardServiceServer(g, svc)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(dctv1.ShardService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(g, hs)
	return g, hs, nil
}

// PutShard receives a header with the size, chunks, and a header with the
// hash that commits the shard. A stream that sends nothing for the idle
// timeout is aborted and its reservation released.
func (s *Server) PutShard(stream grpc.ClientStreamingServer[dctv1.PutShardRequest, dctv1.PutShardResponse]) error {
	ctx, cancel := context.WithCancel(stream.Context())
	defer cancel() // ends the receiver
	in := &idleReceiver{ctx: ctx, idle: s.cfg.UploadIdleTimeout, msgs: make(chan recvResult)}
	go in.run(stream)
	hash, size, err := s.putShard(ctx, in)
	if err != nil {
		s.log.Debug("put shard failed", "hash", hash, "size", size, "err", err)
		if errors.Is(err, ErrUploadIdle) {
			s.log.Info("idle upload aborted", "size", size, "idleTimeout", s.cfg.UploadIdleTimeout)
		}
		return Status(err)
	}
	s.log.Debug("shard stored", "hash", hash, "size", size)
	return stream.SendAndClose(&dctv1.PutShardResponse{Hash: hash, Size: size})
}

type recvResult struct {
	msg *dctv1.PutShardRequest
	err error
}

// idleReceiver receives a stream's messages in its own goroutine so that
// the handler can give up on a client that sends nothing for idle.
type idleReceiver struct {
	ctx  context.Context
	idle time.Duration
	msgs chan recvResult
}

func (r *idleReceiver) run(stream grpc.ClientStreamingServer[dctv1.PutShardRequest, dctv1.PutShardResponse]) {
	for {
		msg, err := stream.Recv()
		select {
		case r.msgs <- recvResult{msg, err}:
		case <-r.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// Recv returns the next message, or ErrUploadIdle after idle without one.
func (r *idleReceiver) Recv() (*dctv1.PutShardRequest, error) {
	t := time.NewTimer(r.idle)
	defer t.Stop()
	select {
	case res := <-r.msgs:
		return res.msg, res.err
	case <-t.C:
		return nil, fmt.Errorf("%w: nothing received for %s", ErrUploadIdle, r.idle)
	case <-r.ctx.Done():
		return nil, r.ctx.Err()
	}
}

func (s *Server) putShard(ctx context.Context, stream interface {
	Recv() (*dctv1.PutShardRequest, error)
}) (string, int64, error) {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return "", 0, fmt.Errorf("%w: empty PutShard stream", ErrProtocol)
	}
	if err != nil {
		return "", 0, err
	}
	h := first.GetHeader()
	object := h.GetObject()
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
			held := s.store.Has(m.Header.GetHash())
			if err := up.Commit(ctx, m.Header.GetHash()); err != nil {
				return m.Header.GetHash(), up.Size(), err
			}
			if c, ok := CallerFrom(ctx); ok {
				s.cfg.Uploads.Received(m.Header.GetHash(), c, object, held)
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
	w := &chunkWriter{stream: stream, size: sh.Size(), chunk: int(min(int64(s.cfg.ChunkSize), max(n, 1))), left: n}
	// Count what was sent to the caller, whatever the outcome.
	defer func() {
		if c, ok := CallerFrom(ctx); ok && w.sentBytes > 0 {
			s.cfg.Served.Add(c, w.sentBytes)
		}
	}()
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

// chunkWriter turns a byte stream of left bytes into GetShardResponse
// messages of at most chunk bytes, the first of which carries the shard
// size. A piece that ends the stream and fits one message is sent as it is
// (a shard range up to a block, the common small read, is never copied
// here); otherwise pieces are gathered in buf, made at the first need.
type chunkWriter struct {
	stream grpc.ServerStreamingServer[dctv1.GetShardResponse]
	size   int64
	sent   bool
	chunk  int
	left   int64 // bytes of the range not yet written
	buf    []byte
	// sentBytes counts the shard bytes sent.
	sentBytes int64
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	if len(w.buf) == 0 && int64(n) == w.left && n <= w.chunk {
		w.left = 0
		return n, w.send(p)
	}
	w.left -= int64(n)
	if w.buf == nil {
		w.buf = make([]byte, 0, w.chunk)
	}
	for len(p) > 0 {
		k := min(len(p), cap(w.buf)-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == cap(w.buf) {
			if err := w.send(w.buf); err != nil {
				return n - len(p), err
			}
			w.buf = w.buf[:0]
		}
	}
	return n, nil
}

// flush sends what is buffered, and at least one message.
func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 && w.sent {
		return nil
	}
	err := w.send(w.buf)
	w.buf = w.buf[:0]
	return err
}

func (w *chunkWriter) send(chunk []byte) error {
	msg := &dctv1.GetShardResponse{Chunk: chunk}
	if !w.sent {
		msg.ShardSize = w.size
	}
	// Send serialises the message before it returns: chunk can be reused.
	if err := w.stream.Send(msg); err != nil {
		return err
	}
	w.sent = true
	w.sentBytes += int64(len(chunk))
	return nil
}

// DeleteShard removes a shard the ledger lets go from this node (see
// mayDelete); deleting an absent one succeeds.
func (s *Server) DeleteShard(ctx context.Context, req *dctv1.DeleteShardRequest) (*dctv1.DeleteShardResponse, error) {
	if err := store.ValidHash(req.GetHash()); err != nil {
		return nil, Status(err)
	}
	why, err := s.mayDelete(ctx, req)
	if err != nil {
		s.log.Info("shard delete refused", "hash", req.GetHash(), "object", req.GetName(), "version", req.GetVersion(),
			"index", req.GetIndex(), "err", err)
		return nil, Status(err)
	}
	existed, err := s.store.Delete(ctx, req.GetHash())
	if err != nil {
		return nil, Status(err)
	}
	s.cfg.Uploads.Forget(req.GetHash())
	if existed {
		s.log.Debug("shard deleted", "hash", req.GetHash(), "because", why)
	}
	return &dctv1.DeleteShardResponse{Existed: existed}, nil
}

// mayDelete decides whether the shard req names may go from this node, and
// says why. The ledger decides: manifest:Get(name, version) must have the
// hash at the index, and the version must be purged or this node no longer
// among the shard's holders. Otherwise a shard no manifest names there may
// go only at the request of the identity that uploaded it, within the
// Uploads record's time (a publish cleaning up after a failure).
func (s *Server) mayDelete(ctx context.Context, req *dctv1.DeleteShardRequest) (string, error) {
	hash := req.GetHash()
	if req.GetVersion() != "" {
		m, err := s.cfg.Ledger.GetManifest(ctx, req.GetName(), req.GetVersion())
		switch {
		case errors.Is(err, records.ErrNotFound):
			// Not recorded: at most an orphan of a failed publish.
		case errors.Is(err, records.ErrInvalid):
			return "", fmt.Errorf("%w: %w", store.ErrInvalid, err)
		case err != nil:
			return "", fmt.Errorf("%w: manifest %s@%s: %w", ErrLedgerUnavailable, req.GetName(), req.GetVersion(), err)
		default:
			i := int(req.GetIndex())
			if i >= 0 && i < len(m.Shards) && m.Shards[i].Hash == hash {
				switch {
				case m.Purged != nil:
					return "version purged", nil
				case !slices.Contains(m.Shards[i].Nodes, s.cfg.NodeID):
					return "no longer a holder", nil
				}
				return "", fmt.Errorf("%w: %s@%s shard %d is live and %s still holds it", ErrPermissionDenied,
					req.GetName(), req.GetVersion(), i, s.cfg.NodeID)
			}
		}
	}
	c, ok := CallerFrom(ctx)
	if !ok || !s.cfg.Uploads.Owned(hash, c, req.GetName()) {
		return "", fmt.Errorf("%w: the ledger does not let shard %s go (no manifest names it at %s@%s index %d, "+
			"and it is not a recent upload of the caller's for %q)", ErrPermissionDenied, hash, req.GetName(), req.GetVersion(), req.GetIndex(), req.GetName())
	}
	// The caller's own recent upload for the object: it may withdraw it
	// unless a live version of the object has this node hold it.
	versions, err := s.cfg.Ledger.ManifestVersions(ctx, req.GetName())
	switch {
	case errors.Is(err, records.ErrNotFound):
	case err != nil:
		return "", fmt.Errorf("%w: versions of %s: %w", ErrLedgerUnavailable, req.GetName(), err)
	}
	for _, m := range versions {
		if m.Purged != nil {
			continue
		}
		for _, sh := range m.Shards {
			if sh.Hash == hash && slices.Contains(sh.Nodes, s.cfg.NodeID) {
				return "", fmt.Errorf("%w: %s@%s shard %d is live and %s still holds it", ErrPermissionDenied,
					m.Name, m.Version, sh.Index, s.cfg.NodeID)
			}
		}
	}
	return "withdrawn by its uploader", nil
}

// Served returns the agent's served-byte counters.
func (s *Server) Served() *Served { return s.cfg.Served }

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
