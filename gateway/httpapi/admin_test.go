package httpapi_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/gateway/httpapi"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/memberauth"
	"github.com/dct-network/dct/pkg/memberauth/memberauthtest"
)

// roleMap is an in-memory registry.
type roleMap struct {
	mu sync.Mutex
	m  map[string][]records.Role
}

func (r *roleMap) grant(msp string, c tls.Certificate, roles ...records.Role) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[msp+"/"+records.CertHash(c.Leaf)] = roles
}

func (r *roleMap) Roles(_ context.Context, msp, hash string) ([]records.Role, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.m[msp+"/"+hash], nil
}

// adminServer is the admin listener over real TLS with two member
// organisations: Org1 (the gateway's) and Org2, each with a publisher and
// Org1 with an auditor; stranger is issued by no member.
type adminServer struct {
	srv                                         *httptest.Server
	roles                                       *roleMap
	now                                         time.Time
	publisher1, auditor1, publisher2, stranger1 tls.Certificate
}

func newAdminServer(t testing.TB, svc *content.Service, rate float64, burst int, opts ...func(*httpapi.AdminConfig)) *adminServer {
	t.Helper()
	org1, org2, other := memberauthtest.NewCA(t, "org1"), memberauthtest.NewCA(t, "org2"), memberauthtest.NewCA(t, "other")
	v, err := memberauth.NewVerifier(map[string][]*x509.Certificate{"Org1MSP": {org1.Cert}, "Org2MSP": {org2.Cert}})
	if err != nil {
		t.Fatal(err)
	}
	a := &adminServer{roles: &roleMap{m: map[string][]records.Role{}}, now: time.Unix(1_000_000, 0),
		publisher1: org1.Issue(t, "User1@org1"), auditor1: org1.Issue(t, "User3@org1"),
		publisher2: org2.Issue(t, "User1@org2"), stranger1: other.Issue(t, "User1@other")}
	a.roles.grant("Org1MSP", a.publisher1, records.RolePublisher)
	a.roles.grant("Org1MSP", a.auditor1, records.RoleAuditor)
	a.roles.grant("Org2MSP", a.publisher2, records.RolePublisher)
	var mu sync.Mutex
	cfg := httpapi.AdminConfig{
		Config: httpapi.Config{RequestTimeout: 10 * time.Second, PublishTimeout: 10 * time.Second},
		MSPID:  "Org1MSP", Auth: memberauth.New(v, memberauth.NewRoleCache(a.roles)), Rate: rate, Burst: burst,
		Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return a.now },
	}
	for _, o := range opts {
		o(&cfg)
	}
	h := httpapi.NewAdmin(svc, cfg, slog.New(slog.DiscardHandler))
	a.srv = httptest.NewUnstartedServer(h)
	a.srv.TLS = &tls.Config{ClientAuth: tls.VerifyClientCertIfGiven, ClientCAs: v.ClientCAs()}
	a.srv.StartTLS()
	t.Cleanup(a.srv.Close)
	return a
}

// asPublisher makes r a request over TLS from org 1's publisher, for
// calling the admin handler directly (fuzz targets).
func (a *adminServer) asPublisher(r *http.Request) *http.Request {
	r.TLS = &tls.ConnectionState{HandshakeComplete: true, PeerCertificates: []*x509.Certificate{a.publisher1.Leaf}}
	return r
}

// client is an HTTPS client presenting id (the zero value: no certificate).
func (a *adminServer) client(id tls.Certificate) *http.Client {
	tr := a.srv.Client().Transport.(*http.Transport).Clone()
	if id.Leaf != nil {
		tr.TLSClientConfig.Certificates = []tls.Certificate{id}
	}
	return &http.Client{Transport: tr}
}

func (a *adminServer) do(t *testing.T, id tls.Certificate, method, path string, body []byte) answer {
	t.Helper()
	req, err := http.NewRequest(method, a.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := a.client(id).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: b.Bytes()}
}

