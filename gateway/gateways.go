package gateway

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/dct-network/dct/pkg/mesh"
)

// maxGateways bounds the gateways GET /v1/gateways lists.
const maxGateways = 64

// errGatewayURL marks a malformed gateway base URL.
var errGatewayURL = errors.New("gateway URL")

// GatewayURL checks a gateway's public base URL and returns its canonical
// form, scheme://host[:port] (lower-case scheme and host): http or https,
// a host, and no user, path (but "/"), query or fragment.
func GatewayURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", fmt.Errorf("%w %q: %v", errGatewayURL, s, err)
	}
	scheme := strings.ToLower(u.Scheme)
	switch {
	case scheme != "http" && scheme != "https":
		return "", fmt.Errorf("%w %q: want http:// or https://", errGatewayURL, s)
	case u.Host == "" || u.Hostname() == "":
		return "", fmt.Errorf("%w %q: no host", errGatewayURL, s)
	case u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return "", fmt.Errorf("%w %q: want scheme://host:port only", errGatewayURL, s)
	}
	return scheme + "://" + strings.ToLower(u.Host), nil
}

// publicURL is the gateway's public base URL: PublicURL, else
// http://<Listen> when Listen names a host (not a wildcard) and a port
// (not 0), else "".
func publicURL(cfg Config) string {
	if cfg.PublicURL != "" {
		u, _ := GatewayURL(cfg.PublicURL) // validated
		return u
	}
	host, port, err := net.SplitHostPort(cfg.Listen)
	if err != nil || host == "" || port == "0" {
		return ""
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return ""
	}
	u, err := GatewayURL("http://" + cfg.Listen)
	if err != nil {
		return ""
	}
	return u
}

// gatewayDirectory lists the consortium's gateways for GET /v1/gateways:
// this one's public URL, the configured peers, then the gateway members of
// the mesh that are up and advertise a valid public URL (mesh.TagPublicURL),
// without repeats, at most maxGateways.
func gatewayDirectory(cfg Config, m *mesh.Mesh) func() (string, []string) {
	self := publicURL(cfg)
	var static []string
	add := func(list []string, s string) []string {
		u, err := GatewayURL(s)
		if err != nil || slices.Contains(list, u) || len(list) >= maxGateways {
			return list
		}
		return append(list, u)
	}
	if self != "" {
		static = add(static, self)
	}
	for _, p := range cfg.PeerGateways {
		static = add(static, p)
	}
	return func() (string, []string) {
		out := slices.Clone(static)
		if out == nil {
			out = []string{}
		}
		if m == nil {
			return self, out
		}
		for _, mb := range m.Members() {
			if mb.Role == mesh.RoleGateway && mb.Status.Up() && mb.Tags[mesh.TagPublicURL] != "" {
				out = add(out, mb.Tags[mesh.TagPublicURL])
			}
		}
		return self, out
	}
}
