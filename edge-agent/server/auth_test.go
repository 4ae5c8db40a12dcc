package server

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/edge-agent/internal/testpki"
	dctv1 "github.com/dct-network/dct/proto/dct/v1"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// fakeLedger behaves like the chaincode's identity registry and manifest
// store: unknown records are records.ErrNotFound.
type fakeLedger struct {
	mu          sync.Mutex
	identities  map[string]*records.Identity
	manifests   map[string]*records.Manifest
	down        bool
	identityGet int
}

func newFakeLedger() *fakeLedger {
	return &fakeLedger{identities: map[string]*records.Identity{}, manifests: map[string]*records.Manifest{}}
}

func (l *fakeLedger) grant(msp string, cert *x509.Certificate, roles ...records.Role) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := records.CertHash(cert)
	l.identities[msp+"/"+h] = &records.Identity{MSPID: msp, CertHash: h, Roles: roles}
}

func (l *fakeLedger) putManifest(m *records.Manifest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.manifests[m.Name+"@"+m.Version] = m
}

func (l *fakeLedger) setDown(down bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down = down
}

// Roles answers as *ledger.Client does: nil for an identity the registry
// does not know.
func (l *fakeLedger) Roles(_ context.Context, msp, certHash string) ([]records.Role, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.identityGet++
	if l.down {
		return nil, errors.New("peer unreachable")
	}
	if id, ok := l.identities[msp+"/"+certHash]; ok {
		return slices.Clone(id.Roles), nil
	}
	return nil, nil
}

func (l *fakeLedger) ManifestVersions(_ context.Context, name string) ([]*records.Manifest, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return nil, errors.New("peer unreachable")
	}
	var out []*records.Manifest
	for _, m := range l.manifests {
		if m.Name == name {
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("object: %w", records.ErrNotFound)
	}
	return out, nil
}

func (l *fakeLedger) GetManifest(_ context.Context, name, version string) (*records.Manifest, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return nil, errors.New("peer unreachable")
	}
	m, ok := l.manifests[name+"@"+version]
	if !ok {
		return nil, fmt.Errorf("manifest: %w", records.ErrNotFound)
	}
	return m, nil
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// manifestOf is a manifest of name@version whose shard 0 is hash, held by
// the test agent (holder) or by another node, purged or not.
func manifestOf(name, version string, purged bool, hash string, holders ...string) *records.Manifest {
	if len(holders) == 0 {
		holders = []string{"agent0-org1", "agent1-org2"}
	}
	m := &records.Manifest{Name: name, Version: version, K: 1, Shards: []records.Shard{
		{Index: 0, Hash: hash, Nodes: holders},
		{Index: 1, Hash: hashOf([]byte(name + "parity")), Nodes: []string{"agent2-org1"}},
	}}
	if purged {
		m.Purged = &records.Tombstone{Reason: "test"}
	}
	return m
}

// memberClient dials the agent with a fresh certificate of Org1MSP's CA,
// granted roles on the ledger (none: not in the registry).
func (e *env) memberClient(t *testing.T, name string, roles ...records.Role) dctv1.ShardServiceClient {
	c, _ := e.memberConn(t, name, roles...)
	return c
}

func (e *env) memberConn(t *testing.T, name string, roles ...records.Role) (dctv1.ShardServiceClient, healthpb.HealthClient) {
	t.Helper()
	pair, err := e.member.Member(name)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := pair.TLS()
	if err != nil {
		t.Fatal(err)
	}
	if len(roles) > 0 {
		e.ledger.grant(testpki.MemberMSPID, cert.Leaf, roles...)
	}
	conn := e.dial(t, &tls.Config{Certificates: []tls.Certificate{cert}})
	return dctv1.NewShardServiceClient(conn), healthpb.NewHealthClient(conn)
}

