package agents

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	dctv1 "github.com/dct-network/dct/proto/dct/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
)

// codeTable is every gRPC code with the content error it maps to.
var codeTable = []struct {
	code codes.Code
	want error
}{
	{codes.DataLoss, content.ErrShardCorrupt},
	{codes.NotFound, content.ErrShardNotFound},
	{codes.ResourceExhausted, content.ErrAgentFull},
	{codes.InvalidArgument, content.ErrAgentRefused},
	{codes.OutOfRange, content.ErrAgentRefused},
	{codes.FailedPrecondition, content.ErrAgentRefused},
	{codes.AlreadyExists, content.ErrAgentRefused},
	{codes.PermissionDenied, content.ErrAgentRefused},
	{codes.Unauthenticated, content.ErrAgentRefused},
	{codes.Unavailable, content.ErrAgentUnavailable},
	{codes.Internal, content.ErrAgentUnavailable},
	{codes.Unknown, content.ErrAgentUnavailable},
	{codes.Unimplemented, content.ErrAgentUnavailable},
	{codes.Aborted, content.ErrAgentUnavailable},
	{codes.DeadlineExceeded, content.ErrAgentUnavailable},
	{codes.Canceled, content.ErrAgentUnavailable},
}

func TestCallErr(t *testing.T) {
	for _, tt := range codeTable {
		t.Run(tt.code.String(), func(t *testing.T) {
			err := callErr(status.Error(tt.code, "agent says why"))
			if !errors.Is(err, tt.want) {
				t.Fatalf("callErr(%s) = %v, want %v", tt.code, err, tt.want)
			}
			if !strings.Contains(err.Error(), "agent says why") {
				t.Fatalf("message lost: %v", err)
			}
		})
	}
	others := []struct {
		name string
		err  error
		want []error
	}{
		{"nil", nil, nil},
		{"OK status", status.Error(codes.OK, ""), nil},
		{"deadline", status.Error(codes.DeadlineExceeded, "slow"), []error{content.ErrAgentUnavailable, context.DeadlineExceeded}},
		{"cancelled", status.Error(codes.Canceled, "gone"), []error{content.ErrAgentUnavailable, context.Canceled}},
		{"local context", fmt.Errorf("dial: %w", context.DeadlineExceeded), []error{content.ErrAgentUnavailable, context.DeadlineExceeded}},
		{"not a status", errors.New("connection refused"), []error{content.ErrAgentUnavailable}},
		{"mapped already", fmt.Errorf("%w: x", content.ErrAgentFull), []error{content.ErrAgentFull}},
		{"wrapped status", fmt.Errorf("get: %w", status.Error(codes.NotFound, "no")), []error{content.ErrShardNotFound}},
	}
	for _, tt := range others {
		t.Run(tt.name, func(t *testing.T) {
			err := callErr(tt.err)
			if tt.want == nil && err != nil {
				t.Fatalf("callErr(%v) = %v, want nil", tt.err, err)
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Fatalf("callErr(%v) = %v, want it to be %v", tt.err, err, w)
				}
			}
		})
	}
}

// failing is a ShardService answering every call with one status.
type failing struct {
	dctv1.UnimplementedShardServiceServer
	code codes.Code
}

func (f *failing) PutShard(s grpc.ClientStreamingServer[dctv1.PutShardRequest, dctv1.PutShardResponse]) error {
	if _, err := s.Recv(); err != nil {
		return err
	}
	return status.Error(f.code, "put refused")
}

func (f *failing) GetShard(*dctv1.GetShardRequest, grpc.ServerStreamingServer[dctv1.GetShardResponse]) error {
	return status.Error(f.code, "get refused")
}

func (f *failing) DeleteShard(context.Context, *dctv1.DeleteShardRequest) (*dctv1.DeleteShardResponse, error) {
	return nil, status.Error(f.code, "delete refused")
}

func (f *failing) Stat(context.Context, *dctv1.StatRequest) (*dctv1.StatResponse, error) {
	return nil, status.Error(f.code, "stat refused")
}

