package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/edge-agent/internal/testpki"
	"github.com/dct-network/dct/edge-agent/store"
	"github.com/dct-network/dct/pkg/memberauth"
	dctv1 "github.com/dct-network/dct/proto/dct/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

type env struct {
	dir    string
	addr   string
	ca     *testpki.CA // the agent's TLS CA
	member *testpki.CA // Org1MSP's CA
	files  testpki.Files
	ledger *fakeLedger
	clock  *fakeClock
	served *Served
	client dctv1.ShardServiceClient
	health healthpb.HealthClient
}

// options adjust the agent a test starts.
type options struct {
	idle time.Duration
}

func start(t *testing.T, capacity int64, opts ...func(*options)) *env {
	t.Helper()
	var o options
	for _, f := range opts {
		f(&o)
	}
	e := &env{dir: t.TempDir(), ledger: newFakeLedger(), clock: &fakeClock{t: time.Unix(1_700_000_000, 0)}}
	e.served = NewServed(0, 0, e.clock.Now)
	files, ca, member, err := testpki.WriteAgent(filepath.Join(e.dir, "tls"))
	if err != nil {
		t.Fatal(err)
	}
	e.files, e.ca, e.member = files, ca, member
	st, err := store.Open(context.Background(), filepath.Join(e.dir, "data"), store.Options{Capacity: capacity})
	if err != nil {
		t.Fatal(err)
	}
	members, err := memberauth.LoadVerifier([]string{testpki.MemberMSPID + "=" + files.MemberCA})
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := TLSConfig(files.ServerCert, files.ServerKey, members)
	if err != nil {
		t.Fatal(err)
	}
	// Grants trusted for a minute, refusals for 5s.
	roles := NewRoleCache(e.ledger, time.Minute, memberauth.WithClock(e.clock.Now))
	auth, err := NewAuthorizer(memberauth.New(members, roles), nil)
	if err != nil {
		t.Fatal(err)
	}
	svc := New(st, Config{NodeID: "agent0-org1", Zone: "eu-1", Version: "test", Ledger: e.ledger,
		Uploads: NewUploads(16, 10*time.Minute, e.clock.Now), UploadIdleTimeout: o.idle, Served: e.served}, nil)
	g, hs, err := NewGRPCServer(svc, tlsCfg, auth)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.addr = ln.Addr().String()
	go g.Serve(ln)
	t.Cleanup(func() {
		hs.Shutdown()
		g.Stop()
		st.Close()
	})
	cert, err := tls.LoadX509KeyPair(files.ClientCert, files.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	e.ledger.grant(testpki.MemberMSPID, cert.Leaf, records.RoleGateway)
	conn := e.dial(t, &tls.Config{Certificates: []tls.Certificate{cert}})
	e.client = dctv1.NewShardServiceClient(conn)
	e.health = healthpb.NewHealthClient(conn)
	return e
}

// dial connects with cfg, trusting the test CA.
func (e *env) dial(t *testing.T, cfg *tls.Config) *grpc.ClientConn {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(e.ca.Cert)
	cfg.RootCAs = pool
	conn, err := grpc.NewClient(e.addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(MaxRecvMsgSize)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func hashOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func data(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func header(size int64, hash string) *dctv1.PutShardRequest {
	return &dctv1.PutShardRequest{Msg: &dctv1.PutShardRequest_Header{Header: &dctv1.ShardHeader{Size: size, Hash: hash}}}
}

func chunk(b []byte) *dctv1.PutShardRequest {
	return &dctv1.PutShardRequest{Msg: &dctv1.PutShardRequest_Chunk{Chunk: b}}
}

// send sends msgs on a PutShard stream and returns its outcome.
func send(ctx context.Context, c dctv1.ShardServiceClient, msgs ...*dctv1.PutShardRequest) (*dctv1.PutShardResponse, error) {
	stream, err := c.PutShard(ctx)
	if err != nil {
		return nil, err
	}
	for _, m := range msgs {
		if err := stream.Send(m); err != nil {
			break // the server ended the stream; CloseAndRecv has its status
		}
	}
	return stream.CloseAndRecv()
}

func putMsgs(b []byte) []*dctv1.PutShardRequest {
	msgs := []*dctv1.PutShardRequest{header(int64(len(b)), "")}
	for p := b; len(p) > 0; {
		n := min(len(p), MaxChunk)
		msgs = append(msgs, chunk(p[:n]))
		p = p[n:]
	}
	return append(msgs, header(int64(len(b)), hashOf(b)))
}

// get reads a range and checks the message framing.
func get(ctx context.Context, c dctv1.ShardServiceClient, hash string, off, n int64) ([]byte, int64, error) {
	stream, err := c.GetShard(ctx, &dctv1.GetShardRequest{Hash: hash, Offset: off, Length: n})
	if err != nil {
		return nil, 0, err
	}
	var buf bytes.Buffer
	var size int64
	for i := 0; ; i++ {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			if i == 0 {
				return nil, 0, errors.New("no message")
			}
			return buf.Bytes(), size, nil
		}
		if err != nil {
			return buf.Bytes(), size, err
		}
		if len(msg.GetChunk()) > MaxChunk {
			return nil, 0, fmt.Errorf("chunk of %d bytes", len(msg.GetChunk()))
		}
		if i == 0 {
			size = msg.GetShardSize()
		} else if msg.GetShardSize() != 0 {
			return nil, 0, errors.New("shard_size repeated")
		}
		buf.Write(msg.GetChunk())
	}
}

func code(err error) codes.Code { return status.Code(err) }

func TestPutGetRoundTrip(t *testing.T) {
	e := start(t, 1<<30)
	ctx := ctxT(t)
	for _, size := range []int{0, 1, 64 << 10, 3<<20 + 5} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			b := data(size)
			resp, err := send(ctx, e.client, putMsgs(b)...)
			if err != nil {
				t.Fatalf("PutShard: %v", err)
			}
			if resp.GetHash() != hashOf(b) || resp.GetSize() != int64(size) {
				t.Fatalf("response %v", resp)
			}
			// Idempotent.
			if _, err := send(ctx, e.client, putMsgs(b)...); err != nil {
				t.Fatalf("second PutShard: %v", err)
			}
			got, shardSize, err := get(ctx, e.client, hashOf(b), 0, 0)
			if err != nil || !bytes.Equal(got, b) || shardSize != int64(size) {
				t.Fatalf("GetShard: %d bytes, size %d, %v", len(got), shardSize, err)
			}
		})
	}
	st, err := e.client.Stat(ctx, &dctv1.StatRequest{})
	if err != nil {
		t.Fatal(err)
	}
	want := int64(0 + 1 + 64<<10 + 3<<20 + 5)
	if st.GetNodeId() != "agent0-org1" || st.GetZone() != "eu-1" || st.GetVersion() != "test" ||
		st.GetCapacityBytes() != 1<<30 || st.GetUsedBytes() != want || st.GetShardCount() != 4 || st.GetReservedBytes() != 0 {
		t.Fatalf("Stat %v", st)
	}
}

