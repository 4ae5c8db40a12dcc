package agents

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/bufpool"
	dctv1 "github.com/dct-network/dct/proto/dct/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/experimental"
	"google.golang.org/grpc/keepalive"
)

// MaxMessage is the largest chunk sent in one gRPC message.
const MaxMessage = 1 << 20

// Flow-control windows and buffers of agent connections. Fixed windows
// turn off gRPC's bandwidth estimator, which pings an agent for nearly
// every shard answer (a write and a read on both sides, each a TLS
// record); 4 MiB a stream and 16 MiB a connection exceed what a loopback
// or LAN path needs in flight, and bound what an agent can push unasked.
const (
	streamWindow = 4 << 20
	connWindow   = 16 << 20
	connBuffer   = 64 << 10
)

// TLSConfig builds the client TLS configuration: caFile verifies agents,
// certFile/keyFile authenticate this gateway.
func TLSConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	pemBytes, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		return nil, fmt.Errorf("%s holds no certificate", caFile)
	}
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("agent client certificate: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// Pool keeps one connection per agent endpoint.
type Pool struct {
	creds credentials.TransportCredentials
	mu    sync.Mutex
	conns map[string]*grpc.ClientConn
}

// NewPool returns an empty pool using tlsCfg for every agent.
func NewPool(tlsCfg *tls.Config) *Pool {
	return &Pool{creds: credentials.NewTLS(tlsCfg), conns: map[string]*grpc.ClientConn{}}
}

// Agent returns a client of the node's agent, connecting on first use.
func (p *Pool) Agent(n *records.Node) (content.Agent, error) {
	if n == nil {
		return nil, fmt.Errorf("%w: no such node", content.ErrAgentUnavailable)
	}
	conn, err := p.conn(n.Endpoint)
	if err != nil {
		return nil, callErr(err)
	}
	return newClient(n.ID, conn), nil
}

func (p *Pool) conn(endpoint string) (*grpc.ClientConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.conns[endpoint]; ok {
		return c, nil
	}
	// Resolve the endpoint's name on every connection attempt (the
	// passthrough resolver hands it to the dialer as it is), not with
	// gRPC's DNS resolver, which keeps the addresses it found and looks
	// again at most every 30 s: an agent back under another address (a
	// container restarted or re-attached to its network) is reached at
	// the next reconnection, not dialled at its old address, where
	// another agent may answer now.
	target := endpoint
	if !strings.Contains(target, ":///") {
		target = "passthrough:///" + endpoint
	}
	c, err := grpc.NewClient(target,
		grpc.WithContextDialer(func(ctx context.Context, addr string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		}),
		grpc.WithTransportCredentials(p.creds),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		// A restarted agent is used again within seconds, not after
		// gRPC's default backoff of up to two minutes.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 3 * time.Second},
			MinConnectTimeout: 3 * time.Second,
		}),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(4*MaxMessage)),
		grpc.WithInitialWindowSize(streamWindow),
		grpc.WithInitialConnWindowSize(connWindow),
		grpc.WithReadBufferSize(connBuffer),
		grpc.WithWriteBufferSize(connBuffer),
		experimental.WithBufferPool(bufpool.Shared),
	)
	if err != nil {
		return nil, fmt.Errorf("agent %s: %w", endpoint, err)
	}
	p.conns[endpoint] = c
	return c, nil
}

// Close closes every connection.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var errs []error
	for k, c := range p.conns {
		errs = append(errs, c.Close())
		delete(p.conns, k)
	}
	return errors.Join(errs...)
}

type client struct {
	node string
	conn grpc.ClientConnInterface
	c    dctv1.ShardServiceClient
}

func newClient(node string, conn grpc.ClientConnInterface) *client {
	return &client{node: node, conn: conn, c: dctv1.NewShardServiceClient(conn)}
}

func (a *client) PutShard(ctx context.Context, object string, size int64) (content.ShardWriter, error) {
	ctx, cancel := context.WithCancel(ctx)
	stream, err := a.c.PutShard(ctx)
	if err != nil {
		cancel()
		return nil, callErr(err)
	}
	if err := stream.Send(&dctv1.PutShardRequest{Msg: &dctv1.PutShardRequest_Header{Header: &dctv1.ShardHeader{Size: size, Object: object}}}); err != nil {
		cancel()
		return nil, recvErr(stream, err)
	}
	return &writer{stream: stream, cancel: cancel, size: size}, nil
}

type writer struct {
	stream grpc.ClientStreamingClient[dctv1.PutShardRequest, dctv1.PutShardResponse]
	cancel context.CancelFunc
	size   int64
}