func TestAdminAuthorization(t *testing.T) {
	f := newFixture(t)
	a := f.admin
	before := f.agents.ShardCount()
	tests := []struct {
		name    string
		id      tls.Certificate
		method  string
		status  int
		code    string
		message string
	}{
		{"anonymous publish", tls.Certificate{}, http.MethodPut, 401, api.CodeUnauthenticated, "no client certificate"},
		{"anonymous purge", tls.Certificate{}, http.MethodDelete, 401, api.CodeUnauthenticated, "no client certificate"},
		{"auditor publishes", a.auditor1, http.MethodPut, 403, api.CodeForbidden, "is not a publisher"},
		{"auditor purges", a.auditor1, http.MethodDelete, 403, api.CodeForbidden, "is not a publisher"},
		{"other org's publisher publishes", a.publisher2, http.MethodPut, 403, api.CodeForbidden, "this gateway acts for Org1MSP"},
		{"other org's publisher purges", a.publisher2, http.MethodDelete, 403, api.CodeForbidden, "this gateway acts for Org1MSP"},
	}
	f.publish(t, "auth/kept.js", []byte("kept"))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := "/v1/objects/auth/new.js"
			if tt.method == http.MethodDelete {
				path = "/v1/objects/auth/kept.js?reason=test"
			}
			got := a.do(t, tt.id, tt.method, path, []byte("body"))
			if got.status != tt.status || got.code(t) != tt.code || !strings.Contains(string(got.body), tt.message) {
				t.Fatalf("got %d %s, want %d %s mentioning %q", got.status, got.body, tt.status, tt.code, tt.message)
			}
		})
	}
	// Nothing changed: no new object, the kept one not purged, no new shard.
	if _, err := f.svc.Object(context.Background(), "auth/new.js"); err == nil {
		t.Fatal("a refused publish recorded an object")
	}
	if m, err := f.svc.Manifest(context.Background(), "auth/kept.js", ""); err != nil || m.IsPurged() {
		t.Fatalf("a refused purge changed the object: %v", err)
	}
	if got := f.agents.ShardCount(); got != before+6 {
		t.Fatalf("agents hold %d shards, want %d", got, before+6)
	}
	// A certificate of no member is not accepted: Go's client does not send
	// it (its issuer is not among the server's acceptable CAs), so the
	// answer is 401; a client sending it anyway fails the handshake.
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+"/v1/whoami", nil)
	if resp, err := a.client(a.stranger1).Do(req); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a stranger's certificate: %s, want 401 or a failed handshake", resp.Status)
		}
	}
	tr := a.client(tls.Certificate{}).Transport.(*http.Transport)
	stranger := a.stranger1
	tr.TLSClientConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &stranger, nil }
	if resp, err := (&http.Client{Transport: tr}).Do(req.Clone(context.Background())); err == nil {
		resp.Body.Close()
		t.Fatalf("a stranger's certificate sent anyway was accepted: %s", resp.Status)
	}
}

func TestAdminPublishRecordsPublisher(t *testing.T) {
	f := newFixture(t)
	a := f.admin
	got := a.do(t, a.publisher1, http.MethodPut, "/v1/objects/pub/app.js", []byte("console.log(1)"))
	if got.status != http.StatusCreated {
		t.Fatalf("publish: %d %s", got.status, got.body)
	}
	m, err := f.svc.Manifest(context.Background(), "pub/app.js", "1")
	if err != nil {
		t.Fatal(err)
	}
	if want := records.CertHash(a.publisher1.Leaf); m.PublishedBy != want {
		t.Fatalf("publishedBy = %q, want %q", m.PublishedBy, want)
	}
	who := a.do(t, a.auditor1, http.MethodGet, "/v1/whoami", nil)
	var w api.WhoamiResponse
	if err := json.Unmarshal(who.body, &w); err != nil || who.status != 200 || w.MSPID != "Org1MSP" ||
		w.CertHash != records.CertHash(a.auditor1.Leaf) || len(w.Roles) != 1 || w.Roles[0] != records.RoleAuditor || w.Gateway != "Org1MSP" {
		t.Fatalf("whoami: %d %s", who.status, who.body)
	}
	purge := a.do(t, a.publisher1, http.MethodDelete, "/v1/objects/pub/app.js?reason=test", nil)
	if purge.status != http.StatusOK {
		t.Fatalf("purge: %d %s", purge.status, purge.body)
	}
}

func TestPublicListenerRefusesWrites(t *testing.T) {
	f := newFixture(t)
	for _, method := range []string{http.MethodPut, http.MethodDelete} {
		req, _ := http.NewRequest(method, f.srv.URL+"/v1/objects/x.js?reason=r", strings.NewReader("x"))
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		a := answer{status: resp.StatusCode, body: b.Bytes()}
		if a.status != http.StatusMethodNotAllowed || a.code(t) != api.CodeMethodNotAllowed || !strings.Contains(b.String(), "admin listener") {
			t.Fatalf("%s on the public listener: %d %s", method, a.status, b.String())
		}
	}
}

func TestAdminRateLimit(t *testing.T) {
	f := newFixture(t)
	a := newAdminServer(t, f.svc, 1, 2) // 1 a second, 2 at once
	for i := 0; i < 2; i++ {
		if got := a.do(t, a.auditor1, http.MethodGet, "/v1/whoami", nil); got.status != 200 {
			t.Fatalf("request %d: %d %s", i, got.status, got.body)
		}
	}
	got := a.do(t, a.auditor1, http.MethodGet, "/v1/whoami", nil)
	if got.status != http.StatusTooManyRequests || got.code(t) != api.CodeRateLimited || got.header.Get("Retry-After") != "1" {
		t.Fatalf("third request: %d %s (Retry-After %q)", got.status, got.body, got.header.Get("Retry-After"))
	}
	// Limits are per identity: another caller is not affected.
	if got := a.do(t, a.publisher1, http.MethodGet, "/v1/whoami", nil); got.status != 200 {
		t.Fatalf("other identity: %d %s", got.status, got.body)
	}
	// Anonymous callers are refused before any limit.
	if got := a.do(t, tls.Certificate{}, http.MethodGet, "/v1/whoami", nil); got.status != 401 {
		t.Fatalf("anonymous: %d %s", got.status, got.body)
	}
	// A second later there is a token again.
	a.now = a.now.Add(time.Second)
	if got := a.do(t, a.auditor1, http.MethodGet, "/v1/whoami", nil); got.status != 200 {
		t.Fatalf("after a second: %d %s", got.status, got.body)
	}
}
