package api

import "time"

// DashboardView is the JSON of GET /v1/dashboard (DashboardDataPath): this gateway's live
// view of the network, which the dashboard page polls. Counters are
// running totals since the gateway started; the page turns them into
// rates.
type DashboardView struct {
	Gateway  DashboardGateway  `json:"gateway"`
	At       time.Time         `json:"at"`
	Nodes    []DashboardNode   `json:"nodes"`
	Gateways []DashboardMember `json:"gateways"`
	Orgs     []DashboardOrg    `json:"orgs"`
	Requests DashboardRequests `json:"requests"`
	Fetch    DashboardFetch    `json:"fetch"`
	Repairs  DashboardRepairs  `json:"repairs"`
	Events   []DashboardEvent  `json:"events"`
	Block    uint64            `json:"lastBlock"`
	Live     map[string]bool   `json:"eventStreams"`
}

// DashboardGateway names the gateway answering.
type DashboardGateway struct {
	Name  string `json:"name"`
	MSPID string `json:"mspId"`
	URL   string `json:"url,omitempty"`
	Mesh  bool   `json:"mesh"`
}

// DashboardNode is one registered edge node as this gateway sees it.
type DashboardNode struct {
	ID        string  `json:"id"`
	Org       string  `json:"org"`
	Zone      string  `json:"zone"`
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
	// Active is the ledger's status; Health the mesh's (alive, suspect,
	// failed, unknown), RTTMs its estimate from this gateway.
	Active bool     `json:"active"`
	Health string   `json:"health"`
	RTTMs  *float64 `json:"rttMs,omitempty"`
	// SLAScore and SLAState are the ledger's last score (absent: none).
	SLAScore *int64 `json:"slaScore,omitempty"`
	SLAState string `json:"slaState,omitempty"`
	// Fetches, Failures and Hedges count this gateway's shard requests
	// to the node; LatencyMs is their smoothed latency.
	Fetches   int64   `json:"fetches"`
	Failures  int64   `json:"failures"`
	Hedges    int64   `json:"hedges"`
	LatencyMs float64 `json:"latencyMs"`
	// DeliveredBytes and Receipts are the node's accepted deliveries in
	// the receipt batches this gateway committed and proved.
	DeliveredBytes int64 `json:"deliveredBytes"`
	Receipts       int64 `json:"receipts"`
}

// DashboardMember is another gateway of the mesh.
type DashboardMember struct {
	Name   string   `json:"name"`
	Health string   `json:"health"`
	RTTMs  *float64 `json:"rttMs,omitempty"`
	URL    string   `json:"url,omitempty"`
}

// DashboardOrg sums an organisation's nodes, deliveries and the payouts
// to it in the batches this gateway proved.
type DashboardOrg struct {
	MSPID          string `json:"mspId"`
	Nodes          int    `json:"nodes"`
	Alive          int    `json:"alive"`
	DeliveredBytes int64  `json:"deliveredBytes"`
	Payouts        int64  `json:"payouts"`
	PayoutAmount   int64  `json:"payoutAmount"`
}

// DashboardFetch are the gateway's shard-fetch counters.
type DashboardFetch struct {
	Reads       int64   `json:"reads"`
	Launched    int64   `json:"launched"`
	Hedges      int64   `json:"hedges"`
	HedgeDelayM float64 `json:"hedgeDelayMs"`
}

// DashboardRepairs are the repairs this gateway recorded.
type DashboardRepairs struct {
	Count  int               `json:"count"`
	Recent []DashboardRepair `json:"recent"`
}

// DashboardRepair is one shard rebuilt on a new holder.
type DashboardRepair struct {
	Name      string   `json:"name"`
	Version   string   `json:"version"`
	Shard     int      `json:"shard"`
	Lost      []string `json:"lost"`
	NewHolder string   `json:"newHolder"`
	TxID      string   `json:"txId"`
}

// DashboardRequests are the gateway's running request totals.
type DashboardRequests struct {
	Requests     int64 `json:"requests"`
	Errors       int64 `json:"errors"`
	LatencyNanos int64 `json:"latencyNanos"`
	SentBytes    int64 `json:"sentBytes"`
}

// DashboardEvent is one recent ledger event: a committed chaincode event
// (manifest, sla, auction) or a receipt batch of this gateway.
type DashboardEvent struct {
	At     time.Time `json:"at"`
	Block  uint64    `json:"block,omitempty"`
	Kind   string    `json:"kind"`
	Detail string    `json:"detail"`
	TxID   string    `json:"txId,omitempty"`
}

// DashboardPath is where a gateway serves its dashboard page;
// DashboardDataPath the JSON the page polls.
const (
	DashboardPath     = "/dashboard/"
	DashboardDataPath = "/v1/dashboard"
)
