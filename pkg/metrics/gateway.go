package metrics

import (
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Latency buckets in seconds: from a warm hit (tens of µs) to a slow
// publish (tens of seconds).
var (
	serveBuckets   = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}
	fetchBuckets   = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}
	publishBuckets = []float64{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}
)

// ServeRoute is the route label of the CDN serve path.
const ServeRoute = "/cdn/*path"

// UnmatchedRoute is the route label of requests no route matched.
const UnmatchedRoute = "unmatched"

// Gateway is a gateway's instruments. Its methods are safe for concurrent
// use; a nil *Gateway records nothing.
type Gateway struct {
	requests      *prometheus.CounterVec   // route, method, code
	duration      *prometheus.HistogramVec // route, method
	bytesOut      prometheus.Counter
	bytesIn       prometheus.Counter
	cache         *prometheus.CounterVec // result
	fetch         *prometheus.HistogramVec
	fetchFailures *prometheus.CounterVec
	hedges        *prometheus.CounterVec // outcome: launched, won
	publishDur    prometheus.Histogram
	publishes     *prometheus.CounterVec // result
	repairs       *prometheus.CounterVec // result
	receipts      *prometheus.CounterVec // stage: issued, committed
	batches       *prometheus.CounterVec // result
	auctions      *prometheus.CounterVec // result
	events        *prometheus.CounterVec // event
	payouts       *prometheus.CounterVec // payee
	payoutTokens  *prometheus.CounterVec // payee

	// Children of the warm path, resolved once.
	warmOK, warmHeadOK, warmNotModified prometheus.Counter
	warmDur, warmHeadDur                prometheus.Observer
	cacheHit, cacheMiss                 prometheus.Counter
	hedgeLaunched, hedgeWon             prometheus.Counter

	// Totals the dashboard turns into rates (cheaper to read than a
	// Gather).
	totalRequests, totalNanos, totalErrors atomic.Int64
	totalOut                               atomic.Int64
}

// NewGateway registers a gateway's instruments on reg.
func NewGateway(reg prometheus.Registerer) *Gateway {
	g := &Gateway{
		requests: counterVec("gateway", "requests_total",
			"HTTP requests answered, by route, method and status code.", "route", "method", "code"),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "gateway", Name: "request_duration_seconds",
			Help: "Time to answer an HTTP request (a stream: until its last byte), by route and method.", Buckets: serveBuckets}, []string{"route", "method"}),
		bytesOut: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "gateway", Name: "sent_bytes_total",
			Help: "Response body bytes sent."}),
		bytesIn: prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "gateway", Name: "received_bytes_total",
			Help: "Request body bytes received (published objects)."}),
		cache: counterVec("gateway", "cache_requests_total",
			"Reads of the decoded-object cache, by result (hit, miss).", "result"),
		fetch: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "gateway", Name: "shard_fetch_duration_seconds",
			Help: "Time of a shard request answered by an edge node, by node.", Buckets: fetchBuckets}, []string{"node"}),
		fetchFailures: counterVec("gateway", "shard_fetch_failures_total",
			"Shard requests that failed (no answer, refused, corrupt, missing), by node.", "node"),
		hedges: counterVec("gateway", "hedges_total",
			"Hedged shard requests, by outcome: launched, won (the hedge answered first).", "outcome"),
		publishDur: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "gateway", Name: "publish_duration_seconds",
			Help: "Time of a successful publish: encode, upload, ledger commit.", Buckets: publishBuckets}),
		publishes: counterVec("gateway", "publishes_total",
			"Publishes, by result (ok, error).", "result"),
		repairs: counterVec("gateway", "repairs_total",
			"Shard repairs, by result (ok, lost: another gateway recorded it first, error).", "result"),
		receipts: counterVec("gateway", "receipts_total",
			"Delivery receipts, by stage (issued: logged; committed: in a batch committed on the ledger).", "stage"),
		batches: counterVec("gateway", "batches_total",
			"Receipt batches submitted to the ledger, by result (committed, error).", "result"),
		auctions: counterVec("gateway", "auctions_total",
			"Placement auctions run by publishes, by result (awarded, error).", "result"),
		events: counterVec("gateway", "ledger_events_total",
			"Committed chaincode events the gateway followed, by event (manifest, sla, auction).", "event"),
		payouts: counterVec("gateway", "payouts_total",
			"Payouts made by the receipt batches this gateway proved, by payee organisation.", "payee"),
		payoutTokens: counterVec("gateway", "payout_tokens_total",
			"Tokens paid by the receipt batches this gateway proved, by payee organisation.", "payee"),
	}
	reg.MustRegister(g.requests, g.duration, g.bytesOut, g.bytesIn, g.cache, g.fetch, g.fetchFailures, g.hedges,
		g.publishDur, g.publishes, g.repairs, g.receipts, g.batches, g.auctions, g.events, g.payouts, g.payoutTokens)
	g.warmOK = g.requests.WithLabelValues(ServeRoute, http.MethodGet, "200")
	g.warmHeadOK = g.requests.WithLabelValues(ServeRoute, http.MethodHead, "200")
	g.warmNotModified = g.requests.WithLabelValues(ServeRoute, http.MethodGet, "304")
	g.warmDur = g.duration.WithLabelValues(ServeRoute, http.MethodGet)
	g.warmHeadDur = g.duration.WithLabelValues(ServeRoute, http.MethodHead)
	g.cacheHit = g.cache.WithLabelValues("hit")
	g.cacheMiss = g.cache.WithLabelValues("miss")
	g.hedgeLaunched = g.hedges.WithLabelValues("launched")
	g.hedgeWon = g.hedges.WithLabelValues("won")
	for _, r := range []string{"ok", "error"} {
		g.publishes.WithLabelValues(r)
	}
	for _, r := range []string{"ok", "lost", "error"} {
		g.repairs.WithLabelValues(r)
	}
	for _, s := range []string{"issued", "committed"} {
		g.receipts.WithLabelValues(s)
	}
	return g
}

