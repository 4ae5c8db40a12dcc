package demo

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io"
	"path"
	"strings"

	"github.com/dct-network/dct/pkg/api"
)

//go:embed portal
var assets embed.FS

// Publisher is what PublishPortal needs of a gateway client: publishing,
// and the gateway's frontend loader and list of gateways for the page.
type Publisher interface {
	Publish(ctx context.Context, name, contentType string, size int64, body io.Reader) (*api.PublishResponse, error)
	Loader(ctx context.Context) (*api.LoaderResponse, error)
	Gateways(ctx context.Context) (*api.GatewaysResponse, error)
}

// Asset is one published portal asset.
type Asset struct {
	Name      string
	URL       string
	Integrity string
	Size      int64
}

// Portal is the outcome of PublishPortal.
type Portal struct {
	Page             Asset
	CSS, JS, Feed    Asset
	All              []Asset
	GatewayBaseURL   string
	VersionedPageURL string
	LatestPageURL    string
	// Loader is the gateways' frontend loader the page includes (its path
	// and SRI integrity), Gateways the consortium's gateways it starts
	// from (GatewayList: space-separated).
	Loader   api.LoaderResponse
	Gateways []string
	// FeedLatest is the feed's unversioned path, which the page polls.
	FeedLatest string
}

// GatewayList is Gateways, space-separated (the loader's data-gateways).
func (p *Portal) GatewayList() string { return strings.Join(p.Gateways, " ") }

// PublishPortal publishes the sample portal under prefix (e.g. "portal/")
// through pub: the stylesheet, script and quote feed first, then the page
// that loads the stylesheet and script through the gateways' frontend
// loader (pinned with SRI, with the gateways pub knows) by their immutable
// versioned URLs with their SRI integrity values, and polls the feed by
// its unversioned URL: the feed is a live object, FeedName(prefix), that
// `dct feed publish` republishes.
func PublishPortal(ctx context.Context, pub Publisher, baseURL, prefix string) (*Portal, error) {
	out := &Portal{GatewayBaseURL: baseURL}
	loader, err := pub.Loader(ctx)
	if err != nil {
		return nil, fmt.Errorf("frontend loader: %w", err)
	}
	gws, err := pub.Gateways(ctx)
	if err != nil {
		return nil, fmt.Errorf("gateways: %w", err)
	}
	out.Loader, out.Gateways = *loader, gws.Gateways
	if len(out.Gateways) == 0 {
		out.Gateways = []string{baseURL}
	}
	put := func(file, contentType string, body []byte) (Asset, error) {
		name := prefix + file
		if file == "quotes.json" {
			name = FeedName(prefix)
		}
		res, err := pub.Publish(ctx, name, contentType, int64(len(body)), bytes.NewReader(body))
		if err != nil {
			return Asset{}, fmt.Errorf("publish %s: %w", name, err)
		}
		a := Asset{Name: name, URL: res.VersionedURL, Integrity: res.Integrity, Size: res.Size}
		out.All = append(out.All, a)
		return a, nil
	}
	read := func(file string) ([]byte, error) { return assets.ReadFile(path.Join("portal", file)) }
	for _, a := range []struct {
		file, ct string
		dst      *Asset
	}{
		{"portal.css", "text/css; charset=utf-8", &out.CSS},
		{"quotes.js", "text/javascript; charset=utf-8", &out.JS},
		{"quotes.json", "application/json", &out.Feed},
	} {
		b, rerr := read(a.file)
		if rerr != nil {
			return nil, rerr
		}
		if *a.dst, err = put(a.file, a.ct, b); err != nil {
			return nil, err
		}
	}
	out.Feed.URL = api.CDNURL(out.Feed.Name, "") // latest, revalidated by the page
	out.FeedLatest = out.Feed.URL
	tmplText, err := read("index.html.tmpl")
	if err != nil {
		return nil, err
	}
	tmpl, err := template.New("index").Parse(string(tmplText))
	if err != nil {
		return nil, err
	}
	var page bytes.Buffer
	if err := tmpl.Execute(&page, out); err != nil {
		return nil, err
	}
	if out.Page, err = put("index.html", "text/html; charset=utf-8", page.Bytes()); err != nil {
		return nil, err
	}
	out.VersionedPageURL = baseURL + out.Page.URL
	out.LatestPageURL = baseURL + "/cdn/" + out.Page.Name
	return out, nil
}
