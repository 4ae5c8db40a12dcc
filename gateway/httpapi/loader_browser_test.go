package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dct-network/dct/gateway/httpapi"
	"github.com/dct-network/dct/pkg/api"
)

// overloadable answers 503 OVERLOADED to every request but /healthz while
// on, as a gateway out of cold-read slots does.
type overloadable struct {
	h  http.Handler
	on atomic.Bool
}

func (o *overloadable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if o.on.Load() && r.URL.Path != "/healthz" {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"error":{"code":"OVERLOADED","message":"overloaded"}}`, http.StatusServiceUnavailable)
		return
	}
	o.h.ServeHTTP(w, r)
}

func headlessChromium(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a browser")
	}
	if _, err := exec.LookPath("chromium"); err != nil {
		t.Skip("Debian's chromium is not installed (make deps installs it)")
	}
	// No sandbox: the browser opens only the test's own pages, and the
	// sandbox needs user namespaces that containers (and root) lack.
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.Flag("disable-dev-shm-usage", true), chromedp.NoSandbox)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	return ctx
}

// TestLoaderInBrowser runs the frontend loader in headless Chromium against
// three gateways (the HTTP API over one in-memory ledger and set of agents):
// the page pins the loader with SRI and polls a feed through it; the
// gateway in use then answers 503 to content requests (its health probe
// still 200), and the loader must move the feed to another gateway with no
// failed poll. A page pinning a wrong integrity value gets no loader.
func TestLoaderInBrowser(t *testing.T) {
	ctx := headlessChromium(t)
	gws := make([]*overloadable, 3)
	urls := make([]string, 3)
	f := newFixtureWith(t, fixtureOptions{server: func(s *http.Server) {
		gws[0] = &overloadable{h: s.Handler}
		s.Handler = gws[0]
	}})
	urls[0] = f.srv.URL
	for i := 1; i < 3; i++ {
		gws[i] = &overloadable{h: httpapi.New(f.svc, httpapi.Config{AllowOrigin: "*", RequestTimeout: 10 * time.Second,
			PublishTimeout: 10 * time.Second, LatestMaxAge: time.Minute}, nil, slog.New(slog.DiscardHandler))}
		srv := httptest.NewServer(gws[i])
		t.Cleanup(srv.Close)
		urls[i] = srv.URL
	}
	f.publish(t, "feed.json", []byte(`{"n":1}`))
	page := func(integrity string) string {
		return `<!doctype html><html><head><script src="` + api.LoaderPath + `" integrity="` + integrity + `" crossorigin="anonymous"
  data-gateways="` + strings.Join(urls, " ") + `"></script></head><body><script>
  window.polls = [];
  if (window.dctLoader) { dctLoader.poll("/cdn/feed.json", 100, function (d) { polls.push({at: Date.now(), gw: dctLoader.current, n: d.n}); }); }
</script></body></html>`
	}
	good := f.publish(t, "page.html", []byte(page(httpapi.LoaderIntegrity())))
	bad := f.publish(t, "bad.html", []byte(page("sha384-"+strings.Repeat("A", 64))))

	type state struct {
		Loader      bool   `json:"loader"`
		Current     string `json:"current"`
		AssetErrors int    `json:"assetErrors"`
		Switches    []any  `json:"switches"`
		Polls       []struct {
			At int64  `json:"at"`
			Gw string `json:"gw"`
		} `json:"polls"`
	}
	read := func() state {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`JSON.stringify({loader: !!window.dctLoader,
  current: window.dctLoader && dctLoader.current, assetErrors: window.dctLoader ? dctLoader.assetErrors : 0,
  switches: window.dctLoader ? dctLoader.switches : [], polls: window.polls || []})`))
		if err != nil {
			t.Fatal(err)
		}
		var st state
		if err := json.Unmarshal([]byte(s), &st); err != nil {
			t.Fatal(err)
		}
		return st
	}
	wait := func(what string, cond func(state) bool) state {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for {
			st := read()
			if cond(st) {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 15 s: %+v", what, st)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(urls[0]+bad.VersionedURL)); err != nil {
		t.Fatal(err)
	}
	if st := read(); st.Loader {
		t.Fatal("the loader ran although the page pins another integrity value")
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(urls[0]+good.VersionedURL)); err != nil {
		t.Fatal(err)
	}
	st := wait("the page polls the feed", func(s state) bool { return s.Loader && len(s.Polls) >= 2 })
	victim := -1
	for i, u := range urls {
		if u == st.Current {
			victim = i
		}
	}
	if victim < 0 {
		t.Fatalf("the loader uses %q, none of %v", st.Current, urls)
	}
	gws[victim].on.Store(true)
	at := time.Now().UnixMilli()
	st = wait("the feed moves to another gateway", func(s state) bool {
		n := 0
		for _, p := range s.Polls {
			if p.At > at && p.Gw != urls[victim] {
				n++
			}
		}
		return n >= 3
	})
	var gap int64
	for i := 1; i < len(st.Polls); i++ {
		if st.Polls[i].At > at {
			gap = max(gap, st.Polls[i].At-st.Polls[i-1].At)
		}
	}
	if st.AssetErrors != 0 {
		t.Fatalf("%d polls failed on every gateway", st.AssetErrors)
	}
	if st.Current == urls[victim] || len(st.Switches) < 1 {
		t.Fatalf("no switch away from the overloaded gateway: current %s, switches %v", st.Current, st.Switches)
	}
	if !strings.Contains(fmt.Sprint(st.Switches[len(st.Switches)-1]), "HTTP 503") {
		t.Fatalf("the switch does not name the 503: %v", st.Switches)
	}
	t.Logf("503 from the gateway in use: longest time without a feed answer %d ms (polling every 100 ms)", gap)
	if gap > 1000 {
		t.Fatalf("the page went %d ms without a feed answer after a 503 (target < 1 s)", gap)
	}
}