func TestOnlyGatewaysUseTheDataPath(t *testing.T) {
	e := start(t, 1<<20)
	ctx := ctxT(t)
	b := data(100)
	if _, err := send(ctx, e.client, putMsgs(b)...); err != nil {
		t.Fatalf("gateway put: %v", err)
	}
	if got, _, err := get(ctx, e.client, hashOf(b), 0, 0); err != nil || !bytes.Equal(got, b) {
		t.Fatalf("gateway get: %v", err)
	}
	if _, err := e.client.Stat(ctx, &dctv1.StatRequest{}); err != nil {
		t.Fatalf("gateway stat: %v", err)
	}
	e.ledger.putManifest(manifestOf("o", "1", false, hashOf(b)))
	tests := []struct {
		name  string
		roles []records.Role
	}{
		{"publisher", []records.Role{records.RolePublisher}},
		{"auditor", []records.Role{records.RoleAuditor}},
		{"node", []records.Role{records.RoleNode}},
		{"not in the registry", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, health := e.memberConn(t, tc.name, tc.roles...)
			calls := map[string]error{}
			_, calls["PutShard"] = send(ctx, c, putMsgs(data(10))...)
			_, _, calls["GetShard"] = get(ctx, c, hashOf(b), 0, 0)
			e.ledger.putManifest(manifestOf("o", "1", true, hashOf(b)))
			_, calls["DeleteShard"] = c.DeleteShard(ctx, &dctv1.DeleteShardRequest{Hash: hashOf(b), Name: "o", Version: "1"})
			e.ledger.putManifest(manifestOf("o", "1", false, hashOf(b)))
			_, calls["Stat"] = c.Stat(ctx, &dctv1.StatRequest{})
			for call, err := range calls {
				if code(err) != codes.PermissionDenied {
					t.Errorf("%s: %v, want PermissionDenied", call, err)
				}
			}
			// The health service needs only the TLS handshake.
			if _, err := health.Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
				t.Errorf("health: %v", err)
			}
		})
	}
	if got, _, err := get(ctx, e.client, hashOf(b), 0, 0); err != nil || !bytes.Equal(got, b) {
		t.Fatalf("shard after refused calls: %v", err)
	}
	if st, _ := e.client.Stat(ctx, &dctv1.StatRequest{}); st.GetShardCount() != 1 {
		t.Fatalf("shards after refused puts: %v", st)
	}
}

func TestRoleAnswersAreCached(t *testing.T) {
	e := start(t, 1<<20)
	ctx := ctxT(t)
	pub := e.memberClient(t, "pub", records.RolePublisher)
	count := func() int { e.ledger.mu.Lock(); defer e.ledger.mu.Unlock(); return e.ledger.identityGet }
	for range 3 {
		if _, err := e.client.Stat(ctx, &dctv1.StatRequest{}); err != nil {
			t.Fatal(err)
		}
		if _, err := pub.Stat(ctx, &dctv1.StatRequest{}); code(err) != codes.PermissionDenied {
			t.Fatal(err)
		}
	}
	if n := count(); n != 2 {
		t.Fatalf("%d registry lookups, want 2 (one per identity)", n)
	}
	// A refusal is cached briefly, a grant longer; the ledger down is
	// UNAVAILABLE and not cached.
	e.clock.advance(10 * time.Second)
	e.ledger.setDown(true)
	if _, err := e.client.Stat(ctx, &dctv1.StatRequest{}); err != nil {
		t.Fatalf("cached grant: %v", err)
	}
	if _, err := pub.Stat(ctx, &dctv1.StatRequest{}); code(err) != codes.Unavailable {
		t.Fatalf("expired refusal with the ledger down: %v", err)
	}
	e.ledger.setDown(false)
	if _, err := pub.Stat(ctx, &dctv1.StatRequest{}); code(err) != codes.PermissionDenied {
		t.Fatalf("the ledger back: %v, want PermissionDenied (a failed lookup is not cached)", err)
	}
	e.clock.advance(2 * time.Minute)
	e.ledger.mu.Lock()
	clear(e.ledger.identities) // revoked
	e.ledger.mu.Unlock()
	if _, err := e.client.Stat(ctx, &dctv1.StatRequest{}); code(err) != codes.PermissionDenied {
		t.Fatalf("revoked gateway after the grant expired: %v", err)
	}
}

