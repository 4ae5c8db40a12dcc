//go:build integration

package e2e

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"maps"
	"net/http"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/api"
	testnetwork "github.com/dct-network/dct/test-network"
	"github.com/dct-network/dct/test/internal/testenv"
)

// identity is the network identity with role of organisation msp.
func identity(t *testing.T, msp, role string) testnetwork.Identity {
	t.Helper()
	org, err := env.Org(msp)
	if err != nil {
		t.Fatal(err)
	}
	id, err := org.Identity(role)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// certHash is records.CertHash of an identity's enrollment certificate.
func certHash(t *testing.T, id testnetwork.Identity) string {
	t.Helper()
	b, err := os.ReadFile(id.Cert)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s: no PEM", id.Cert)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return records.CertHash(c)
}

// TestAuthenticatedPublishing: the gateway's writes are on its admin
// listener, for publishers of its organisation only; everyone else changes
// nothing.
func TestAuthenticatedPublishing(t *testing.T) {
	gw := env.Gateways[0]
	org1, org2 := gw.Org, ""
	for _, o := range env.Orgs {
		if o.MSPID != org1 {
			org2 = o.MSPID
		}
	}
	kept := publish(t, "e2e/auth/kept.js", "text/javascript", []byte("console.log('kept')"))
	ctx := ctxT(t, 2*time.Minute)
	listBefore, err := client().List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	shardsBefore := shardFiles(t)

	anonymous, err := testenv.AdminHTTPClient(env, testnetwork.Identity{})
	if err != nil {
		t.Fatal(err)
	}
	as := func(msp, role string) *http.Client {
		hc, err := testenv.AdminHTTPClient(env, identity(t, msp, role))
		if err != nil {
			t.Fatal(err)
		}
		return hc
	}
	o1, err := env.Org(org1)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := testenv.AdminHTTPClient(env, testnetwork.Identity{MSPDir: o1.AdminMSPDir})
	if err != nil {
		t.Fatal(err)
	}
	callers := []struct {
		name    string
		hc      *http.Client
		status  int
		code    string
		message string
	}{
		{"anonymous", anonymous, http.StatusUnauthorized, api.CodeUnauthenticated, "no client certificate"},
		{"auditor of the gateway's organisation", as(org1, testnetwork.RoleAuditor), http.StatusForbidden, api.CodeForbidden, "is not a publisher"},
		{"gateway identity of the gateway's organisation", as(org1, testnetwork.RoleGateway), http.StatusForbidden, api.CodeForbidden, "is not a publisher"},
		{"node identity of the gateway's organisation", as(org1, testnetwork.RoleNode), http.StatusForbidden, api.CodeForbidden, "is not a publisher"},
		{"admin of the gateway's organisation (not granted publisher)", admin, http.StatusForbidden, api.CodeForbidden, "is not a publisher"},
		{"publisher of another organisation", as(org2, testnetwork.RolePublisher), http.StatusForbidden, api.CodeForbidden, "this gateway acts for " + org1},
	}
	var mu sync.Mutex
	observed := map[string]string{}
	defer func() {
		var table strings.Builder
		for _, c := range callers {
			fmt.Fprintf(&table, "  %-62s PUT %-28s DELETE %s\n", c.name, observed[c.name+" PUT"], observed[c.name+" DELETE"])
		}
		t.Logf("admin listener write endpoints as observed (the publisher of %s: 201 and 200, below):\n%s", org1, table.String())
	}()
	for _, c := range callers {
		for _, method := range []string{http.MethodPut, http.MethodDelete} {
			t.Run(c.name+" "+method, func(t *testing.T) {
				path := "/v1/objects/e2e/auth/new.js"
				if method == http.MethodDelete {
					path = "/v1/objects/" + kept.Name + "?reason=not+allowed"
				}
				req, _ := http.NewRequestWithContext(ctxT(t, time.Minute), method, gw.AdminURL+path, strings.NewReader("console.log('new')"))
				resp, err := c.hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var b bytes.Buffer
				_, _ = b.ReadFrom(resp.Body)
				mu.Lock()
				observed[c.name+" "+method] = fmt.Sprintf("%d %s", resp.StatusCode, errorCode(t, b.Bytes()))
				mu.Unlock()
				if resp.StatusCode != c.status || errorCode(t, b.Bytes()) != c.code || !strings.Contains(b.String(), c.message) {
					t.Fatalf("%s %s: %s %s, want %d %s mentioning %q", method, path, resp.Status, b.String(), c.status, c.code, c.message)
				}
			})
		}
	}
	t.Run("public listener refuses writes", func(t *testing.T) {
		for _, method := range []string{http.MethodPut, http.MethodDelete} {
			req, _ := http.NewRequestWithContext(ctxT(t, time.Minute), method, gw.URL+"/v1/objects/e2e/auth/new.js?reason=x", strings.NewReader("x"))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			_, _ = b.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed || errorCode(t, b.Bytes()) != api.CodeMethodNotAllowed || !strings.Contains(b.String(), gw.AdminURL) {
				t.Fatalf("%s on the public listener: %s %s", method, resp.Status, b.String())
			}
		}
	})
	t.Run("nothing changed", func(t *testing.T) {
		ctx := ctxT(t, time.Minute)
		listAfter, err := client().List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(listBefore, listAfter) {
			t.Fatalf("the object list changed:\nbefore %+v\nafter  %+v", listBefore, listAfter)
		}
		if mf := manifest(t, kept.Name, kept.Version); mf.IsPurged() {
			t.Fatalf("%s was purged by a refused request", kept.Name)
		}
		if after := shardFiles(t); !maps.Equal(shardsBefore, after) {
			t.Fatalf("shards changed: %d before, %d after", len(shardsBefore), len(after))
		}
	})
	t.Run("the organisation's publisher", func(t *testing.T) {
		res := publish(t, "e2e/auth/new.js", "text/javascript", []byte("console.log('new')"))
		if res.Version != "1" {
			t.Fatalf("version %s", res.Version)
		}
		if got, want := manifest(t, res.Name, res.Version).PublishedBy, certHash(t, identity(t, org1, testnetwork.RolePublisher)); got != want {
			t.Fatalf("publishedBy = %q, want the publisher's certificate hash %q", got, want)
		}
		who, err := client().Whoami(ctxT(t, time.Minute))
		if err != nil || who.MSPID != org1 || who.Gateway != org1 || who.CertHash != certHash(t, identity(t, org1, testnetwork.RolePublisher)) {
			t.Fatalf("whoami: %+v %v", who, err)
		}
	})
}
