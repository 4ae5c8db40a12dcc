package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// FeedPrefix starts the names of the demo's live feeds; the gateways
// serve names under it as feeds (their default --feed-prefix).
const FeedPrefix = "feeds/"

// FeedName is the object name of the quote feed of the portal published
// under prefix: FeedPrefix + prefix + "quotes.json".
func FeedName(prefix string) string { return FeedPrefix + prefix + "quotes.json" }

// Quote is one line of the ticker.
type Quote struct {
	Symbol string  `json:"symbol"`
	Bid    float64 `json:"bid"`
	Ask    float64 `json:"ask"`
	Change float64 `json:"change"`
}

// Quotes is the feed's document.
type Quotes struct {
	AsOf   string  `json:"asOf"`
	Seq    int64   `json:"seq"`
	Quotes []Quote `json:"quotes"`
	// Pad fills the document up to a requested size (benchmarks).
	Pad string `json:"pad,omitempty"`
}

// QuoteFeed generates the ticker's successive documents: the embedded
// quotes.json moved by a small random walk each time.
type QuoteFeed struct {
	doc   Quotes
	open  []float64
	rng   *rand.Rand
	size  int
	clock func() time.Time
}

// NewQuoteFeed starts from the embedded quotes; size > 0 pads every
// document to exactly size bytes (when the quotes fit).
func NewQuoteFeed(seed uint64, size int) (*QuoteFeed, error) {
	b, err := assets.ReadFile("portal/quotes.json")
	if err != nil {
		return nil, err
	}
	f := &QuoteFeed{rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), size: size, clock: time.Now}
	if err := json.Unmarshal(b, &f.doc); err != nil {
		return nil, fmt.Errorf("demo: quotes.json: %w", err)
	}
	if len(f.doc.Quotes) == 0 {
		return nil, errors.New("demo: quotes.json has no quotes")
	}
	for _, q := range f.doc.Quotes {
		f.open = append(f.open, (q.Bid+q.Ask)/2/(1+q.Change/100))
	}
	return f, nil
}

// Next is the next document (JSON).
func (f *QuoteFeed) Next() ([]byte, error) {
	f.doc.Seq++
	f.doc.AsOf = f.clock().UTC().Format(time.RFC3339Nano)
	for i := range f.doc.Quotes {
		q := &f.doc.Quotes[i]
		mid := (q.Bid + q.Ask) / 2 * (1 + f.rng.NormFloat64()*0.0005)
		spread := q.Ask - q.Bid
		q.Bid, q.Ask = round(mid-spread/2), round(mid+spread/2)
		q.Change = math.Round((mid/f.open[i]-1)*10000) / 100
	}
	f.doc.Pad = ""
	b, err := json.Marshal(f.doc)
	if err != nil || f.size <= 0 {
		return b, err
	}
	if pad := f.size - len(b) - len(`,"pad":""`); pad > 0 {
		f.doc.Pad = strings.Repeat(" ", pad)
		return json.Marshal(f.doc)
	}
	return b, nil
}

func round(v float64) float64 { return math.Round(v*10000) / 10000 }

// FeedResult is one publish of a feed.
type FeedResult struct {
	Version string
	Size    int
	// Took is from the request to the gateway's 201 (the version committed).
	Took time.Duration
	Err  error
}

// RunFeed publishes feed's documents as name through pub every interval
// (ticks missed while a publish is slow are skipped) until ctx ends or
// count publishes were made (count <= 0: no limit), and reports each
// publish to report. It stops at the first error unless keepGoing.
func RunFeed(ctx context.Context, pub Publisher, name string, feed *QuoteFeed, every time.Duration, count int, keepGoing bool, report func(FeedResult)) error {
	if every <= 0 {
		return errors.New("demo: the feed interval must be positive")
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for n := 0; count <= 0 || n < count; n++ {
		body, err := feed.Next()
		if err != nil {
			return err
		}
		start := time.Now()
		res, err := pub.Publish(ctx, name, "application/json", int64(len(body)), bytes.NewReader(body))
		r := FeedResult{Size: len(body), Took: time.Since(start), Err: err}
		if err == nil {
			r.Version = res.Version
		}
		if report != nil {
			report(r)
		}
		if err != nil && (!keepGoing || ctx.Err() != nil) {
			return fmt.Errorf("publish %s: %w", name, err)
		}
		if count > 0 && n+1 >= count {
			break
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
	return nil
}
