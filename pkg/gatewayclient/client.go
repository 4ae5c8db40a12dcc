package gatewayclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/api"
)

// APIError is an error answered by the gateway.
type APIError struct {
	Status  int
	Code    string
	Message string
	// RequestID names the request in the gateway's log.
	RequestID string
}

func (e *APIError) Error() string {
	if e.RequestID != "" {
		return fmt.Sprintf("gateway answered %d %s: %s (request %s)", e.Status, e.Code, e.Message, e.RequestID)
	}
	return fmt.Sprintf("gateway answered %d %s: %s", e.Status, e.Code, e.Message)
}

// Client talks to one gateway: reads to its public listener, publish and
// purge to its admin listener (WithAdmin).
type Client struct {
	base string
	hc   *http.Client

	admin   string
	adminHC *http.Client
}

// ErrNoAdmin: a publish or purge on a client without WithAdmin.
var ErrNoAdmin = errors.New("publish and purge go to the gateway's admin listener: give its URL and a client certificate (WithAdmin; dct --admin, --msp-dir or --cert/--key, --cacert)")

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient uses hc for the public listener (default:
// http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithAdmin sends publish and purge to the admin listener at baseURL
// (https://host:port) with hc, which the caller owns: its transport
// presents the member's client certificate and trusts the gateway's TLS CA
// (see TLSConfig).
func WithAdmin(baseURL string, hc *http.Client) Option {
	return func(c *Client) { c.admin, c.adminHC = strings.TrimRight(baseURL, "/"), hc }
}

// New returns a client of the gateway at baseURL (e.g. http://127.0.0.1:8080).
func New(baseURL string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), hc: http.DefaultClient}
	for _, o := range opts {
		o(c)
	}
	return c
}

// BaseURL is the gateway's address.
func (c *Client) BaseURL() string { return c.base }

// AdminURL is the admin listener's address ("" without WithAdmin).
func (c *Client) AdminURL() string { return c.admin }

func escapeName(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func (c *Client) do(req *http.Request, out any, okStatus ...int) (*http.Response, error) {
	return c.doWith(c.hc, req, out, okStatus...)
}

// adminRequest builds a request to the admin listener.
func (c *Client) adminRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	if c.admin == "" {
		return nil, ErrNoAdmin
	}
	return http.NewRequestWithContext(ctx, method, c.admin+path, body)
}

func (c *Client) doWith(hc *http.Client, req *http.Request, out any, okStatus ...int) (*http.Response, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	ok := false
	for _, s := range okStatus {
		ok = ok || resp.StatusCode == s
	}
	if !ok {
		return resp, decodeError(resp)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp, fmt.Errorf("decode %s answer: %w", req.URL.Path, err)
		}
	}
	return resp, nil
}

func decodeError(resp *http.Response) error {
	var body api.ErrorBody
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if json.Unmarshal(b, &body) == nil && body.Error.Code != "" {
		return &APIError{Status: resp.StatusCode, Code: body.Error.Code, Message: body.Error.Message, RequestID: body.Error.RequestID}
	}
	return &APIError{Status: resp.StatusCode, Code: "HTTP_" + fmt.Sprint(resp.StatusCode), Message: strings.TrimSpace(string(b))}
}

// PublishOption tunes a publish.
type PublishOption func(*http.Request)

// WithSurrogateKeys tags the published version with surrogate keys (the
// Surrogate-Key header): what a purge by key reaches.
func WithSurrogateKeys(keys ...string) PublishOption {
	return func(r *http.Request) {
		if len(keys) > 0 {
			r.Header.Set(api.SurrogateKeyHeader, strings.Join(keys, " "))
		}
	}
}

// Publish uploads size bytes from body as the next version of name.
func (c *Client) Publish(ctx context.Context, name, contentType string, size int64, body io.Reader) (*api.PublishResponse, error) {
	return c.PublishWith(ctx, name, contentType, size, body)
}

