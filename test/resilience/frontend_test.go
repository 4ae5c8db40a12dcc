//go:build integration

package resilience

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dct-network/dct/demo"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/gatewayclient"
	testnetwork "github.com/dct-network/dct/test-network"
	"github.com/dct-network/dct/test/internal/testenv"
)

// pageState is what the demo portal's page and its loader recorded.
type pageState struct {
	Current     string   `json:"current"`
	Gateways    []string `json:"gateways"`
	AssetErrors int      `json:"assetErrors"`
	Switches    []struct {
		At     int64  `json:"at"`
		From   string `json:"from"`
		To     string `json:"to"`
		Reason string `json:"reason"`
		TookMs int64  `json:"tookMs"`
	} `json:"switches"`
	Failures []struct {
		At      int64  `json:"at"`
		Gateway string `json:"gateway"`
		Path    string `json:"path"`
		Reason  string `json:"reason"`
	} `json:"failures"`
	Polls   []int64 `json:"polls"`
	Updates []struct {
		At      int64  `json:"at"`
		AsOf    string `json:"asOf"`
		Gateway string `json:"gateway"`
	} `json:"updates"`
	Errors  []string `json:"errors"`
	Rows    int      `json:"rows"`
	Styled  bool     `json:"styled"`
	Scripts int      `json:"scripts"`
}

const pageStateJS = `JSON.stringify({
  current: window.dctLoader && dctLoader.current, gateways: window.dctLoader && dctLoader.gateways,
  assetErrors: window.dctLoader ? dctLoader.assetErrors : -1,
  switches: window.dctLoader ? dctLoader.switches : [], failures: window.dctLoader ? dctLoader.failures : [],
  polls: window.dctPage ? dctPage.polls : [], updates: window.dctPage ? dctPage.updates : [],
  errors: window.dctPage ? dctPage.errors : ["no page state"],
  rows: document.querySelectorAll("#quotes tbody tr").length,
  styled: getComputedStyle(document.body).backgroundColor === "rgb(247, 249, 252)",
  scripts: document.querySelectorAll("script[data-dct-path]").length
})`

// browser is a headless Chromium (Debian's chromium) with every console
// message and log entry of its pages collected.
type browser struct {
	ctx     context.Context
	mu      sync.Mutex
	console []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := exec.LookPath("chromium"); err != nil {
		t.Fatal("Debian's chromium is not installed: run scripts/install-apt.sh chromium chromium (make test does)")
	}
	// No sandbox: the browser opens only the test's own pages, and the
	// sandbox needs user namespaces that containers (and root) lack.
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.Flag("disable-dev-shm-usage", true), chromedp.NoSandbox)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	b := &browser{ctx: ctx}
	// Starts the browser and subscribes to its console (API calls,
	// uncaught exceptions, the browser's log: network and SRI errors).
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m.String()+" "+m.URL)
			b.mu.Unlock()
		}
	}()
	return b
}

func (b *browser) messages() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.console)
}

func (b *browser) state(t *testing.T) pageState {
	t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](pageStateJS))
	if err != nil {
		t.Fatalf("read the page's state: %v", err)
	}
	var st pageState
	if err := json.Unmarshal([]byte(s), &st); err != nil {
		t.Fatalf("page state %s: %v", s, err)
	}
	return st
}

// waitState polls the page's state until cond holds, failing after d.
func (b *browser) waitState(t *testing.T, d time.Duration, what string, cond func(pageState) bool) pageState {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		st := b.state(t)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s; page state: current %s, %d polls, %d updates, errors %v, switches %+v, failures %+v",
				what, d, st.Current, len(st.Polls), len(st.Updates), st.Errors, st.Switches, st.Failures)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// integrityMessages are the console messages about Subresource Integrity.
func integrityMessages(msgs []string) []string {
	var out []string
	for _, m := range msgs {
		if strings.Contains(strings.ToLower(m), "integrity") {
			out = append(out, m)
		}
	}
	return out
}

// frontendPortal publishes the demo portal through Org1's first gateway,
// once for the tests of this file.
var frontendPortal = sync.OnceValues(func() (*demo.Portal, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := testenv.Publisher(env, env.Gateways[0])
	return demo.PublishPortal(ctx, c, c.BaseURL(), fmt.Sprintf("res/portal-%d/", time.Now().UnixNano()))
})

// feedRepublisher publishes a new version of the portal's feed every
// second, through gw's admin listener as its organisation's publisher,
// until stopped.
func feedRepublisher(t *testing.T, gw testnetwork.GatewayInfo, name string) (stop func() int) {
	t.Helper()
	c := testenv.Publisher(env, gw)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		n := 0
		defer func() { done <- n }()
		for ctx.Err() == nil {
			next := time.Now().Add(time.Second)
			body := feedJSON(time.Now())
			if _, err := c.Publish(ctx, name, "application/json", int64(len(body)), bytes.NewReader(body)); err != nil {
				if ctx.Err() == nil {
					t.Errorf("republish %s through %s: %v", name, gw.Name, err)
				}
				return
			}
			n++
			select {
			case <-ctx.Done():
			case <-time.After(time.Until(next)):
			}
		}
	}()
	return func() int { cancel(); return <-done }
}

