package records

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"math"
	"strings"
)

// NodeStatus is the lifecycle state of a node.
type NodeStatus string

// Node states.
const (
	NodeStatusActive   NodeStatus = "active"
	NodeStatusInactive NodeStatus = "inactive"
)

// String returns the status text.
func (s NodeStatus) String() string { return string(s) }

// Valid reports whether s is a defined status.
func (s NodeStatus) Valid() bool {
	return s == NodeStatusActive || s == NodeStatusInactive
}

// NodeInput holds the node fields a caller supplies to node:Register and
// node:Update. Org is optional; when present it must equal the caller's MSP
// ID, because the chaincode sets the owner from the caller's identity.
type NodeInput struct {
	ID           string  `json:"id"`
	Org          string  `json:"org,omitempty" metadata:",optional"`
	Endpoint     string  `json:"endpoint"`
	Zone         string  `json:"zone"`
	Latitude     float64 `json:"latitude"`
	Longitude    float64 `json:"longitude"`
	StorageBytes int64   `json:"storageBytes"`
	BandwidthBps int64   `json:"bandwidthBps"`
	PublicKey    string  `json:"publicKey"`
}

// Validate checks every field of the input. The error is an *Error with
// CodeInvalid.
func (in *NodeInput) Validate() error {
	if err := in.ValidateSettings(); err != nil {
		return err
	}
	if in.Org != "" {
		if err := ValidateMSPID("org", in.Org); err != nil {
			return err
		}
	}
	if err := ValidateEndpoint(in.Endpoint); err != nil {
		return err
	}
	return ValidatePublicKey(in.PublicKey)
}

// ValidateSettings checks the fields a node's operator configures: id,
// zone, location, storage and bandwidth. Validate checks them too, with
// the org, endpoint and public key, which are often known only once the
// node runs; an edge agent checks its configuration with ValidateSettings
// before it starts. The error is an *Error with CodeInvalid.
func (in *NodeInput) ValidateSettings() error {
	if in == nil {
		return invalidf("node input is missing")
	}
	if err := ValidateNodeID(in.ID); err != nil {
		return err
	}
	if err := matchField("zone", in.Zone, zoneRe, ZonePattern); err != nil {
		return err
	}
	if math.IsNaN(in.Latitude) || in.Latitude < -90 || in.Latitude > 90 {
		return invalidf("latitude must be in -90..90, got %v", in.Latitude)
	}
	if math.IsNaN(in.Longitude) || in.Longitude < -180 || in.Longitude > 180 {
		return invalidf("longitude must be in -180..180, got %v", in.Longitude)
	}
	if in.StorageBytes <= 0 {
		return invalidf("storageBytes must be greater than 0, got %d", in.StorageBytes)
	}
	if in.BandwidthBps <= 0 {
		return invalidf("bandwidthBps must be greater than 0, got %d", in.BandwidthBps)
	}
	return nil
}

// ValidatePublicKey checks that s is exactly one PEM "PUBLIC KEY" block
// holding a PKIX encoded ECDSA P-256 or Ed25519 public key.
func ValidatePublicKey(s string) error {
	if s == "" {
		return invalidf("publicKey must not be empty")
	}
	if len(s) > MaxPublicKeyLength {
		return invalidf("publicKey must be at most %d bytes", MaxPublicKeyLength)
	}
	block, rest := pem.Decode([]byte(s))
	if block == nil {
		return invalidf("publicKey must be a PEM block")
	}
	if block.Type != "PUBLIC KEY" {
		return invalidf("publicKey must be a PEM \"PUBLIC KEY\" block, got %s", quote(block.Type))
	}
	if strings.TrimSpace(string(rest)) != "" {
		return invalidf("publicKey must hold exactly one PEM block")
	}
	key, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return invalidf("publicKey is not a PKIX public key: %v", err)
	}
	switch k := key.(type) {
	case *ecdsa.PublicKey:
		if k.Curve != elliptic.P256() {
			return invalidf("publicKey ECDSA curve must be P-256, got %s", k.Curve.Params().Name)
		}
	case ed25519.PublicKey:
	default:
		return invalidf("publicKey must be an ECDSA P-256 or Ed25519 key, got %T", key)
	}
	return nil
}

// Node is the ledger record of a CDN node, stored under NodeKey(id).
type Node struct {
	// ID is the node id (NodeIDPattern).
	ID string `json:"id"`
	// Org is the MSP ID of the owning organisation, set by the chaincode.
	Org string `json:"org"`
	// Endpoint is the node's "host:port".
	Endpoint string `json:"endpoint"`
	// Zone names the node's placement zone (ZonePattern).
	Zone      string  `json:"zone"`
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	// StorageBytes is the storage capacity offered, in bytes.
	StorageBytes int64 `json:"storageBytes"`
	// BandwidthBps is the bandwidth offered, in bits per second.
	BandwidthBps int64 `json:"bandwidthBps"`
	// PublicKey is the node's PEM "PUBLIC KEY" (ECDSA P-256 or Ed25519).
	PublicKey string     `json:"publicKey"`
	Status    NodeStatus `json:"status"`
	// DeactivationReason is set while the node is inactive, when given.
	DeactivationReason string `json:"deactivationReason,omitempty" metadata:",optional"`
	// RegisteredAt and UpdatedAt are transaction timestamps (TimestampLayout).
	RegisteredAt string `json:"registeredAt"`
	UpdatedAt    string `json:"updatedAt"`
	// LastTxID is the id of the last transaction that wrote the record.
	LastTxID string `json:"lastTxId"`
}

// String returns the node id.
func (n *Node) String() string {
	if n == nil {
		return "<nil>"
	}
	return n.ID
}

// Active reports whether the node is active.
func (n *Node) Active() bool { return n != nil && n.Status == NodeStatusActive }

// Input returns the caller-supplied part of the record.
func (n *Node) Input() NodeInput {
	if n == nil {
		return NodeInput{}
	}
	return NodeInput{
		ID:           n.ID,
		Org:          n.Org,
		Endpoint:     n.Endpoint,
		Zone:         n.Zone,
		Latitude:     n.Latitude,
		Longitude:    n.Longitude,
		StorageBytes: n.StorageBytes,
		BandwidthBps: n.BandwidthBps,
		PublicKey:    n.PublicKey,
	}
}

// Validate checks the record: the caller-supplied fields, the owner and the
// status. The error is an *Error with CodeInvalid.
func (n *Node) Validate() error {
	if n == nil {
		return invalidf("node is missing")
	}
	in := n.Input()
	if err := in.Validate(); err != nil {
		return err
	}
	if err := ValidateMSPID("org", n.Org); err != nil {
		return err
	}
	if !n.Status.Valid() {
		return invalidf("status must be %q or %q, got %s", NodeStatusActive, NodeStatusInactive, quote(string(n.Status)))
	}
	return ValidateDeactivationReason(n.DeactivationReason)
}