// codes are the status codes' label values.
var codes = func() [600]string {
	var c [600]string
	for i := range c {
		c[i] = strconv.Itoa(i)
	}
	return c
}()

func codeLabel(code int) string {
	if code >= 0 && code < len(codes) {
		return codes[code]
	}
	return strconv.Itoa(code)
}

// Request records one answered HTTP request: its route (UnmatchedRoute
// when none matched), method, status code, duration and body bytes.
func (g *Gateway) Request(route, method string, code int, d time.Duration, in, out int64) {
	if g == nil {
		return
	}
	if route == "" {
		route = UnmatchedRoute
	}
	method = methodLabel(method)
	g.requests.WithLabelValues(route, method, codeLabel(code)).Inc()
	g.duration.WithLabelValues(route, method).Observe(d.Seconds())
	if in > 0 {
		g.bytesIn.Add(float64(in))
	}
	g.sent(out)
	g.total(code, d)
}

// ServeWarm records a request answered by the warm path (a cache hit):
// GET or HEAD, 200 or 304.
func (g *Gateway) ServeWarm(head, notModified bool, d time.Duration, out int) {
	if g == nil {
		return
	}
	g.cacheHit.Inc()
	switch {
	case notModified:
		g.warmNotModified.Inc()
		g.warmDur.Observe(d.Seconds())
	case head:
		g.warmHeadOK.Inc()
		g.warmHeadDur.Observe(d.Seconds())
	default:
		g.warmOK.Inc()
		g.warmDur.Observe(d.Seconds())
	}
	g.sent(int64(out))
	g.total(http.StatusOK, d)
}

func (g *Gateway) sent(n int64) {
	if n > 0 {
		g.bytesOut.Add(float64(n))
		g.totalOut.Add(n)
	}
}

func (g *Gateway) total(code int, d time.Duration) {
	g.totalRequests.Add(1)
	g.totalNanos.Add(int64(d))
	if code >= 500 {
		g.totalErrors.Add(1)
	}
}

