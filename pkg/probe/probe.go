package probe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
)

// ErrUnhealthy marks an endpoint that answered, but not as healthy.
var ErrUnhealthy = errors.New("unhealthy")

// ErrTarget marks a target that is not http://, https:// or tcp://host:port.
var ErrTarget = errors.New("probe target")

// HTTP GETs url and returns nil when the answer is 200 OK.
func HTTP(ctx context.Context, rawURL string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTarget, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: GET %s: %s", ErrUnhealthy, rawURL, resp.Status)
	}
	return nil
}

// TCP returns nil when addr (host:port) accepts a connection.
func TCP(ctx context.Context, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%w: %w", ErrTarget, err)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	return c.Close()
}

// Target probes one target: an http:// or https:// URL (HTTP) or
// tcp://host:port (TCP).
func Target(ctx context.Context, target string) error {
	u, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("%w: %q: %w", ErrTarget, target, err)
	}
	switch u.Scheme {
	case "http", "https":
		return HTTP(ctx, target)
	case "tcp":
		return TCP(ctx, u.Host)
	default:
		return fmt.Errorf("%w: %q: want http://, https:// or tcp://host:port", ErrTarget, target)
	}
}

// LocalAddr turns a listen address into one a probe in the same container
// dials: an unspecified or empty host becomes 127.0.0.1.
func LocalAddr(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("%w: listen address %q: %w", ErrTarget, listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}
