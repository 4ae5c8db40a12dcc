package gatewayclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/receipts"
)

// The auditor's view of the admin listener (GET /v1/audit/...): the
// gateway names the authenticated caller to the chaincode, which decides
// what it may read.

// maxAuditAnswer bounds an audit answer read into memory.
const maxAuditAnswer = 256 << 20

// AuditPath is the path of an audit endpoint: elems are escaped and joined
// (an element with "/" keeps them, as object names and payout refs do).
func AuditPath(elems ...string) string {
	var b strings.Builder
	b.WriteString("/v1/audit")
	for _, e := range elems {
		b.WriteString("/")
		b.WriteString(escapeName(e))
	}
	return b.String()
}

// HistoryPath is the audit path of the history of a record: kind is one of
// records.HistoryKinds; key names it; sub is a manifest's version (a
// query) or an identity's certificate hash (a path element).
func HistoryPath(kind, key, sub string) string {
	switch kind {
	case records.HistoryManifest:
		return AuditPath("history", kind, key) + "?version=" + url.QueryEscape(sub)
	case records.HistoryIdentity:
		return AuditPath("history", kind, key, sub)
	default:
		return AuditPath("history", kind, key)
	}
}

// AuditRaw GETs an audit path (from AuditPath or HistoryPath) in format
// "json" or "csv" and returns the answer's body as the gateway sent it.
func (c *Client) AuditRaw(ctx context.Context, path, format string) ([]byte, error) {
	if format != "" {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += sep + "format=" + url.QueryEscape(format)
	}
	req, err := c.adminRequest(ctx, http.MethodGet, path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.adminHC.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, decodeError(resp)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAuditAnswer+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxAuditAnswer {
		return nil, fmt.Errorf("the answer of %s exceeds %d bytes", req.URL.Path, maxAuditAnswer)
	}
	return b, nil
}

func auditJSON[T any](ctx context.Context, c *Client, path string) (T, error) {
	var out T
	b, err := c.AuditRaw(ctx, path, "json")
	if err != nil {
		return out, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&out); err != nil {
		return out, fmt.Errorf("decode %s answer: %w", path, err)
	}
	return out, nil
}

// AuditHistory reads the history of a record (see HistoryPath).
func (c *Client) AuditHistory(ctx context.Context, kind, key, sub string) ([]*records.HistoryEntry, error) {
	return auditJSON[[]*records.HistoryEntry](ctx, c, HistoryPath(kind, key, sub))
}

// AuditNodePayments reads the payouts for a node's deliveries, each with
// its batch.
func (c *Client) AuditNodePayments(ctx context.Context, node string) (*records.NodePayments, error) {
	return auditJSON[*records.NodePayments](ctx, c, AuditPath("nodes", node, "payments"))
}

// AuditAccount reads an organisation's account.
func (c *Client) AuditAccount(ctx context.Context, mspID string) (*records.Account, error) {
	return auditJSON[*records.Account](ctx, c, AuditPath("accounts", mspID))
}

// AuditReceipt fetches the bundle of receipt index of a batch, from the
// gateway that committed it.
func (c *Client) AuditReceipt(ctx context.Context, batchID string, index int64) (*receipts.Bundle, error) {
	return auditJSON[*receipts.Bundle](ctx, c, AuditPath("batches", batchID, "receipts", strconv.FormatInt(index, 10)))
}

// AuditObject reads the ledger's manifest of an object version ("" = the
// latest).
func (c *Client) AuditObject(ctx context.Context, name, version string) (*records.Manifest, error) {
	p := AuditPath("objects", name)
	if version != "" {
		p += "?version=" + url.QueryEscape(version)
	}
	return auditJSON[*records.Manifest](ctx, c, p)
}

// SLAPath is the path of an SLA endpoint of the admin listener.
func SLAPath(elems ...string) string { return AuditPath(append([]string{"sla"}, elems...)...) }

func epochElem(epoch int64) string { return strconv.FormatInt(epoch, 10) }

// SLAEpoch reads the scoring record of an epoch.
func (c *Client) SLAEpoch(ctx context.Context, epoch int64) (*records.SLAEpoch, error) {
	return auditJSON[*records.SLAEpoch](ctx, c, SLAPath("epochs", epochElem(epoch)))
}

// SLAAttestations reads every attestation of an epoch.
func (c *Client) SLAAttestations(ctx context.Context, epoch int64) ([]*records.SLAAttestation, error) {
	return auditJSON[[]*records.SLAAttestation](ctx, c, SLAPath("epochs", epochElem(epoch), "attestations"))
}

// SLAHistory reads every breakdown of a node's score, oldest first.
func (c *Client) SLAHistory(ctx context.Context, node string) ([]*records.HistoryEntry, error) {
	return auditJSON[[]*records.HistoryEntry](ctx, c, SLAPath("nodes", node, "history"))
}

// GetNode reads a node's registration.
func (c *Client) GetNode(ctx context.Context, id string) (*records.Node, error) {
	return auditJSON[*records.Node](ctx, c, SLAPath("nodes", id, "record"))
}

// AuctionPath is the audit path of an auction's view: AuctionPath(id),
// AuctionPath(id, "reveals"), AuctionPath(id, "contracts").
func AuctionPath(elems ...string) string {
	return AuditPath(append([]string{"auctions"}, elems...)...)
}

// GetAuction reads an auction, with the inputs its clearing recorded.
func (c *Client) GetAuction(ctx context.Context, id string) (*records.Auction, error) {
	return auditJSON[*records.Auction](ctx, c, AuctionPath(id))
}

// AuctionReveals reads an auction's revealed bids.
func (c *Client) AuctionReveals(ctx context.Context, id string) ([]*records.Reveal, error) {
	return auditJSON[[]*records.Reveal](ctx, c, AuctionPath(id, "reveals"))
}

// AuctionContracts reads the contracts an auction awarded.
func (c *Client) AuctionContracts(ctx context.Context, id string) ([]*records.Contract, error) {
	return auditJSON[[]*records.Contract](ctx, c, AuctionPath(id, "contracts"))
}
