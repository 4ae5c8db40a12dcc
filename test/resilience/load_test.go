//go:build integration

package resilience

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/test/internal/testenv"
)

// object is a published asset and the digest every read must match.
type object struct {
	name string
	sum  [32]byte
}

// publishSet publishes n objects of mixed sizes under prefix.
func publishSet(t *testing.T, prefix string, n int) []object {
	t.Helper()
	c := testenv.Publisher(env, env.Gateways[0])
	r := rand.New(rand.NewSource(int64(len(prefix))))
	sizes := []int{700, 4 << 10, 30 << 10, 100 << 10, 300 << 10}
	var out []object
	for i := range n {
		b := make([]byte, sizes[i%len(sizes)])
		r.Read(b)
		name := fmt.Sprintf("%s/obj-%02d.bin", prefix, i)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		_, err := c.Publish(ctx, name, "", int64(len(b)), bytes.NewReader(b))
		cancel()
		if err != nil {
			t.Fatalf("publish %s: %v", name, err)
		}
		out = append(out, object{name: name, sum: sha256.Sum256(b)})
	}
	return out
}

// loadResult is what a load run saw.
type loadResult struct {
	OK, Failed, Retried int
	Latencies           []time.Duration
	Errors              []string
}

func (r *loadResult) pct(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.Latencies)
	slices.Sort(s)
	return s[int(p*float64(len(s)-1))]
}

func (r *loadResult) String() string {
	return fmt.Sprintf("%d ok, %d failed, %d retried on another gateway; p50 %s, p99 %s, max %s",
		r.OK, r.Failed, r.Retried, r.pct(0.5).Round(100*time.Microsecond), r.pct(0.99).Round(100*time.Microsecond), r.pct(1).Round(100*time.Microsecond))
}

// load reads objects through the gateways with workers concurrent clients
// for d. A client tries gateways[0] first and, when a request fails at the
// HTTP level (no answer, 5xx), retries it once on the next gateway, like a
// frontend with two CDN origins. Every body is checked against its digest.
func load(ctx context.Context, objs []object, gateways []string, workers int, d time.Duration) *loadResult {
	var mu sync.Mutex
	res := &loadResult{}
	var next atomic.Int64
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	deadline := time.Now().Add(d)
	get := func(base, name string) ([]byte, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/cdn/"+name, nil)
		resp, err := hc.Do(req)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return nil, err
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %.200s", resp.Status, b)
		}
		return b, nil
	}
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) && ctx.Err() == nil {
				o := objs[int(next.Add(1))%len(objs)]
				start := time.Now()
				b, err := get(gateways[0], o.name)
				retried := false
				if err != nil && len(gateways) > 1 {
					retried = true
					b, err = get(gateways[1], o.name)
				}
				took := time.Since(start)
				mu.Lock()
				switch {
				case err != nil:
					res.Failed++
					res.Errors = append(res.Errors, err.Error())
				case sha256.Sum256(b) != o.sum:
					res.Failed++
					res.Errors = append(res.Errors, o.name+": bytes differ")
				default:
					res.OK++
					res.Latencies = append(res.Latencies, took)
				}
				if retried {
					res.Retried++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return res
}

// meshView is the gateway's GET /v1/mesh.
type meshView struct {
	Fetches content.FetchStats `json:"fetches"`
	Mesh    struct {
		Members json.RawMessage    `json:"members"`
		Repairs []content.Repaired `json:"repairs"`
	} `json:"mesh"`
}

func getMesh(t *testing.T, gw int, query string) *meshView {
	t.Helper()
	resp, err := http.Get(env.Gateways[gw].URL + "/v1/mesh" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v meshView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func gatewayURLs() []string {
	var out []string
	for _, g := range env.Gateways {
		out = append(out, g.URL)
	}
	return out
}