// PublishWith is Publish with options (WithSurrogateKeys).
func (c *Client) PublishWith(ctx context.Context, name, contentType string, size int64, body io.Reader, opts ...PublishOption) (*api.PublishResponse, error) {
	req, err := c.adminRequest(ctx, http.MethodPut, "/v1/objects/"+escapeName(name), body)
	if err != nil {
		return nil, err
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, o := range opts {
		o(req)
	}
	var out api.PublishResponse
	if _, err := c.doWith(c.adminHC, req, &out, http.StatusCreated); err != nil {
		return nil, err
	}
	return &out, nil
}

// List returns every object head.
func (c *Client) List(ctx context.Context) ([]*records.Object, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/objects", nil)
	if err != nil {
		return nil, err
	}
	var out api.ListResponse
	_, err = c.do(req, &out, http.StatusOK)
	return out.Objects, err
}

// Object returns an object's head and versions.
func (c *Client) Object(ctx context.Context, name string) (*api.ObjectResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/objects/"+escapeName(name), nil)
	if err != nil {
		return nil, err
	}
	var out api.ObjectResponse
	_, err = c.do(req, &out, http.StatusOK)
	return &out, err
}

// Manifest returns one version's manifest.
func (c *Client) Manifest(ctx context.Context, name, version string) (*records.Manifest, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/objects/"+escapeName(name)+"?version="+url.QueryEscape(version), nil)
	if err != nil {
		return nil, err
	}
	var out records.Manifest
	_, err = c.do(req, &out, http.StatusOK)
	return &out, err
}

// Purge tombstones a version ("" = latest) and deletes its shards.
func (c *Client) Purge(ctx context.Context, name, version, reason string) (*api.PurgeResponse, error) {
	q := url.Values{"reason": {reason}}
	if version != "" {
		q.Set("version", version)
	}
	req, err := c.adminRequest(ctx, http.MethodDelete, "/v1/objects/"+escapeName(name)+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	var out api.PurgeResponse
	_, err = c.doWith(c.adminHC, req, &out, http.StatusOK)
	return &out, err
}

// PurgeBy purges by surrogate key (hard or soft) or soft-purges by name
// (POST /v1/purge on the admin listener).
func (c *Client) PurgeBy(ctx context.Context, r records.PurgeRequest) (*api.PurgeByResponse, error) {
	b, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	req, err := c.adminRequest(ctx, http.MethodPost, api.PurgePath, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	var out api.PurgeByResponse
	if _, err := c.doWith(c.adminHC, req, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return &out, nil
}

// Nodes returns the ledger's node registry as the gateway reads it (GET
// /v1/nodes).
func (c *Client) Nodes(ctx context.Context) ([]*records.Node, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/nodes", nil)
	if err != nil {
		return nil, err
	}
	var out api.NodesResponse
	if _, err := c.do(req, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return out.Nodes, nil
}

// Mesh returns the gateway's operators' view (GET /v1/mesh), measured
// round trips included when measure is set.
func (c *Client) Mesh(ctx context.Context, measure bool) (*api.MeshResponse, error) {
	u := c.base + "/v1/mesh"
	if measure {
		u += "?measure=1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	var out api.MeshResponse
	if _, err := c.do(req, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return &out, nil
}

// Whoami returns the caller as the admin listener authenticated it.
func (c *Client) Whoami(ctx context.Context) (*api.WhoamiResponse, error) {
	req, err := c.adminRequest(ctx, http.MethodGet, "/v1/whoami", nil)
	if err != nil {
		return nil, err
	}
	var out api.WhoamiResponse
	_, err = c.doWith(c.adminHC, req, &out, http.StatusOK)
	return &out, err
}

// URL is the serve URL of name at version ("" = latest).
func (c *Client) URL(name, version string) string {
	u := c.base + "/cdn/" + escapeName(name)
	if version != "" {
		u += "@" + url.PathEscape(version)
	}
	return u
}

// Get fetches an object's content through the CDN path.
func (c *Client) Get(ctx context.Context, name, version string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL(name, version), nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, resp.Header, decodeError(resp)
	}
	b, err := io.ReadAll(resp.Body)
	return b, resp.Header, err
}

// IsCode reports whether err is an APIError with the given code.
func IsCode(err error, code string) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == code
}

// Loader returns the frontend loader's path and SRI integrity (GET
// /v1/loader).
func (c *Client) Loader(ctx context.Context) (*api.LoaderResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/loader", nil)
	if err != nil {
		return nil, err
	}
	var out api.LoaderResponse
	if _, err := c.do(req, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return &out, nil
}

// Gateways returns the consortium's gateways the gateway knows (GET
// /v1/gateways).
func (c *Client) Gateways(ctx context.Context) (*api.GatewaysResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+"/v1/gateways", nil)
	if err != nil {
		return nil, err
	}
	var out api.GatewaysResponse
	if _, err := c.do(req, &out, http.StatusOK); err != nil {
		return nil, err
	}
	return &out, nil
}
