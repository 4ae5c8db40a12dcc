//go:build integration

package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/api"
	testnetwork "github.com/dct-network/dct/test-network"
)

func payload(n int, seed int64) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func sri(b []byte) string {
	s := sha512.Sum384(b)
	return "sha384-" + base64.StdEncoding.EncodeToString(s[:])
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func publish(t *testing.T, name, contentType string, body []byte) *api.PublishResponse {
	t.Helper()
	res, err := client().Publish(ctxT(t, 5*time.Minute), name, contentType, int64(len(body)), bytes.NewReader(body))
	if err != nil {
		t.Fatalf("publish %s (%d bytes): %v", name, len(body), err)
	}
	return res
}

// do sends a request to the gateway and returns the response with its body
// read: PUT and DELETE to its admin listener as Org1's publisher, the
// others to its public listener.
func do(t *testing.T, method, path string, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	base, hc := gatewayURL(), http.DefaultClient
	if method == http.MethodPut || method == http.MethodDelete {
		base, hc = adminURL(), publisherHTTP(t)
	}
	req, err := http.NewRequestWithContext(ctxT(t, 5*time.Minute), method, base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, b
}

// errorCode decodes a JSON error body.
func errorCode(t *testing.T, b []byte) string {
	t.Helper()
	var e api.ErrorBody
	if err := json.Unmarshal(b, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("error body %q is not a JSON error: %v", b, err)
	}
	return e.Error.Code
}

func manifest(t *testing.T, name, version string) *records.Manifest {
	t.Helper()
	mf, err := client().Manifest(ctxT(t, time.Minute), name, version)
	if err != nil {
		t.Fatalf("manifest %s@%s: %v", name, version, err)
	}
	return mf
}

func agentByNode(t *testing.T, id string) testnetwork.AgentInfo {
	t.Helper()
	for _, a := range env.Agents {
		if a.NodeID == id {
			return a
		}
	}
	t.Fatalf("no agent for node %s", id)
	return testnetwork.AgentInfo{}
}

// shardPath is where an agent keeps a shard on disk.
func shardPath(a testnetwork.AgentInfo, hash string) string {
	return filepath.Join(a.DataDir, "shards", hash)
}

// shardFiles lists the committed shard files of every agent.
func shardFiles(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, a := range env.Agents {
		entries, err := os.ReadDir(filepath.Join(a.DataDir, "shards"))
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), ".") && !strings.Contains(e.Name(), ".") {
				out[a.Name+"/"+e.Name()] = true
			}
		}
	}
	return out
}

// killAgent SIGKILLs an agent and restarts it when the test ends.
func killAgent(t *testing.T, name string) {
	t.Helper()
	if err := env.KillService(ctxT(t, 30*time.Second), name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := env.RestartService(ctx, name); err != nil {
			t.Errorf("restart %s: %v", name, err)
		}
	})
}
