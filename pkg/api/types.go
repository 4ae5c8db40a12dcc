package api

import (
	"encoding/json"

	"github.com/dct-network/dct/chaincode/records"
)

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

// PurgeByResponse is the answer to a purge by surrogate key (POST
// /v1/purge) or a soft purge by name (DELETE /v1/objects/{name}?mode=soft)
// on the admin listener.
type PurgeByResponse struct {
	// Purge is the ledger's record: the versions reached (targets), the
	// mode, the purging organisation and transaction.
	Purge *records.PurgeRecord `json:"purge"`
	// ShardsDeleted counts the shard copies a hard purge deleted.
	ShardsDeleted int `json:"shardsDeleted"`
	// DeleteErrors names the copies that could not be deleted.
	DeleteErrors []string `json:"deleteErrors"`
}

// NodesResponse is the answer to GET /v1/nodes: the ledger's node
// registry, sorted by id.
type NodesResponse struct {
	Nodes []*records.Node `json:"nodes"`
}

// SurrogateKeyHeader carries an object version's surrogate keys, separated
// by spaces: sent with a publish (PUT) to tag the version, served with its
// content.
const SurrogateKeyHeader = "Surrogate-Key"

// OpenAPIPath is where the gateway serves its OpenAPI 3 document.
const OpenAPIPath = "/v1/openapi.json"

// PurgePath is the admin listener's purge-by-key endpoint (POST, a
// records.PurgeRequest as JSON).
const PurgePath = "/v1/purge"

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

// MeshResponse is the answer to GET /v1/mesh, as clients read it.
type MeshResponse struct {
	Fetches MeshFetches `json:"fetches"`
	Purges  MeshPurges  `json:"purges"`
	// Mesh is the gossip map (MeshMap), or with ?measure=1 an object
	// holding it under "map" beside "measuredRttMs"; absent without a
	// mesh.
	Mesh json.RawMessage `json:"mesh,omitempty"`
}

// MeshFetches are the gateway's shard-fetch counters.
type MeshFetches struct {
	Reads    int64                      `json:"reads"`
	Needed   int64                      `json:"needed"`
	Launched int64                      `json:"launched"`
	Hedges   int64                      `json:"hedges"`
	Nodes    map[string]MeshNodeFetches `json:"nodes"`
}

// MeshNodeFetches are one node's shard-fetch counters.
type MeshNodeFetches struct {
	Fetches     int64 `json:"fetches"`
	Failures    int64 `json:"failures"`
	Hedges      int64 `json:"hedges"`
	LatencyEWMA int64 `json:"latencyEwmaNs"`
}

// MeshPurges count what purges did to the gateway's caches.
type MeshPurges struct {
	Invalidations int64 `json:"invalidations"`
	Revalidations int64 `json:"revalidations"`
}

// MeshMap is the gossip latency map as the gateway sees it.
type MeshMap struct {
	Self    MeshMember   `json:"self"`
	Members []MeshMember `json:"members"`
}

// MeshMember is one gossip member.
type MeshMember struct {
	Name          string   `json:"name"`
	Role          string   `json:"role"`
	NodeID        string   `json:"nodeId,omitempty"`
	Addr          string   `json:"addr"`
	Status        string   `json:"status"`
	RTTEstimateMs *float64 `json:"rttEstimateMs,omitempty"`
}

// Map decodes the gossip map of the answer (nil without a mesh), and the
// measured round trips in milliseconds by member when asked for.
func (r *MeshResponse) Map() (*MeshMap, map[string]float64, error) {
	if len(r.Mesh) == 0 || string(r.Mesh) == "null" {
		return nil, nil, nil
	}
	var measured struct {
		Map      *MeshMap           `json:"map"`
		Measured map[string]float64 `json:"measuredRttMs"`
	}
	if err := json.Unmarshal(r.Mesh, &measured); err == nil && measured.Map != nil {
		return measured.Map, measured.Measured, nil
	}
	var m MeshMap
	if err := json.Unmarshal(r.Mesh, &m); err != nil {
		return nil, nil, err
	}
	return &m, nil, nil
}
