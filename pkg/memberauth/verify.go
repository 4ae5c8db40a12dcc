package memberauth

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// Errors of authentication.
var (
	// ErrUnauthenticated: the caller presented no client certificate, or
	// one that does not chain to any member's MSP root CA.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrRoleLookup: the caller's roles could not be read from the
	// registry (the ledger is unreachable).
	ErrRoleLookup = errors.New("role lookup failed")
	// ErrRoots marks unusable root CA settings.
	ErrRoots = errors.New("member root CAs")
)

// Member is an authenticated member identity: the organisation whose MSP
// root CA issued its certificate, and the certificate.
type Member struct {
	MSPID string `json:"mspId"`
	// CertHash is records.CertHash of the certificate: how the ledger's
	// registry names the identity.
	CertHash string `json:"certHash"`
	// Subject is the certificate's subject, for logs and messages.
	Subject string            `json:"subject"`
	Cert    *x509.Certificate `json:"-"`
}

// String names the member for logs and error messages.
func (m Member) String() string { return m.Subject + " of " + m.MSPID }

// Verifier checks client certificates against the members' MSP root CAs.
type Verifier struct {
	roots map[string]*x509.CertPool
	all   *x509.CertPool
	msps  []string
	now   func() time.Time

	// verified remembers chains that verified, so that a client making
	// many calls over one connection (a gateway reading shards) costs one
	// signature check per VerifyCacheTTL, not one per call.
	mu       sync.Mutex
	verified map[string]verifiedChain
}

// verifiedChain is a chain that verified, and until when that holds.
type verifiedChain struct {
	member Member
	until  time.Time // the earlier of the check's expiry and the chain's NotAfter
	from   time.Time // the latest NotBefore in the chain
}

// Bounds of the verification cache.
const (
	// VerifyCacheTTL is how long a verified chain is trusted without a
	// new signature check (the roots do not change while a process runs;
	// validity periods are checked on every use).
	VerifyCacheTTL = time.Minute
	// VerifyCacheSize bounds the chains remembered; when full, the cache
	// starts over.
	VerifyCacheSize = 1024
)

// VerifierOption configures a Verifier.
type VerifierOption func(*Verifier)

// WithVerifyTime sets the clock certificates are checked at (tests).
func WithVerifyTime(now func() time.Time) VerifierOption { return func(v *Verifier) { v.now = now } }

// NewVerifier returns a verifier trusting, for each MSP id, its root
// certificates. A CA certificate given for two MSP ids is refused: the CA
// that verifies a chain must tell the member.
func NewVerifier(roots map[string][]*x509.Certificate, opts ...VerifierOption) (*Verifier, error) {
	if len(roots) == 0 {
		return nil, fmt.Errorf("%w: no member root CA given", ErrRoots)
	}
	v := &Verifier{roots: map[string]*x509.CertPool{}, all: x509.NewCertPool(), now: time.Now}
	msps := slices.Sorted(maps.Keys(roots))
	owner := map[string]string{} // CA certificate hash -> MSP id
	for _, msp := range msps {
		certs := roots[msp]
		if err := records.ValidateMSPID("mspId", msp); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrRoots, err)
		}
		if len(certs) == 0 {
			return nil, fmt.Errorf("%w: %s has no root certificate", ErrRoots, msp)
		}
		pool := x509.NewCertPool()
		for _, c := range certs {
			if !c.IsCA {
				return nil, fmt.Errorf("%w: %s: %s is not a CA certificate", ErrRoots, msp, c.Subject)
			}
			// The CA that verifies a chain names the member: one CA
			// cannot stand for two.
			h := records.CertHash(c)
			if o, ok := owner[h]; ok && o != msp {
				return nil, fmt.Errorf("%w: CA %s is listed for both %s and %s", ErrRoots, c.Subject, o, msp)
			}
			owner[h] = msp
			pool.AddCert(c)
			v.all.AddCert(c)
		}
		v.roots[msp] = pool
	}
	v.msps = msps
	for _, o := range opts {
		o(v)
	}
	return v, nil
}

// ParseSpec splits a root CA setting MSPID=PATH.
func ParseSpec(spec string) (mspID, path string, err error) {
	msp, p, ok := strings.Cut(spec, "=")
	msp, p = strings.TrimSpace(msp), strings.TrimSpace(p)
	if !ok || msp == "" || p == "" {
		return "", "", fmt.Errorf("%w: %q: want MSPID=ca.pem (a PEM file or an MSP's cacerts directory)", ErrRoots, spec)
	}
	return msp, p, nil
}

// LoadVerifier reads the root CAs of settings MSPID=PATH, where PATH is a
// PEM file of one or more CA certificates or a directory of them (an MSP's
// cacerts/). An MSP id may be given more than once.
func LoadVerifier(specs []string, opts ...VerifierOption) (*Verifier, error) {
	roots := map[string][]*x509.Certificate{}
	for _, spec := range specs {
		msp, path, err := ParseSpec(spec)
		if err != nil {
			return nil, err
		}
		certs, err := loadCerts(path)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrRoots, msp, err)
		}
		roots[msp] = append(roots[msp], certs...)
	}
	return NewVerifier(roots, opts...)
}