// methodLabel bounds the method label to the standard methods.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete, http.MethodOptions, http.MethodPatch:
		return m
	}
	return "OTHER"
}

// Totals are a gateway's running request totals.
type Totals struct {
	Requests     int64 `json:"requests"`
	Errors       int64 `json:"errors"`
	LatencyNanos int64 `json:"latencyNanos"`
	SentBytes    int64 `json:"sentBytes"`
}

// Totals returns the running totals (zero for a nil Gateway).
func (g *Gateway) Totals() Totals {
	if g == nil {
		return Totals{}
	}
	return Totals{Requests: g.totalRequests.Load(), Errors: g.totalErrors.Load(),
		LatencyNanos: g.totalNanos.Load(), SentBytes: g.totalOut.Load()}
}

// The content service's hooks (content.Metrics).

// CacheHit and CacheMiss count reads of the decoded-object cache.
func (g *Gateway) CacheHit() {
	if g != nil {
		g.cacheHit.Inc()
	}
}

// CacheMiss: see CacheHit.
func (g *Gateway) CacheMiss() {
	if g != nil {
		g.cacheMiss.Inc()
	}
}

// ShardFetch records a shard request to node: its duration when answered,
// a failure otherwise.
func (g *Gateway) ShardFetch(node string, d time.Duration, err error) {
	if g == nil {
		return
	}
	if err != nil {
		g.fetchFailures.WithLabelValues(node).Inc()
		return
	}
	g.fetch.WithLabelValues(node).Observe(d.Seconds())
}

// HedgeLaunched and HedgeWon count hedged requests.
func (g *Gateway) HedgeLaunched() {
	if g != nil {
		g.hedgeLaunched.Inc()
	}
}

// HedgeWon: see HedgeLaunched.
func (g *Gateway) HedgeWon() {
	if g != nil {
		g.hedgeWon.Inc()
	}
}

// Published records a publish's outcome, its duration and size.
func (g *Gateway) Published(d time.Duration, err error) {
	if g == nil {
		return
	}
	if err != nil {
		g.publishes.WithLabelValues("error").Inc()
		return
	}
	g.publishes.WithLabelValues("ok").Inc()
	g.publishDur.Observe(d.Seconds())
}

// Received counts request body bytes read outside Request.
func (g *Gateway) Received(n int64) {
	if g != nil && n > 0 {
		g.bytesIn.Add(float64(n))
	}
}

// Repair records a repair's result: "ok", "lost" or "error".
func (g *Gateway) Repair(result string) {
	if g != nil {
		g.repairs.WithLabelValues(result).Inc()
	}
}

// ReceiptsIssued and ReceiptsCommitted count delivery receipts.
func (g *Gateway) ReceiptsIssued(n int) {
	if g != nil && n > 0 {
		g.receipts.WithLabelValues("issued").Add(float64(n))
	}
}

// ReceiptsCommitted: see ReceiptsIssued.
func (g *Gateway) ReceiptsCommitted(n int) {
	if g != nil && n > 0 {
		g.receipts.WithLabelValues("committed").Add(float64(n))
	}
}

// Batch records a receipt batch submitted: "committed" or "error".
func (g *Gateway) Batch(result string) {
	if g != nil {
		g.batches.WithLabelValues(result).Inc()
	}
}

// Auction records an auction run by a publish: "awarded" or "error".
func (g *Gateway) Auction(result string) {
	if g != nil {
		g.auctions.WithLabelValues(result).Inc()
	}
}

// LedgerEvent counts a followed chaincode event (manifest, sla, auction).
func (g *Gateway) LedgerEvent(event string) {
	if g != nil {
		g.events.WithLabelValues(event).Inc()
	}
}

// Payout records one payout of a proved batch.
func (g *Gateway) Payout(payee string, amount int64) {
	if g == nil {
		return
	}
	g.payouts.WithLabelValues(payee).Inc()
	if amount > 0 {
		g.payoutTokens.WithLabelValues(payee).Add(float64(amount))
	}
}