func feedJSON(at time.Time) []byte {
	b, _ := json.Marshal(map[string]any{
		"asOf": at.UTC().Format(time.RFC3339Nano),
		"quotes": []map[string]any{
			{"symbol": "CHF/EUR", "bid": 1.06 + float64(at.UnixMilli()%1000)/1e5, "ask": 1.0619, "change": 0.12},
			{"symbol": "SMI", "bid": 11984.5, "ask": 11987.0, "change": 0.44},
		},
	})
	return b
}

// TestFrontendFailover: Debian's chromium opens the demo portal; its
// frontend loader (pinned with SRI) loads the stylesheet and script with
// their integrity and polls the feed, republished every second, from the
// fastest healthy gateway. The gateway the page uses is then SIGKILLed
// (kill) or SIGSTOPped (hang) while the page is open: the ticker must keep
// updating from another gateway, with no asset failing to load or its
// integrity check. Reported: the loader's switch time after the fault and
// the longest time the page went without a feed answer and without a
// ticker update across it.
func TestFrontendFailover(t *testing.T) {
	portal, err := frontendPortal()
	if err != nil {
		t.Fatal(err)
	}
	if len(portal.Gateways) != len(env.Gateways) {
		t.Fatalf("the page knows gateways %v, want all %d of the network", portal.Gateways, len(env.Gateways))
	}
	// Every gateway serves the same loader, whose SRI value the page pins.
	for _, gw := range env.Gateways {
		info, err := gatewayclient.New(gw.URL).Loader(ctxFor(t, 10*time.Second))
		if err != nil || info.Integrity != portal.Loader.Integrity {
			t.Fatalf("%s's loader: %+v %v; the page pins %s", gw.Name, info, err, portal.Loader.Integrity)
		}
	}
	for _, fault := range []struct {
		name   string
		inject func(ctx context.Context, victim string) error
	}{
		{"kill", func(ctx context.Context, victim string) error { return env.KillService(ctx, victim) }},
		{"hang", func(_ context.Context, victim string) error { return env.Signal(victim, syscall.SIGSTOP) }},
	} {
		t.Run(fault.name, func(t *testing.T) { frontendFailover(t, portal, fault.name, fault.inject) })
	}
}

