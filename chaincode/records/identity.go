package records

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"slices"
	"strings"
)

// Role is what an identity may do in DCT. The chaincode checks the role of
// the caller of every write.
//
// RoleAdmin is not granted on the ledger: an organisation's admins are the
// identities its MSP classifies as admins (Fabric NodeOUs: the certificate
// carries the organisational unit "admin"). Every other role is granted to
// one certificate by an admin of the certificate's own organisation, with
// identity:Grant, and recorded with history.
type Role string

// Roles.
const (
	// RoleAdmin: an organisation's admin (from the certificate's NodeOU);
	// grants and revokes the roles of its organisation's identities and
	// manages its nodes.
	RoleAdmin Role = "admin"
	// RolePublisher: publishes and purges the organisation's content (the
	// gateway acts for it after authenticating it).
	RolePublisher Role = "publisher"
	// RoleGateway: a DCT gateway of the organisation: records manifests on
	// behalf of authenticated publishers, repairs shard holders, and is the
	// only identity edge agents serve.
	RoleGateway Role = "gateway"
	// RoleNode: one edge node's identity, bound to its node id: it may
	// register and update that node and nothing else.
	RoleNode Role = "node"
	// RoleAuditor: reads everything, including what is private to other
	// organisations; writes nothing.
	RoleAuditor Role = "auditor"
)

// AdminOU is the organisational unit Fabric's NodeOUs put in an admin's
// certificate.
const AdminOU = "admin"

// GrantableRoles are the roles identity:Grant gives.
var GrantableRoles = []Role{RolePublisher, RoleGateway, RoleNode, RoleAuditor}

// String returns the role name.
func (r Role) String() string { return string(r) }

// Validate checks that r is a role identity:Grant can give.
func (r Role) Validate() error {
	if slices.Contains(GrantableRoles, r) {
		return nil
	}
	if r == RoleAdmin {
		return invalidf("role %q comes from the certificate's NodeOU and cannot be granted", r)
	}
	return invalidf("unknown role %s (want one of %s)", quote(string(r)), roleList(GrantableRoles))
}

func roleList(rs []Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// IdentityKeyType is the composite key object type of identity grants; the
// attributes are [mspId, certHash].
const IdentityKeyType = "dct.identity"

// IdentityKey returns the ledger key of the grant of a certificate of an
// organisation.
func IdentityKey(mspID, certHash string) (string, error) {
	if err := ValidateMSPID("mspId", mspID); err != nil {
		return "", err
	}
	if err := validateSHA256Hex("certHash", certHash); err != nil {
		return "", err
	}
	return CompositeKey(IdentityKeyType, mspID, certHash)
}

// CertHash is the hex SHA-256 of a certificate's DER bytes: how the
// registry names an identity.
func CertHash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return hex.EncodeToString(sum[:])
}

// maxCertPEM bounds the certificate given to identity:Grant.
const maxCertPEM = 16 << 10

// ParseCertificatePEM parses one PEM certificate.
func ParseCertificatePEM(s string) (*x509.Certificate, error) {
	if len(s) > maxCertPEM {
		return nil, invalidf("certificate is %d bytes, at most %d", len(s), maxCertPEM)
	}
	block, rest := pem.Decode([]byte(s))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, invalidf("certificate is not a PEM CERTIFICATE block")
	}
	if strings.TrimSpace(string(rest)) != "" {
		return nil, invalidf("certificate has data after its PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, invalidf("certificate does not parse: %v", err)
	}
	return cert, nil
}

// GrantInput is what an admin gives identity:Grant: a member certificate of
// the admin's organisation and the roles it gets (replacing any it had).
// NodeID is required with RoleNode and binds the identity to that node.
type GrantInput struct {
	Certificate string `json:"certificate"`
	Roles       []Role `json:"roles"`
	NodeID      string `json:"nodeId,omitempty" metadata:",optional"`
}