func TestDeleteOnlyWhatTheLedgerLetsGo(t *testing.T) {
	e := start(t, 1<<20)
	ctx := ctxT(t)
	other := e.memberClient(t, "gateway2", records.RoleGateway)
	tests := []struct {
		name     string
		manifest *records.Manifest // nil: none recorded
		req      func(hash string) *dctv1.DeleteShardRequest
		down     bool
		code     codes.Code
	}{
		{"purged", manifestOf("a", "1", true, ""), ref("a", "1", 0), false, codes.OK},
		{"no longer a holder", manifestOf("a", "2", false, "", "agent1-org2", "agent3-org2"), ref("a", "2", 0), false, codes.OK},
		{"live and still held", manifestOf("a", "3", false, ""), ref("a", "3", 0), false, codes.PermissionDenied},
		{"wrong index", manifestOf("a", "4", true, ""), ref("a", "4", 1), false, codes.PermissionDenied},
		{"index out of range", manifestOf("a", "5", true, ""), ref("a", "5", 7), false, codes.PermissionDenied},
		{"negative index", manifestOf("a", "6", true, ""), ref("a", "6", -1), false, codes.PermissionDenied},
		{"wrong hash", manifestOf("a", "7", true, hashOf([]byte("another"))), ref("a", "7", 0), false, codes.PermissionDenied},
		{"no such manifest", nil, ref("a", "8", 0), false, codes.PermissionDenied},
		{"no reference", nil, ref("", "", 0), false, codes.PermissionDenied},
		{"ledger down", manifestOf("a", "9", true, ""), ref("a", "9", 0), true, codes.Unavailable},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := data(1000 + i)
			h := hashOf(b)
			// Uploaded by another gateway: not the caller's to withdraw.
			if _, err := send(ctx, other, putMsgs(b)...); err != nil {
				t.Fatal(err)
			}
			if m := tc.manifest; m != nil {
				if m.Shards[0].Hash == "" {
					m.Shards[0].Hash = h
				}
				e.ledger.putManifest(m)
			}
			e.ledger.setDown(tc.down)
			defer e.ledger.setDown(false)
			resp, err := e.client.DeleteShard(ctx, tc.req(h))
			if code(err) != tc.code {
				t.Fatalf("delete: %v, want %v", err, tc.code)
			}
			got, _, gerr := get(ctx, e.client, h, 0, 0)
			if tc.code == codes.OK {
				if !resp.GetExisted() || code(gerr) != codes.NotFound {
					t.Fatalf("deleted shard: existed %v, get %v", resp.GetExisted(), gerr)
				}
				return
			}
			if gerr != nil || !bytes.Equal(got, b) {
				t.Fatalf("refused delete: the shard is no longer served: %v", gerr)
			}
		})
	}
}

func ref(name, version string, index int32) func(string) *dctv1.DeleteShardRequest {
	return func(h string) *dctv1.DeleteShardRequest {
		return &dctv1.DeleteShardRequest{Hash: h, Name: name, Version: version, Index: index}
	}
}