func TestGetRanges(t *testing.T) {
	e := start(t, 1<<30)
	ctx := ctxT(t)
	b := data(2<<20 + 100)
	h := hashOf(b)
	if _, err := send(ctx, e.client, putMsgs(b)...); err != nil {
		t.Fatal(err)
	}
	size := int64(len(b))
	tests := []struct {
		name   string
		hash   string
		off, n int64
		code   codes.Code
	}{
		{"whole", h, 0, 0, codes.OK},
		{"head", h, 0, 10, codes.OK},
		{"middle across chunks", h, 1<<20 - 5, 1<<20 + 10, codes.OK},
		{"one block, one message", h, 64 << 10, 64 << 10, codes.OK},
		{"tail", h, size - 100, 0, codes.OK},
		{"empty at the end", h, size, 0, codes.OK},
		{"offset beyond", h, size + 1, 0, codes.OutOfRange},
		{"length beyond", h, size - 1, 2, codes.OutOfRange},
		{"negative offset", h, -1, 0, codes.InvalidArgument},
		{"negative length", h, 0, -5, codes.InvalidArgument},
		{"unknown shard", hashOf([]byte("x")), 0, 0, codes.NotFound},
		{"malformed hash", "abc", 0, 0, codes.InvalidArgument},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, shardSize, err := get(ctx, e.client, tc.hash, tc.off, tc.n)
			if code(err) != tc.code {
				t.Fatalf("code %v (%v), want %v", code(err), err, tc.code)
			}
			if tc.code != codes.OK {
				return
			}
			end := size
			if tc.n > 0 {
				end = tc.off + tc.n
			}
			if !bytes.Equal(got, b[tc.off:end]) || shardSize != size {
				t.Fatalf("got %d bytes size %d, want %d size %d", len(got), shardSize, end-tc.off, size)
			}
		})
	}
}