// loadCerts reads every certificate of a PEM file, or of every file of a
// directory.
func loadCerts(path string) ([]*x509.Certificate, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	files := []string{path}
	if st.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, err
		}
		files = nil
		for _, e := range entries {
			if e.Type().IsRegular() {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
	}
	var out []*x509.Certificate
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		for {
			var block *pem.Block
			block, b = pem.Decode(b)
			if block == nil {
				break
			}
			if block.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no PEM certificate in %s", path)
	}
	return out, nil
}

// MSPIDs are the members the verifier knows, sorted.
func (v *Verifier) MSPIDs() []string { return slices.Clone(v.msps) }

// ClientCAs is the pool of every member's roots, for tls.Config.ClientCAs.
func (v *Verifier) ClientCAs() *x509.CertPool { return v.all }

// Verify authenticates a client's certificate chain as presented in TLS
// (leaf first, then any intermediates): the leaf must chain, for client
// authentication, to the roots of exactly one member. An empty chain or a
// certificate no member issued is ErrUnauthenticated. A chain that
// verified is remembered (VerifyCacheTTL, VerifyCacheSize) and trusted
// again without a signature check while every certificate in it is still
// within its validity period: a gateway making thousands of shard calls a
// second over one connection would otherwise cost the agent an ECDSA
// verification per call.
func (v *Verifier) Verify(chain []*x509.Certificate) (Member, error) {
	if len(chain) == 0 {
		return Member{}, fmt.Errorf("%w: no client certificate: present the enrollment certificate of a member's MSP identity (mutual TLS)", ErrUnauthenticated)
	}
	leaf := chain[0]
	now := v.now()
	key := chainKey(chain)
	v.mu.Lock()
	c, ok := v.verified[key]
	v.mu.Unlock()
	if ok && now.Before(c.until) && !now.Before(c.from) {
		return c.member, nil
	}
	m, chains, err := v.verify(leaf, chain[1:], now)
	if err != nil {
		return m, err
	}
	vc := verifiedChain{member: m, until: now.Add(VerifyCacheTTL)}
	for _, ch := range chains {
		for _, cert := range ch {
			if cert.NotAfter.Before(vc.until) {
				vc.until = cert.NotAfter
			}
			if cert.NotBefore.After(vc.from) {
				vc.from = cert.NotBefore
			}
		}
	}
	v.mu.Lock()
	if v.verified == nil || len(v.verified) >= VerifyCacheSize {
		v.verified = map[string]verifiedChain{}
	}
	v.verified[key] = vc
	v.mu.Unlock()
	return m, nil
}

// chainKey identifies a presented chain by its certificates' bytes.
func chainKey(chain []*x509.Certificate) string {
	h := sha256.New()
	for _, c := range chain {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(c.Raw)))
		h.Write(n[:])
		h.Write(c.Raw)
	}
	return string(h.Sum(nil))
}

// verify checks leaf against every member's roots at now, returning the
// chains it verified with.
func (v *Verifier) verify(leaf *x509.Certificate, intermediates []*x509.Certificate, now time.Time) (Member, [][]*x509.Certificate, error) {
	inter := x509.NewCertPool()
	for _, c := range intermediates {
		inter.AddCert(c)
	}
	var found []string
	var chains [][]*x509.Certificate
	var lastErr error
	for _, msp := range v.msps {
		cs, err := leaf.Verify(x509.VerifyOptions{
			Roots: v.roots[msp], Intermediates: inter, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		})
		if err != nil {
			lastErr = err
			continue
		}
		found = append(found, msp)
		chains = cs
	}
	switch len(found) {
	case 0:
		return Member{}, nil, fmt.Errorf("%w: certificate %q was not issued by the MSP of any member (%s): %v",
			ErrUnauthenticated, leaf.Subject.String(), strings.Join(v.msps, ", "), lastErr)
	case 1:
		return Member{MSPID: found[0], CertHash: records.CertHash(leaf), Subject: leaf.Subject.String(), Cert: leaf}, chains, nil
	default:
		return Member{}, nil, fmt.Errorf("%w: certificate %q chains to the roots of several members (%s)",
			ErrUnauthenticated, leaf.Subject.String(), strings.Join(found, ", "))
	}
}

// ServerTLSConfig is a TLS server configuration with the server pair that
// asks for, and verifies, client certificates of the members
// (tls.VerifyClientCertIfGiven): a client without one still gets an
// answer, which can then say that it is unauthenticated.
func ServerTLSConfig(pair tls.Certificate, v *Verifier) *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{pair},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    v.ClientCAs(),
		MinVersion:   tls.VersionTLS12,
	}
}
