package ledger

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// ErrProfile marks a connection profile that cannot be read or does not
// name the peer asked for.
var ErrProfile = errors.New("connection profile")

// Profile is the part of a standard Fabric connection profile (the common
// connection profile format fabric-samples and the Fabric SDKs use, JSON or
// YAML) that locates a client organisation's peers.
type Profile struct {
	Name   string `json:"name" yaml:"name"`
	Client struct {
		// Organization is the key in Organizations of the client's
		// organisation.
		Organization string `json:"organization" yaml:"organization"`
	} `json:"client" yaml:"client"`
	Organizations map[string]ProfileOrg  `json:"organizations" yaml:"organizations"`
	Peers         map[string]ProfilePeer `json:"peers" yaml:"peers"`
	// Channels only matters by its keys: a profile naming exactly one
	// channel makes it the default channel.
	Channels map[string]any `json:"channels" yaml:"channels"`

	// dir resolves relative tlsCACerts paths (the profile's directory).
	dir string
}

// ProfileOrg is one organisation of a profile.
type ProfileOrg struct {
	MSPID string   `json:"mspid" yaml:"mspid"`
	Peers []string `json:"peers" yaml:"peers"`
}

// ProfilePeer is one peer of a profile: url is grpcs://host:port,
// tlsCACerts the CA of its TLS certificate inline (pem) or as a file
// (path), grpcOptions may override the TLS server name
// (ssl-target-name-override, or hostnameOverride).
type ProfilePeer struct {
	URL        string `json:"url" yaml:"url"`
	TLSCACerts struct {
		PEM  pemText `json:"pem" yaml:"pem"`
		Path string  `json:"path" yaml:"path"`
	} `json:"tlsCACerts" yaml:"tlsCACerts"`
	GRPCOptions map[string]any `json:"grpcOptions" yaml:"grpcOptions"`
}

// pemText is PEM text given as one string or a list of strings.
type pemText string

func (p *pemText) set(list []string) { *p = pemText(strings.Join(list, "\n")) }

func (p *pemText) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*p = pemText(s)
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("tlsCACerts.pem: want a string or a list of strings")
	}
	p.set(list)
	return nil
}

func (p *pemText) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode {
		var list []string
		if err := n.Decode(&list); err != nil {
			return err
		}
		p.set(list)
		return nil
	}
	var s string
	if err := n.Decode(&s); err != nil {
		return err
	}
	*p = pemText(s)
	return nil
}

// LoadProfile reads a connection profile file, JSON or YAML. Relative
// tlsCACerts paths in it are taken relative to the file's directory.
func LoadProfile(path string) (*Profile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProfile, err)
	}
	p, err := ParseProfile(b, filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ParseProfile parses a connection profile, JSON (a document starting with
// '{') or YAML; dir resolves relative tlsCACerts paths.
func ParseProfile(data []byte, dir string) (*Profile, error) {
	p := &Profile{dir: dir}
	var err error
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		err = json.Unmarshal(trimmed, p)
	} else {
		err = yaml.Unmarshal(data, p)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProfile, err)
	}
	return p, nil
}

// Settings returns the ledger settings the profile gives the client
// organisation: MSP id, and address, TLS CA and server name of the named
// peer ("" = the organisation's first peer), and the channel when the
// profile names exactly one. Identity files and chaincode are not part of
// a profile.
func (p *Profile) Settings(peer string) (Settings, error) {
	orgKey := p.Client.Organization
	if orgKey == "" {
		return Settings{}, fmt.Errorf("%w: client.organization is not set", ErrProfile)
	}
	org, ok := p.Organizations[orgKey]
	if !ok {
		return Settings{}, fmt.Errorf("%w: client organisation %q is not under organizations (%s)", ErrProfile, orgKey, keys(p.Organizations))
	}
	if org.MSPID == "" {
		return Settings{}, fmt.Errorf("%w: organisation %q has no mspid", ErrProfile, orgKey)
	}
	if peer == "" {
		if len(org.Peers) == 0 {
			return Settings{}, fmt.Errorf("%w: organisation %q lists no peers", ErrProfile, orgKey)
		}
		peer = org.Peers[0]
	}
	pp, ok := p.Peers[peer]
	if !ok {
		return Settings{}, fmt.Errorf("%w: no peer %q under peers (%s)", ErrProfile, peer, keys(p.Peers))
	}
	s := Settings{MSPID: org.MSPID, PeerServerName: pp.serverName()}
	var err error
	if s.PeerAddress, err = peerAddress(pp.URL); err != nil {
		return Settings{}, fmt.Errorf("%w: peer %q: %w", ErrProfile, peer, err)
	}
	switch {
	case strings.TrimSpace(string(pp.TLSCACerts.PEM)) != "":
		s.PeerTLSCAPEM = []byte(pp.TLSCACerts.PEM)
	case pp.TLSCACerts.Path != "":
		s.PeerTLSCA = pp.TLSCACerts.Path
		if !filepath.IsAbs(s.PeerTLSCA) && p.dir != "" {
			s.PeerTLSCA = filepath.Join(p.dir, s.PeerTLSCA)
		}
	default:
		return Settings{}, fmt.Errorf("%w: peer %q has neither tlsCACerts.pem nor tlsCACerts.path", ErrProfile, peer)
	}
	if len(p.Channels) == 1 {
		for ch := range p.Channels {
			s.Channel = ch
		}
	}
	return s, nil
}

// serverName is the TLS server name override of a peer, if any.
func (pp ProfilePeer) serverName() string {
	for _, k := range []string{"ssl-target-name-override", "hostnameOverride"} {
		if v, ok := pp.GRPCOptions[k].(string); ok && v != "" {
			return v
		}
	}
	return ""
}

// peerAddress turns a profile url (grpcs://host:port, or bare host:port)
// into host:port.
func peerAddress(url string) (string, error) {
	addr := url
	if scheme, rest, ok := strings.Cut(url, "://"); ok {
		switch scheme {
		case "grpcs":
			addr = rest
		case "grpc":
			return "", fmt.Errorf("url %q: plaintext grpc is not supported, DCT dials peers over TLS (grpcs://)", url)
		default:
			return "", fmt.Errorf("url %q: want grpcs://host:port", url)
		}
	}
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return "", fmt.Errorf("url %q: want grpcs://host:port: %v", url, err)
	}
	return addr, nil
}

func keys[V any](m map[string]V) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "none"
	}
	return strings.Join(out, ", ")
}

// MSPIdentity returns the certificate and private key files of an MSP
// directory as cryptogen and the Fabric CA client write it: the one file
// in signcerts/ and the one in keystore/.
func MSPIdentity(dir string) (certFile, keyFile string, err error) {
	one := func(sub string) (string, error) {
		d := filepath.Join(dir, sub)
		entries, err := os.ReadDir(d)
		if err != nil {
			return "", fmt.Errorf("%w: MSP directory %s: %w", ErrSettings, dir, err)
		}
		var files []string
		for _, e := range entries {
			if !e.IsDir() {
				files = append(files, e.Name())
			}
		}
		if len(files) != 1 {
			return "", fmt.Errorf("%w: MSP directory: %s: want exactly one file, found %d", ErrSettings, d, len(files))
		}
		return filepath.Join(d, files[0]), nil
	}
	if certFile, err = one("signcerts"); err != nil {
		return "", "", err
	}
	if keyFile, err = one("keystore"); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}