func TestPutErrors(t *testing.T) {
	e := start(t, 1<<20)
	ctx := ctxT(t)
	b := data(1000)
	h := hashOf(b)
	tests := []struct {
		name string
		msgs []*dctv1.PutShardRequest
		code codes.Code
	}{
		{"empty stream", nil, codes.InvalidArgument},
		{"chunk first", []*dctv1.PutShardRequest{chunk(b), header(1000, h)}, codes.InvalidArgument},
		{"hash in first header", []*dctv1.PutShardRequest{header(1000, h), chunk(b), header(1000, h)}, codes.InvalidArgument},
		{"empty message", []*dctv1.PutShardRequest{header(1000, ""), {}}, codes.InvalidArgument},
		{"hash mismatch", []*dctv1.PutShardRequest{header(1000, ""), chunk(b), header(1000, hashOf(b[1:]))}, codes.InvalidArgument},
		{"fewer bytes", []*dctv1.PutShardRequest{header(1001, ""), chunk(b), header(1001, h)}, codes.InvalidArgument},
		{"more bytes", []*dctv1.PutShardRequest{header(999, ""), chunk(b), header(999, h)}, codes.InvalidArgument},
		{"commit size differs", []*dctv1.PutShardRequest{header(1000, ""), chunk(b), header(999, h)}, codes.InvalidArgument},
		{"no commit", []*dctv1.PutShardRequest{header(1000, ""), chunk(b)}, codes.InvalidArgument},
		{"malformed hash", []*dctv1.PutShardRequest{header(1000, ""), chunk(b), header(1000, "XYZ")}, codes.InvalidArgument},
		{"negative size", []*dctv1.PutShardRequest{header(-1, "")}, codes.InvalidArgument},
		{"too large", []*dctv1.PutShardRequest{header(1<<20+1, ""), chunk(b)}, codes.ResourceExhausted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := send(ctx, e.client, tc.msgs...)
			if code(err) != tc.code {
				t.Fatalf("code %v (%v), want %v", code(err), err, tc.code)
			}
		})
	}
	st, err := e.client.Stat(ctx, &dctv1.StatRequest{})
	if err != nil || st.GetUsedBytes() != 0 || st.GetShardCount() != 0 {
		t.Fatalf("after failed puts: %v %v", st, err)
	}
}

func TestCapacityExhausted(t *testing.T) {
	e := start(t, 1500)
	ctx := ctxT(t)
	if _, err := send(ctx, e.client, putMsgs(data(1000))...); err != nil {
		t.Fatal(err)
	}
	if _, err := send(ctx, e.client, putMsgs(data(501))...); code(err) != codes.ResourceExhausted {
		t.Fatalf("over capacity: %v", err)
	}
	if _, err := send(ctx, e.client, putMsgs(data(500))...); err != nil {
		t.Fatalf("exact fit: %v", err)
	}
}

func TestDelete(t *testing.T) {
	e := start(t, 1<<20)
	ctx := ctxT(t)
	b := data(10)
	if _, err := send(ctx, e.client, putMsgs(b)...); err != nil {
		t.Fatal(err)
	}
	e.ledger.putManifest(manifestOf("o", "1", true, hashOf(b)))
	for i, want := range []bool{true, false} {
		resp, err := e.client.DeleteShard(ctx, &dctv1.DeleteShardRequest{Hash: hashOf(b), Name: "o", Version: "1"})
		if err != nil || resp.GetExisted() != want {
			t.Fatalf("delete %d: %v %v, want existed %v", i, resp, err, want)
		}
	}
	if _, _, err := get(ctx, e.client, hashOf(b), 0, 0); code(err) != codes.NotFound {
		t.Fatalf("get after delete: %v", err)
	}
	if _, err := e.client.DeleteShard(ctx, &dctv1.DeleteShardRequest{Hash: "nope"}); code(err) != codes.InvalidArgument {
		t.Fatalf("delete malformed: %v", err)
	}
}

func TestCorruptShardIsDataLoss(t *testing.T) {
	e := start(t, 1<<30)
	ctx := ctxT(t)
	b := data(300 << 10)
	h := hashOf(b)
	if _, err := send(ctx, e.client, putMsgs(b)...); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(e.dir, "data", "shards", h)
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw[200<<10] ^= 1
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	// A range that misses the damaged block is still served...
	if got, _, err := get(ctx, e.client, h, 0, 64<<10); err != nil || !bytes.Equal(got, b[:64<<10]) {
		t.Fatalf("clean range: %v", err)
	}
	// ...one that touches it is not.
	got, _, err := get(ctx, e.client, h, 150<<10, 100<<10)
	if code(err) != codes.DataLoss {
		t.Fatalf("damaged range: %v, want DataLoss", err)
	}
	if !bytes.Equal(got, b[150<<10:150<<10+len(got)]) || 150<<10+len(got) > 192<<10 {
		t.Fatalf("served %d bytes of a damaged range", len(got))
	}
	if _, _, err := get(ctx, e.client, h, 0, 0); code(err) != codes.NotFound {
		t.Fatalf("after quarantine: %v, want NotFound", err)
	}
	st, _ := e.client.Stat(ctx, &dctv1.StatRequest{})
	if st.GetQuarantinedCount() != 1 || st.GetShardCount() != 0 {
		t.Fatalf("Stat %v", st)
	}
}