// serve runs srv in memory and returns a client of it.
func serve(t *testing.T, srv dctv1.ShardServiceServer) *client {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	gs := grpc.NewServer()
	dctv1.RegisterShardServiceServer(gs, srv)
	go func() { _ = gs.Serve(lis) }()
	t.Cleanup(gs.Stop)
	conn, err := grpc.NewClient("passthrough:///agent",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return newClient("n0", conn)
}

// TestClientMapsStatuses: every call of the agent client reports the
// agent's status as the content error.
func TestClientMapsStatuses(t *testing.T) {
	ctx := context.Background()
	for _, tt := range codeTable {
		t.Run(tt.code.String(), func(t *testing.T) {
			c := serve(t, &failing{code: tt.code})
			_, getErr := c.GetShard(ctx, strings.Repeat("a", 64), 0, 10)
			_, freeErr := c.Free(ctx)
			delErr := c.DeleteShard(ctx, content.ShardRef{Hash: strings.Repeat("a", 64), Name: "o", Version: "1"})
			putErr := func() error {
				w, err := c.PutShard(ctx, "o", 3)
				if err != nil {
					return err
				}
				if err := w.Write([]byte("abc")); err != nil {
					return err
				}
				return w.Commit(strings.Repeat("b", 64))
			}()
			for name, err := range map[string]error{"GetShard": getErr, "Free": freeErr, "DeleteShard": delErr, "PutShard": putErr} {
				if !errors.Is(err, tt.want) {
					t.Errorf("%s: %v, want %v", name, err, tt.want)
				}
			}
		})
	}
}

// store is a ShardService holding shards in memory.
type store struct {
	dctv1.UnimplementedShardServiceServer
	shards map[string][]byte
	// overSend ignores the requested length: the rest of the shard.
	overSend bool
}

func (s *store) PutShard(st grpc.ClientStreamingServer[dctv1.PutShardRequest, dctv1.PutShardResponse]) error {
	var buf []byte
	for {
		msg, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return status.Error(codes.InvalidArgument, "no commit")
		}
		if err != nil {
			return err
		}
		if ch := msg.GetChunk(); ch != nil {
			buf = append(buf, ch...)
		}
		if h := msg.GetHeader(); h != nil && h.GetHash() != "" {
			s.shards[h.GetHash()] = buf
			return st.SendAndClose(&dctv1.PutShardResponse{Hash: h.GetHash(), Size: int64(len(buf))})
		}
	}
}

