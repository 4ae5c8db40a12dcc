package gatewayclient

import (
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

// Client talks to one gateway.
type Client struct {
	base string
	hc   *http.Client
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient uses hc (default: http.DefaultClient).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

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

func escapeName(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func (c *Client) do(req *http.Request, out any, okStatus ...int) (*http.Response, error) {
	resp, err := c.hc.Do(req)
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

// Publish uploads size bytes from body as the next version of name.
func (c *Client) Publish(ctx context.Context, name, contentType string, size int64, body io.Reader) (*api.PublishResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, c.base+"/v1/objects/"+escapeName(name), body)
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
	var out api.PublishResponse
	if _, err := c.do(req, &out, http.StatusCreated); err != nil {
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
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, c.base+"/v1/objects/"+escapeName(name)+"?"+q.Encode(), nil)
	if err != nil {
		return nil, err
	}
	var out api.PurgeResponse
	_, err = c.do(req, &out, http.StatusOK)
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