func TestHealth(t *testing.T) {
	e := start(t, 1<<20)
	ctx := ctxT(t)
	for _, svc := range []string{"", dctv1.ShardService_ServiceDesc.ServiceName} {
		resp, err := e.health.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Fatalf("health %q: %v %v", svc, resp, err)
		}
	}
	if _, err := e.health.Check(ctx, &healthpb.HealthCheckRequest{Service: "nope"}); code(err) != codes.NotFound {
		t.Fatalf("unknown service: %v", err)
	}
}

func TestMutualTLS(t *testing.T) {
	e := start(t, 1<<20)
	other, err := testpki.NewCA("Other CA")
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.Client("intruder")
	if err != nil {
		t.Fatal(err)
	}
	foreignCert, _ := foreign.TLS()
	// A client pair of the agents' TLS CA is no member identity.
	tlsPair, err := e.ca.Client("gateway-tls")
	if err != nil {
		t.Fatal(err)
	}
	tlsCert, _ := tlsPair.TLS()
	good, err := tls.LoadX509KeyPair(e.files.ClientCert, e.files.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  *tls.Config
		ok   bool
	}{
		{"consortium client", &tls.Config{Certificates: []tls.Certificate{good}}, true},
		{"no client certificate", &tls.Config{}, false},
		{"client of another CA", &tls.Config{Certificates: []tls.Certificate{foreignCert}}, false},
		{"TLS CA client pair", &tls.Config{Certificates: []tls.Certificate{tlsCert}}, false},
		{"TLS 1.1", &tls.Config{Certificates: []tls.Certificate{good}, MaxVersion: tls.VersionTLS11}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c := dctv1.NewShardServiceClient(e.dial(t, tc.cfg))
			_, err := c.Stat(ctx, &dctv1.StatRequest{})
			if (err == nil) != tc.ok {
				t.Fatalf("Stat: %v, want ok %v", err, tc.ok)
			}
			if !tc.ok && code(err) != codes.Unavailable {
				t.Fatalf("refused with %v, want Unavailable", code(err))
			}
		})
	}
}

func TestCanceledUploadReleasesReservation(t *testing.T) {
	e := start(t, 1<<20)
	ctx, cancel := context.WithCancel(ctxT(t))
	stream, err := e.client.PutShard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stream.Send(header(1000, ""))
	stream.Send(chunk(data(500)))
	deadline := time.Now().Add(10 * time.Second)
	for { // wait for the server to reserve
		st, err := e.client.Stat(ctxT(t), &dctv1.StatRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if st.GetReservedBytes() == 1000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never reserved: %v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	for {
		st, err := e.client.Stat(ctxT(t), &dctv1.StatRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if st.GetReservedBytes() == 0 && st.GetUsedBytes() == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reservation kept: %v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
	entries, _ := os.ReadDir(filepath.Join(e.dir, "data", "shards"))
	if len(entries) != 0 {
		t.Fatalf("files left: %d", len(entries))
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		err  error
		code codes.Code
	}{
		{nil, codes.OK},
		{fmt.Errorf("x: %w", store.ErrInvalid), codes.InvalidArgument},
		{fmt.Errorf("x: %w", store.ErrHashMismatch), codes.InvalidArgument},
		{fmt.Errorf("x: %w", store.ErrSizeMismatch), codes.InvalidArgument},
		{fmt.Errorf("x: %w", ErrProtocol), codes.InvalidArgument},
		{fmt.Errorf("x: %w", store.ErrNotFound), codes.NotFound},
		{fmt.Errorf("x: %w", store.ErrOutOfRange), codes.OutOfRange},
		{fmt.Errorf("x: %w", store.ErrNoSpace), codes.ResourceExhausted},
		{fmt.Errorf("x: %w", store.ErrCorrupt), codes.DataLoss},
		{store.ErrClosed, codes.Unavailable},
		{store.ErrUploadDone, codes.FailedPrecondition},
		{fmt.Errorf("x: %w", ErrUnauthenticated), codes.Unauthenticated},
		{fmt.Errorf("x: %w", ErrPermissionDenied), codes.PermissionDenied},
		{fmt.Errorf("x: %w", ErrLedgerUnavailable), codes.Unavailable},
		{fmt.Errorf("x: %w", memberauth.ErrUnauthenticated), codes.Unauthenticated},
		{fmt.Errorf("%w: roles: %w", memberauth.ErrRoleLookup, errors.New("peer unreachable")), codes.Unavailable},
		{fmt.Errorf("x: %w", ErrUploadIdle), codes.DeadlineExceeded},
		{context.Canceled, codes.Canceled},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), codes.DeadlineExceeded},
		{status.Error(codes.Aborted, "as is"), codes.Aborted},
		{errors.New("disk on fire"), codes.Internal},
	}
	for _, tc := range tests {
		if got := code(Status(tc.err)); got != tc.code {
			t.Errorf("Status(%v) = %v, want %v", tc.err, got, tc.code)
		}
	}
}
