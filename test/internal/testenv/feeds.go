package testenv

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/dct-network/dct/gateway"
	testnetwork "github.com/dct-network/dct/test-network"
)

// StartGateway runs a gateway in this process for organisation org of the
// network, with an admin listener on a free port; mutate adjusts its
// configuration. It returns once the gateway serves; it stops with ctx.
func StartGateway(ctx context.Context, desc *testnetwork.Description, org string, mutate func(*gateway.Config)) (testnetwork.GatewayInfo, error) {
	cfg := gateway.DefaultConfig()
	cfg.NetworkDir, cfg.Org = desc.RunDir, org
	cfg.Listen, cfg.AdminListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.LogLevel = "warn"
	if mutate != nil {
		mutate(&cfg)
	}
	addr := make(chan gateway.Addrs, 1)
	errc := make(chan error, 1)
	go func() { errc <- gateway.Run(ctx, cfg, Logger(), func(a gateway.Addrs) { addr <- a }) }()
	select {
	case a := <-addr:
		return testnetwork.GatewayInfo{Name: "in-process-" + org, Org: org, URL: "http://" + a.HTTP, AdminURL: "https://" + a.Admin}, nil
	case err := <-errc:
		return testnetwork.GatewayInfo{}, fmt.Errorf("gateway: %w", err)
	case <-ctx.Done():
		return testnetwork.GatewayInfo{}, ctx.Err()
	}
}

// LatestProbe follows an object's unversioned URL at one gateway, as a
// feed's client does: each request revalidates with the ETag last seen.
type LatestProbe struct {
	URL    string // the gateway's /cdn/NAME
	Client *http.Client
	etag   string
	// Version is the last version seen (0: none yet).
	Version int
	// NotModified counts the 304 answers.
	NotModified int
}

// Poll asks once and returns the version now served.
func (p *LatestProbe) Poll(ctx context.Context) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL, nil)
	if err != nil {
		return 0, err
	}
	if p.etag != "" {
		req.Header.Set("If-None-Match", p.etag)
	}
	hc := p.Client
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	switch resp.StatusCode {
	case http.StatusNotModified:
		p.NotModified++
	case http.StatusOK:
		p.etag = resp.Header.Get("ETag")
	case http.StatusNotFound:
		return p.Version, nil
	default:
		return 0, fmt.Errorf("GET %s: %s", p.URL, resp.Status)
	}
	if v, err := strconv.Atoi(resp.Header.Get("X-DCT-Version")); err == nil && v > p.Version {
		p.Version = v
	}
	return p.Version, nil
}

// WaitFor polls every interval until version (or a later one) is served,
// and returns when it was first seen.
func (p *LatestProbe) WaitFor(ctx context.Context, version int, every time.Duration) (time.Time, error) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		v, err := p.Poll(ctx)
		if err != nil {
			return time.Time{}, err
		}
		if v >= version {
			return time.Now(), nil
		}
		select {
		case <-ctx.Done():
			return time.Time{}, fmt.Errorf("version %d not served at %s (still %d): %w", version, p.URL, v, ctx.Err())
		case <-t.C:
		}
	}
}

// Percentile is the p-quantile (0..1) of ds by the nearest-rank method.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}