func (s *store) GetShard(req *dctv1.GetShardRequest, st grpc.ServerStreamingServer[dctv1.GetShardResponse]) error {
	b, ok := s.shards[req.GetHash()]
	if !ok {
		return status.Error(codes.NotFound, "no such shard")
	}
	b = b[req.GetOffset():]
	if n := req.GetLength(); n > 0 && !s.overSend {
		b = b[:n]
	}
	for i := 0; i == 0 || len(b) > 0; i++ {
		n := min(len(b), 4)
		if err := st.Send(&dctv1.GetShardResponse{Chunk: b[:n], ShardSize: int64(len(s.shards[req.GetHash()]))}); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func (s *store) Stat(context.Context, *dctv1.StatRequest) (*dctv1.StatResponse, error) {
	return &dctv1.StatResponse{CapacityBytes: 100, UsedBytes: 30}, nil
}

func TestClientRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := serve(t, &store{shards: map[string][]byte{}})
	hash := strings.Repeat("c", 64)
	w, err := c.PutShard(ctx, "o", 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write([]byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(hash); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		off, n int64
		want   string
	}{{0, 10, "0123456789"}, {2, 5, "23456"}, {9, 1, "9"}}
	for _, tt := range tests {
		if b, err := c.GetShard(ctx, hash, tt.off, tt.n); err != nil || string(b) != tt.want {
			t.Errorf("GetShard(%d, %d) = %q, %v; want %q", tt.off, tt.n, b, err, tt.want)
		}
	}
	if _, err := c.GetShard(ctx, strings.Repeat("d", 64), 0, 1); !errors.Is(err, content.ErrShardNotFound) {
		t.Errorf("absent shard: %v", err)
	}
	if free, err := c.Free(ctx); err != nil || free != 70 {
		t.Errorf("Free() = %d, %v", free, err)
	}
}

// TestGetShardBounded: the client asks for a range within the shard and
// never takes more than it asked: an agent streaming more fails the call
// as a corrupt copy (mapped like the agents' own DataLoss), and a request
// without a length is refused before anything is sent.
func TestGetShardBounded(t *testing.T) {
	ctx := context.Background()
	hash := strings.Repeat("e", 64)
	st := &store{shards: map[string][]byte{hash: []byte("0123456789")}, overSend: true}
	c := serve(t, st)
	tests := []struct {
		name   string
		off, n int64
		want   error
	}{
		{"agent sends the rest of the shard", 0, 3, content.ErrShardCorrupt},
		{"agent sends more than a middle range", 4, 2, content.ErrShardCorrupt},
		{"no length", 0, 0, content.ErrInvalid},
		{"negative offset", -1, 3, content.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := c.GetShard(ctx, hash, tt.off, tt.n)
			if !errors.Is(err, tt.want) || b != nil {
				t.Fatalf("GetShard(%d, %d) = %q, %v; want %v", tt.off, tt.n, b, err, tt.want)
			}
		})
	}
	// Asking exactly for what the agent sends is fine.
	if b, err := c.GetShard(ctx, hash, 6, 4); err != nil || string(b) != "6789" {
		t.Fatalf("GetShard(6, 4) = %q, %v", b, err)
	}
}

func TestTLSConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	noCert := write("empty.pem", "not a certificate\n")
	certPEM, keyPEM := selfSigned(t)
	ca := write("ca.pem", certPEM)
	key := write("key.pem", keyPEM)
	tests := []struct {
		name                      string
		ca, cert, key, errContain string
	}{
		{"missing CA file", filepath.Join(dir, "none.pem"), "", "", "none.pem"},
		{"CA file without certificates", noCert, "", "", "holds no certificate"},
		{"client key that is no key", ca, ca, noCert, "agent client certificate"},
		{"missing client key", ca, ca, filepath.Join(dir, "none.key"), "agent client certificate"},
		{"client certificate that is a key", ca, key, key, "agent client certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := TLSConfig(tt.ca, tt.cert, tt.key)
			if err == nil || cfg != nil || !strings.Contains(err.Error(), tt.errContain) {
				t.Fatalf("TLSConfig() = %v, %v; want an error naming %q", cfg, err, tt.errContain)
			}
		})
	}
}

func TestTLSConfigValid(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	ca, key := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "key.pem")
	if os.WriteFile(ca, []byte(certPEM), 0o600) != nil || os.WriteFile(key, []byte(keyPEM), 0o600) != nil {
		t.Fatal("write")
	}
	for _, withCert := range []bool{false, true} {
		cert := ""
		if withCert {
			cert = ca
		}
		cfg, err := TLSConfig(ca, cert, key)
		if err != nil || cfg.RootCAs == nil || cfg.MinVersion != tls.VersionTLS12 || (len(cfg.Certificates) == 1) != withCert {
			t.Fatalf("TLSConfig(client cert %v) = %+v, %v", withCert, cfg, err)
		}
	}
}

// selfSigned returns a self-signed certificate and its key, PEM-encoded.
func selfSigned(t *testing.T) (string, string) {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "agent-ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}))
}

func TestPoolAgentWithoutNode(t *testing.T) {
	p := NewPool(nil)
	defer p.Close()
	if _, err := p.Agent(nil); !errors.Is(err, content.ErrAgentUnavailable) {
		t.Fatalf("Agent(nil) = %v", err)
	}
	a, err := p.Agent(&records.Node{ID: "n1", Endpoint: "127.0.0.1:1"})
	if err != nil || a == nil {
		t.Fatalf("Agent() = %v, %v (connections are made lazily)", a, err)
	}
}