func TestFailedPublishCleanup(t *testing.T) {
	e := start(t, 1<<20)
	ctx := ctxT(t)
	other := e.memberClient(t, "gateway2", records.RoleGateway)
	put := func(c dctv1.ShardServiceClient, object string, b []byte) string {
		t.Helper()
		msgs := putMsgs(b)
		msgs[0].GetHeader().Object = object
		if _, err := send(ctx, c, msgs...); err != nil {
			t.Fatal(err)
		}
		return hashOf(b)
	}
	del := func(c dctv1.ShardServiceClient, h, object, version string, index int32) codes.Code {
		_, err := c.DeleteShard(ctx, &dctv1.DeleteShardRequest{Hash: h, Name: object, Version: version, Index: index})
		return code(err)
	}
	// The uploader withdraws a shard no manifest names, with or without
	// the version it tried to record.
	if h := put(e.client, "failed", data(11)); del(e.client, h, "failed", "", 0) != codes.OK {
		t.Fatal("uploader's cleanup refused")
	}
	if h := put(e.client, "failed", data(12)); del(e.client, h, "failed", "3", 0) != codes.OK {
		t.Fatal("uploader's cleanup with an unrecorded version refused")
	}
	var kept []string
	refused := func(what string, c codes.Code, h string) {
		t.Helper()
		if c != codes.PermissionDenied {
			t.Fatalf("%s: %v, want PermissionDenied", what, c)
		}
		kept = append(kept, h)
	}
	// Another gateway may not; nor the uploader naming another object, or
	// for a shard it uploaded for no object.
	h := put(e.client, "failed", data(13))
	refused("other gateway's cleanup", del(other, h, "failed", "", 0), h)
	refused("uploader naming another object", del(e.client, h, "other", "", 0), h)
	h0 := put(e.client, "", data(10))
	refused("upload for no object", del(e.client, h0, "", "", 0), h0)
	// Nor the uploader once a version names it live here, however the
	// request names it...
	e.ledger.putManifest(&records.Manifest{Name: "failed", Version: "1", Shards: []records.Shard{
		{Index: 0, Hash: hashOf([]byte("x")), Nodes: []string{"agent1-org2"}}, {Index: 1, Hash: h, Nodes: []string{"agent0-org1"}}}})
	refused("uploader deleting a recorded live shard", del(e.client, h, "failed", "1", 1), h)
	refused("uploader misnaming the index of a recorded live shard", del(e.client, h, "failed", "1", 0), h)
	refused("uploader naming no version for a recorded live shard", del(e.client, h, "failed", "", 0), h)
	// ...nor once another identity uploaded the same shard too...
	h2 := put(e.client, "failed", data(14))
	put(other, "failed", data(14))
	refused("deleting a shard another gateway uploaded too", del(e.client, h2, "failed", "", 0), h2)
	// ...nor a shard the agent held before the upload...
	h3 := put(other, "failed", data(15))
	e.clock.advance(11 * time.Minute)
	put(e.client, "failed", data(15))
	refused("deleting a shard held before the upload", del(e.client, h3, "failed", "", 0), h3)
	// ...nor after the record's time.
	h4 := put(e.client, "failed", data(16))
	e.clock.advance(11 * time.Minute)
	refused("cleanup after the record expired", del(e.client, h4, "failed", "", 0), h4)
	for _, h := range kept {
		if _, _, err := get(ctx, e.client, h, 0, 0); err != nil {
			t.Fatalf("refused shard %s no longer served: %v", h, err)
		}
	}
}

func TestUploadsBounded(t *testing.T) {
	clock := &fakeClock{t: time.Unix(0, 0)}
	u := NewUploads(2, time.Minute, clock.Now)
	a, b := Caller{MSPID: "Org1MSP", CertHash: "a"}, Caller{MSPID: "Org1MSP", CertHash: "b"}
	u.Received("h1", a, "o", false)
	u.Received("h2", a, "o", false)
	u.Received("h3", b, "o", false)
	if u.Owned("h1", a, "o") || !u.Owned("h2", a, "o") || !u.Owned("h3", b, "o") || u.Owned("h3", a, "o") || u.Owned("h2", a, "p") {
		t.Fatal("bounded record")
	}
	u.Forget("h2")
	if u.Owned("h2", a, "o") {
		t.Fatal("forgotten upload still owned")
	}
}

func TestIdleUploadIsAborted(t *testing.T) {
	e := start(t, 1<<30, func(o *options) { o.idle = 200 * time.Millisecond })
	ctx := ctxT(t)
	stream, err := e.client.PutShard(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(header(1000, "")); err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(chunk(data(500))); err != nil {
		t.Fatal(err)
	}
	// The client stalls. The agent's answer, without closing the stream,
	// is the abort signal.
	var resp dctv1.PutShardResponse
	err = stream.RecvMsg(&resp)
	if code(err) != codes.DeadlineExceeded {
		t.Fatalf("stalled upload: %v, want DeadlineExceeded", err)
	}
	st, err := e.client.Stat(ctx, &dctv1.StatRequest{})
	if err != nil || st.GetReservedBytes() != 0 || st.GetUsedBytes() != 0 {
		t.Fatalf("after the abort: %v %v", st, err)
	}
	entries, _ := os.ReadDir(filepath.Join(e.dir, "data", "shards"))
	if len(entries) != 0 {
		t.Fatalf("files left: %d", len(entries))
	}
	// An upload that keeps sending within the timeout is not idle.
	b := data(3 << 20)
	if _, err := send(ctx, e.client, putMsgs(b)...); err != nil {
		t.Fatalf("active upload: %v", err)
	}
}
