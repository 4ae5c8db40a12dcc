package api

import "github.com/dct-network/dct/chaincode/records"

// PublishResponse is the answer to a publish (201).
type PublishResponse struct {
	Name        string `json:"name"`
	Version     string `json:"version"`
	Size        int64  `json:"size"`
	ContentType string `json:"contentType"`
	SHA256      string `json:"sha256"`
	Integrity   string `json:"integrity"`
	K           int    `json:"k"`
	M           int    `json:"m"`
	// StripeUnit is the bytes of one shard per stripe (the manifest's
	// stripe unit).
	StripeUnit int64 `json:"stripeUnit"`
	// Placement lists the holders of each shard, by shard index.
	Placement    [][]string `json:"placement"`
	TxID         string     `json:"txId"`
	CreatedAt    string     `json:"createdAt"`
	URL          string     `json:"url"`
	VersionedURL string     `json:"versionedUrl"`
}

// NewPublishResponse describes a recorded manifest.
func NewPublishResponse(m *records.Manifest) PublishResponse {
	p := PublishResponse{
		Name: m.Name, Version: m.Version, Size: m.Size, ContentType: m.ContentType, SHA256: m.SHA256,
		Integrity: m.Integrity, K: m.K, M: m.M, StripeUnit: m.StripeUnit, TxID: m.TxID, CreatedAt: m.CreatedAt,
		URL: CDNURL(m.Name, ""), VersionedURL: CDNURL(m.Name, m.Version),
	}
	for _, s := range m.Shards {
		p.Placement = append(p.Placement, s.Nodes)
	}
	return p
}

// CDNURL is the serve path of name at version ("" = latest), unescaped.
func CDNURL(name, version string) string {
	if version == "" {
		return "/cdn/" + name
	}
	return "/cdn/" + name + "@" + version
}

// ListResponse is the answer to GET /v1/objects.
type ListResponse struct {
	Objects []*records.Object `json:"objects"`
}

// ObjectResponse is the answer to GET /v1/objects/{name}: the object head
// with every version's manifest.
type ObjectResponse struct {
	Object   *records.Object     `json:"object"`
	Versions []*records.Manifest `json:"versions"`
}

// PurgeResponse is the answer to DELETE /v1/objects/{name}.
type PurgeResponse struct {
	// Manifest is the purged version's manifest with its tombstone.
	Manifest *records.Manifest `json:"manifest"`
	// ShardsDeleted counts the shard copies deleted from the agents.
	ShardsDeleted int `json:"shardsDeleted"`
	// DeleteErrors names the copies that could not be deleted.
	DeleteErrors []string `json:"deleteErrors"`
}

// HealthResponse is the answer to GET /healthz when the gateway is ready.
type HealthResponse struct {
	Status      string `json:"status"`
	CachedBytes int64  `json:"cachedBytes"`
	// ManifestEvents is "live" while the gateway follows the ledger's
	// manifest events (cached manifests are dropped as soon as they
	// change), "polling" while it falls back to the manifest TTL.
	ManifestEvents string `json:"manifestEvents"`
}

// WhoamiResponse is the answer to GET /v1/whoami on the admin listener:
// the caller as the gateway authenticated it.
type WhoamiResponse struct {
	MSPID    string         `json:"mspId"`
	CertHash string         `json:"certHash"`
	Subject  string         `json:"subject"`
	Roles    []records.Role `json:"roles"`
	// Gateway is the MSP id of the organisation the gateway acts for;
	// only its publishers may publish and purge there.
	Gateway string `json:"gateway"`
}

// LoaderPath is where every gateway's public listener serves the frontend
// loader script.
const LoaderPath = "/dct-loader.js"

// LoaderResponse is the answer to GET /v1/loader: what a portal page needs
// to include the frontend loader pinned with Subresource Integrity.
type LoaderResponse struct {
	// URL is the loader's path on every gateway (LoaderPath).
	URL string `json:"url"`
	// Integrity is the SRI value (sha384) of the loader's bytes.
	Integrity string `json:"integrity"`
	// ETag is the strong validator the gateway serves it with.
	ETag string `json:"etag"`
	Size int    `json:"size"`
}

// GatewaysResponse is the answer to GET /v1/gateways: the public base URLs
// (scheme://host:port) of the consortium's gateways this gateway knows.
type GatewaysResponse struct {
	// Self is this gateway's public base URL ("" when it has none
	// configured and its listen address names no host).
	Self string `json:"self,omitempty"`
	// Gateways lists Self first, then the configured peers, then the
	// gateways the mesh knows alive, without repeats.
	Gateways []string `json:"gateways"`
}