// Validate checks the input and returns the parsed certificate.
func (in *GrantInput) Validate() (*x509.Certificate, error) {
	if in == nil {
		return nil, invalidf("grant input is missing")
	}
	cert, err := ParseCertificatePEM(in.Certificate)
	if err != nil {
		return nil, err
	}
	if len(in.Roles) == 0 {
		return nil, invalidf("roles: at least one role is needed (identity:Revoke removes all)")
	}
	seen := map[Role]bool{}
	for _, r := range in.Roles {
		if err := r.Validate(); err != nil {
			return nil, err
		}
		if seen[r] {
			return nil, invalidf("roles: %s is listed twice", r)
		}
		seen[r] = true
	}
	switch {
	case seen[RoleNode] && in.NodeID == "":
		return nil, invalidf("nodeId: the node role needs the node id the identity acts for")
	case seen[RoleNode] && len(in.Roles) > 1:
		return nil, invalidf("roles: a node identity has the node role only")
	case !seen[RoleNode] && in.NodeID != "":
		return nil, invalidf("nodeId: only the node role is bound to a node")
	}
	if in.NodeID != "" {
		if err := ValidateNodeID(in.NodeID); err != nil {
			return nil, err
		}
	}
	return cert, nil
}

// Identity is one certificate's grant: its roles in its organisation.
type Identity struct {
	MSPID    string `json:"mspId"`
	CertHash string `json:"certHash"`
	// Subject is the certificate's subject, for people reading the
	// registry.
	Subject string `json:"subject"`
	Roles   []Role `json:"roles"`
	NodeID  string `json:"nodeId,omitempty" metadata:",optional"`
	// GrantedBy is the admin's subject; GrantedAt and TxID the grant's
	// transaction.
	GrantedBy string `json:"grantedBy"`
	GrantedAt string `json:"grantedAt"`
	TxID      string `json:"txId"`
}

// Has reports whether the identity has role r.
func (id *Identity) Has(r Role) bool { return id != nil && slices.Contains(id.Roles, r) }

// Caller is who called a transaction, as the chaincode sees it: the
// organisation, the certificate, and the roles from the NodeOU and the
// registry.
type Caller struct {
	MSPID    string `json:"mspId"`
	CertHash string `json:"certHash"`
	Subject  string `json:"subject"`
	Roles    []Role `json:"roles"`
	NodeID   string `json:"nodeId,omitempty" metadata:",optional"`
}

// Has reports whether the caller has role r.
func (c *Caller) Has(r Role) bool { return c != nil && slices.Contains(c.Roles, r) }

// String names the caller for error messages.
func (c *Caller) String() string {
	if c == nil {
		return "unknown caller"
	}
	return c.Subject + " of " + c.MSPID
}

// OrgSlug is the node-id suffix of an organisation: its MSP id in lower
// case, runs of other characters than letters and digits turned into one
// "-", and a trailing "msp" dropped ("Org1MSP" → "org1", "bank-a.msp" →
// "bank-a"). Node ids are namespaced by it: an organisation registers only
// ids that end with "-" + OrgSlug(its MSP id), so that no member can
// register, and so squat, an id another member's nodes will use.
func OrgSlug(mspID string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(mspID) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
			continue
		}
		dash = true
	}
	s := b.String()
	if t := strings.TrimRight(strings.TrimSuffix(s, "msp"), "-"); t != "" {
		s = t
	}
	return s
}

// CheckNodeNamespace reports (CodeForbidden) a node id outside the
// namespace of organisation mspID (see OrgSlug).
func CheckNodeNamespace(id, mspID string) error {
	suffix := "-" + OrgSlug(mspID)
	if !strings.HasSuffix(id, suffix) || len(id) == len(suffix) {
		return Errorf(CodeForbidden, "node id %s is outside the namespace of %s: its node ids end with %q", quote(id), mspID, suffix)
	}
	return nil
}