func frontendFailover(t *testing.T, portal *demo.Portal, fault string, inject func(context.Context, string) error) {
	b := newBrowser(t)
	pageURL := env.Gateways[0].URL + portal.Page.URL
	if err := chromedp.Do(b.ctx, chromedp.Navigate(pageURL)); err != nil {
		t.Fatalf("open %s: %v", pageURL, err)
	}
	st := b.waitState(t, 20*time.Second, "the page loads its assets and polls the feed", func(s pageState) bool {
		return s.Current != "" && len(s.Polls) >= 1 && s.Rows > 0 && s.Styled
	})
	victim := gatewayAt(t, st.Current)
	// Republish the feed through a gateway of Org1 (the feed's owner)
	// other than the one the page uses.
	var pubGW testnetwork.GatewayInfo
	for _, gw := range env.Gateways {
		if gw.Org == env.Gateways[0].Org && gw.Name != victim.Name {
			pubGW = gw
			break
		}
	}
	if pubGW.Name == "" {
		t.Fatalf("no gateway of %s besides %s to republish the feed through", env.Gateways[0].Org, victim.Name)
	}
	stop := feedRepublisher(t, pubGW, portal.Feed.Name)
	published := 0
	defer func() {
		if stop != nil {
			stop()
		}
	}()
	b.waitState(t, 20*time.Second, "the ticker updates twice", func(s pageState) bool { return len(s.Updates) >= 3 })

	restartAfter(t, victim.Name)
	killedAt := time.Now().UnixMilli()
	if err := inject(ctxFor(t, 30*time.Second), victim.Name); err != nil {
		t.Fatal(err)
	}
	after := b.waitState(t, 30*time.Second, "the ticker updates from another gateway after the "+fault, func(s pageState) bool {
		n := 0
		for _, u := range s.Updates {
			if u.At > killedAt && u.Gateway != victim.URL {
				n++
			}
		}
		return n >= 3
	})
	published = stop()
	stop = nil

	if after.Current == victim.URL {
		t.Fatalf("the page still uses %s", victim.URL)
	}
	var switchAt, took int64
	var reason string
	for _, s := range after.Switches {
		if s.From == victim.URL && s.At >= killedAt {
			switchAt, took, reason = s.At, s.TookMs, s.Reason
			break
		}
	}
	if switchAt == 0 {
		t.Fatalf("no switch away from %s recorded: %+v", victim.URL, after.Switches)
	}
	pollGap, pollBefore := gapAcross(after.Polls, killedAt)
	updates := make([]int64, len(after.Updates))
	for i, u := range after.Updates {
		updates[i] = u.At
	}
	updateGap, updateBefore := gapAcross(updates, killedAt)
	var reasons []string
	for _, f := range after.Failures {
		if f.At >= killedAt {
			reasons = append(reasons, f.Gateway+f.Path+": "+f.Reason)
		}
	}
	fmt.Printf("frontend failover (%s of %s, the gateway the page used): switched to %s %d ms after the fault (%q, the switch took %d ms); "+
		"longest time without a feed answer across it %d ms (before: %d ms, polling every 500 ms); without a ticker update %d ms "+
		"(before: %d ms, feed republished every 1 s, %d times); %d asset errors; failed attempts after the fault: %d (%s)\n",
		fault, victim.Name, after.Current, switchAt-killedAt, reason, took, pollGap, pollBefore, updateGap, updateBefore, published,
		after.AssetErrors, len(reasons), strings.Join(reasons[:min(3, len(reasons))], "; "))

	if after.AssetErrors != 0 || len(after.Errors) != 0 {
		t.Fatalf("the page failed requests: %d asset errors (%v), page errors %v", after.AssetErrors, after.Failures, after.Errors)
	}
	if after.Rows == 0 || !after.Styled || after.Scripts != 1 {
		t.Fatalf("assets not in effect: %d rows, styled %v, %d scripts", after.Rows, after.Styled, after.Scripts)
	}
	if m := integrityMessages(b.messages()); len(m) > 0 {
		t.Fatalf("integrity failures in the console: %v", m)
	}
	if d := switchAt - killedAt; d > 3000 {
		t.Fatalf("the loader switched %d ms after the %s (bound 3 s; target 1 s)", d, fault)
	}
	if pollGap > 3000 {
		t.Fatalf("the page went %d ms without a feed answer across the %s (bound 3 s)", pollGap, fault)
	}
}

// gapAcross is the longest interval between consecutive times that spans
// or follows at (ms), and the longest before it.
func gapAcross(times []int64, at int64) (across, before int64) {
	for i := 1; i < len(times); i++ {
		d := times[i] - times[i-1]
		if times[i] > at {
			across = max(across, d)
		} else {
			before = max(before, d)
		}
	}
	return across, before
}

func gatewayAt(t *testing.T, url string) testnetwork.GatewayInfo {
	t.Helper()
	for _, gw := range env.Gateways {
		if gw.URL == url {
			return gw
		}
	}
	t.Fatalf("the page uses %q, no gateway of the network", url)
	return testnetwork.GatewayInfo{}
}

// TestFrontendIntegrity: the loader refuses bytes that do not match the
// integrity value it is given, and the browser says so on the console;
// the feed republisher is not needed. This is the check the failover test
// relies on when it finds no integrity message.
func TestFrontendIntegrity(t *testing.T) {
	portal, err := frontendPortal()
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	if err := chromedp.Do(b.ctx, chromedp.Navigate(env.Gateways[0].URL+portal.Page.URL)); err != nil {
		t.Fatal(err)
	}
	b.waitState(t, 20*time.Second, "the page loads its assets", func(s pageState) bool { return s.Rows > 0 && s.Styled })
	if m := integrityMessages(b.messages()); len(m) > 0 {
		t.Fatalf("integrity failures loading the page: %v", m)
	}
	wrong := portal.JS.Integrity[:len(portal.JS.Integrity)-4] + "AAA="
	js := fmt.Sprintf(`dctLoader.fetch(%q, {integrity: %q, totalMs: 2000}).then(function () { return "loaded"; }, function (e) { return "refused: " + e.message; })`,
		portal.JS.URL, wrong)
	outcome, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(outcome, "refused") {
		t.Fatalf("a script with a wrong integrity value: %s", outcome)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(integrityMessages(b.messages())) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no integrity message on the console; messages: %v", b.messages())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The right value loads.
	outcome, err = chromedp.Run(b.ctx, chromedp.Evaluate[string](strings.Replace(js, wrong, portal.JS.Integrity, 1), chromedp.EvalAwaitPromise))
	if err != nil || outcome != "loaded" {
		t.Fatalf("the script with its integrity value: %s %v", outcome, err)
	}
	// The gateways answer the loader's cross-origin reads.
	resp, err := http.Get(env.Gateways[1].URL + api.LoaderPath)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") == "" {
		t.Fatalf("%s serves the loader without CORS", env.Gateways[1].Name)
	}
}