func (w *writer) Write(p []byte) error {
	for len(p) > 0 {
		n := min(len(p), MaxMessage)
		if err := w.stream.Send(&dctv1.PutShardRequest{Msg: &dctv1.PutShardRequest_Chunk{Chunk: p[:n]}}); err != nil {
			return recvErr(w.stream, err)
		}
		p = p[n:]
	}
	return nil
}

func (w *writer) Commit(hash string) error {
	defer w.cancel()
	if err := w.stream.Send(&dctv1.PutShardRequest{Msg: &dctv1.PutShardRequest_Header{Header: &dctv1.ShardHeader{Hash: hash, Size: w.size}}}); err != nil {
		return recvErr(w.stream, err)
	}
	resp, err := w.stream.CloseAndRecv()
	if err != nil {
		return callErr(err)
	}
	if resp.GetHash() != hash {
		return fmt.Errorf("%w: agent stored %s, want %s", content.ErrAgentRefused, resp.GetHash(), hash)
	}
	return nil
}

func (w *writer) Abort() { w.cancel() }

// recvErr returns the server's status when a Send failed because the server
// ended the stream (Send only reports io.EOF), mapped by callErr.
func recvErr(stream grpc.ClientStreamingClient[dctv1.PutShardRequest, dctv1.PutShardResponse], err error) error {
	if errors.Is(err, io.EOF) {
		if _, rerr := stream.CloseAndRecv(); rerr != nil {
			return callErr(rerr)
		}
	}
	return callErr(err)
}

// GetShard reads n > 0 bytes at off. The answer is bounded by what was
// asked: an agent that streams more than n bytes fails the call with
// content.ErrShardCorrupt (its answer is not the copy the manifest
// describes) before more than n bytes are buffered.
func (a *client) GetShard(ctx context.Context, hash string, off, n int64) ([]byte, error) {
	return a.GetShardInto(ctx, hash, off, n, nil)
}

// GetShardInto is GetShard reading into dst's array when it holds n bytes
// (content.ShardReaderInto): the bytes are copied once, from gRPC's
// receive buffers into dst.
func (a *client) GetShardInto(ctx context.Context, hash string, off, n int64, dst []byte) ([]byte, error) {
	if off < 0 || n <= 0 {
		return nil, fmt.Errorf("%w: shard range %d+%d: the length must be positive", content.ErrInvalid, off, n)
	}
	b, err := a.getShard(ctx, hash, off, n, dst)
	if err != nil {
		// DataLoss: the agent found its copy rotten (and quarantined it).
		return nil, callErr(err)
	}
	return b, nil
}

func (a *client) getShard(ctx context.Context, hash string, off, n int64, dst []byte) ([]byte, error) {
	// Cancelling ends the stream on every return, read to the end or not.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := a.conn.NewStream(ctx, &getShardDesc, dctv1.ShardService_GetShard_FullMethodName, grpc.ForceCodecV2(agentCodec))
	if err != nil {
		return nil, err
	}
	if err := stream.SendMsg(&dctv1.GetShardRequest{Hash: hash, Offset: off, Length: n}); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if err := stream.CloseSend(); err != nil {
		return nil, err
	}
	if int64(cap(dst)) < n {
		dst = make([]byte, 0, n)
	}
	in := &chunkInto{buf: dst[:0], max: n}
	for {
		err := stream.RecvMsg(in)
		if errors.Is(err, io.EOF) {
			return in.buf, nil
		}
		if in.tooMuch {
			return nil, fmt.Errorf("%w: agent %s sent more than the %d bytes asked of shard %s at %d", content.ErrShardCorrupt, a.node, n, hash, off)
		}
		if err != nil {
			return nil, err
		}
	}
}

// getShardDesc describes the GetShard stream (one request, many answers).
var getShardDesc = grpc.StreamDesc{StreamName: "GetShard", ServerStreams: true}

func (a *client) DeleteShard(ctx context.Context, ref content.ShardRef) error {
	if ref.Index < 0 || ref.Index > math.MaxInt32 {
		return fmt.Errorf("%w: shard index %d", content.ErrAgentRefused, ref.Index)
	}
	_, err := a.c.DeleteShard(ctx, &dctv1.DeleteShardRequest{
		Hash: ref.Hash, Name: ref.Name, Version: ref.Version, Index: int32(ref.Index),
	})
	return callErr(err)
}

func (a *client) Free(ctx context.Context) (int64, error) {
	st, err := a.c.Stat(ctx, &dctv1.StatRequest{})
	if err != nil {
		return 0, callErr(err)
	}
	return st.GetCapacityBytes() - st.GetUsedBytes(), nil
}
