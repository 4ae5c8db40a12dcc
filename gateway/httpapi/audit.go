package httpapi

import (
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/receipts"
	"github.com/gin-gonic/gin"
)

// AuditLedger is what the audit endpoints read of the ledger
// (*ledger.Client). The audit calls name the authenticated caller (As):
// the chaincode decides what it may read.
type AuditLedger interface {
	AuditHistory(ctx context.Context, kind, key, sub string, as ledger.As) ([]*records.HistoryEntry, error)
	AuditNodePayments(ctx context.Context, id string, as ledger.As) (*records.NodePayments, error)
	AuditAccount(ctx context.Context, mspID string, as ledger.As) (*records.Account, error)
	GetBatch(ctx context.Context, id string) (*records.Batch, error)
	GetManifest(ctx context.Context, name, version string) (*records.Manifest, error)
	LatestManifest(ctx context.Context, name string) (*records.Manifest, error)
}

// ReceiptBundles builds receipt bundles from the gateway's receipt log
// (receipts.NewBundle); an error wraps receipts.ErrNotInLog when the batch
// is another gateway's.
type ReceiptBundles interface {
	Bundle(ctx context.Context, b *records.Batch, index int64) (*receipts.Bundle, error)
}

// errNoAudit: the gateway was built without the audit view.
var errNoAudit = errors.New("no audit view")

// Output formats of the audit endpoints (?format=).
const (
	formatJSON = "json"
	formatCSV  = "csv"
)

// audit serves the auditor's view on the admin listener:
//
//	GET /v1/audit/history/{kind}/{key}      kind: records.HistoryKinds; manifest takes ?version=, identity MSP/certHash
//	GET /v1/audit/nodes/{id}/payments       the payouts for a node's deliveries, each with its batch
//	GET /v1/audit/accounts/{msp}            an organisation's account
//	GET /v1/audit/batches/{id}/receipts/{i} a receipt bundle from this gateway's log
//	GET /v1/audit/objects/{name}            the ledger's manifest (?version=, default latest)
//	GET /v1/audit/sla/...                   SLA scores and their evidence (slaView)
//	GET /v1/audit/auctions/...              an auction and its evidence (auctionView)
//
// with ?format=json (default) or csv.
type audit struct {
	*admin
	ledger   AuditLedger
	receipts ReceiptBundles
	sla      SLALedger
	auctions AuctionLedger
}

func (a *audit) routes(r *gin.Engine) {
	(&slaView{ledger: a.sla}).routes(r.Group("/v1/audit", a.format))
	(&auctionView{ledger: a.auctions}).routes(r.Group("/v1/audit", a.format))
	g := r.Group("/v1/audit", serves("audit", a.ledger != nil), a.format)
	g.GET("/history/:kind/*key", a.history)
	g.GET("/nodes/:id/payments", a.payments)
	g.GET("/accounts/:msp", a.account)
	g.GET("/batches/:id/receipts/:index", a.receipt)
	g.GET("/objects/*name", a.object)
}

// as names the authenticated caller for the chaincode.
func as(c *gin.Context) ledger.As {
	id := caller(c)
	return ledger.As{MSPID: id.MSPID, CertHash: id.CertHash}
}

// serves lets a request through to a view of the admin listener when the
// gateway was built with it (present), else answers 404 NOT_FOUND
// (errNoAudit).
func serves(view string, present bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		if !present {
			writeError(c, fmt.Errorf("%w: %w: this gateway serves no %s view", content.ErrNotFound, errNoAudit, view))
			return
		}
		c.Next()
	}
}

const formatKey = "dct.format"

// format checks ?format=.
func (a *audit) format(c *gin.Context) {
	f := c.DefaultQuery("format", formatJSON)
	if f != formatJSON && f != formatCSV {
		writeError(c, fmt.Errorf("%w: format must be json or csv, got %q", content.ErrInvalid, f))
		return
	}
	c.Set(formatKey, f)
	c.Next()
}

// table is the CSV form of an answer: a header row and one row per record.
type table struct {
	header []string
	rows   [][]string
}

// answer writes v as JSON, or t as CSV when the request asked for it.
func answer(c *gin.Context, v any, t func() table) {
	c.Header("Cache-Control", "no-store")
	if c.GetString(formatKey) != formatCSV {
		c.JSON(http.StatusOK, v)
		return
	}
	tb := t()
	c.Status(http.StatusOK)
	c.Header("Content-Type", "text/csv; charset=utf-8")
	w := csv.NewWriter(c.Writer)
	_ = w.Write(tb.header)
	_ = w.WriteAll(tb.rows) // WriteAll flushes
}

func i64(v int64) string { return strconv.FormatInt(v, 10) }

// auditErr marks the ledger's failures that are not the chaincode's
// answers as the ledger being unavailable (see statusOf).
func auditErr(err error) error {
	if records.CodeOf(err) != "" || errors.Is(err, receipts.ErrNotInLog) || errors.Is(err, receipts.ErrBundle) {
		return err
	}
	return fmt.Errorf("%w: %w", content.ErrLedger, err)
}

func (a *audit) history(c *gin.Context) {
	kind := c.Param("kind")
	key := strings.TrimPrefix(c.Param("key"), "/")
	sub := ""
	switch kind {
	case records.HistoryManifest:
		sub = c.Query("version")
		if sub == "" {
			writeError(c, fmt.Errorf("%w: the history of a manifest needs ?version=", content.ErrInvalid))
			return
		}
	case records.HistoryIdentity:
		i := strings.LastIndexByte(key, '/')
		if i < 0 {
			writeError(c, fmt.Errorf("%w: an identity is named MSPID/certHash", content.ErrInvalid))
			return
		}
		key, sub = key[:i], key[i+1:]
	}
	h, err := a.ledger.AuditHistory(c.Request.Context(), kind, key, sub, as(c))
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	answer(c, h, func() table { return historyTable(h) })
}

func historyTable(h []*records.HistoryEntry) table {
	t := table{header: []string{"txId", "timestamp", "isDelete", "value"}}
	for _, e := range h {
		t.rows = append(t.rows, []string{e.TxID, e.Timestamp, strconv.FormatBool(e.IsDelete), e.Value})
	}
	return t
}

func (a *audit) payments(c *gin.Context) {
	p, err := a.ledger.AuditNodePayments(c.Request.Context(), c.Param("id"), as(c))
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	answer(c, p, func() table { return paymentsTable(p) })
}

func paymentsTable(p *records.NodePayments) table {
	t := table{header: []string{"node", "org", "ref", "payer", "payee", "bytes", "pricePerMiB", "amount", "status", "createdAt", "txId", "paidAt",
		"batchId", "epoch", "gatewayMsp", "gateway", "batchStatus", "batchReceipts", "batchBytes", "excluded", "root", "size", "provedAt", "proveTxId"}}
	for _, x := range p.Payments {
		o, b := x.Payout, x.Batch
		t.rows = append(t.rows, []string{p.Node, p.Org, o.Ref, o.Payer, o.Payee, i64(o.Bytes), i64(o.PricePerMiB), i64(o.Amount), o.Status, o.CreatedAt, o.TxID, o.PaidAt,
			b.ID, i64(b.Epoch), b.GatewayMSP, b.Gateway, string(b.Status), i64(b.Receipts), i64(b.Bytes), i64(b.Excluded), b.Root, i64(b.Size), b.ProvedAt, b.ProveTxID})
	}
	return t
}

func (a *audit) account(c *gin.Context) {
	acct, err := a.ledger.AuditAccount(c.Request.Context(), c.Param("msp"), as(c))
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	answer(c, acct, func() table {
		return table{header: []string{"mspId", "balance", "escrow", "issued", "owed", "queued", "updatedAt", "lastTxId"},
			rows: [][]string{{acct.MSPID, i64(acct.Balance), i64(acct.Escrow), i64(acct.Issued), i64(acct.Owed), i64(acct.Queued), acct.UpdatedAt, acct.LastTxID}}}
	})
}

// receipt serves a receipt bundle: the batch from the ledger, the receipt
// and its proof from this gateway's log. Receipts name objects, nodes and
// requests: they are for auditors and for the members of the gateway's
// organisation (roles from the ledger's registry).
func (a *audit) receipt(c *gin.Context) {
	id := caller(c)
	index, err := strconv.ParseInt(c.Param("index"), 10, 64)
	if err != nil || index < 0 {
		writeError(c, fmt.Errorf("%w: the receipt index must be a number >= 0, got %q", content.ErrInvalid, c.Param("index")))
		return
	}
	ctx := c.Request.Context()
	b, err := a.ledger.GetBatch(ctx, c.Param("id"))
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	if !id.Has(records.RoleAuditor) && id.MSPID != b.GatewayMSP {
		writeError(c, fmt.Errorf("%w: %s may not read the receipts of batch %s of %s: they are for auditors and %s's members", content.ErrForbidden, id.Member, b.ID, b.GatewayMSP, b.GatewayMSP))
		return
	}
	if a.receipts == nil {
		writeError(c, fmt.Errorf("%w: this gateway keeps no receipt log", receipts.ErrNotInLog))
		return
	}
	bundle, err := a.receipts.Bundle(ctx, b, index)
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	answer(c, bundle, func() table {
		r, _ := json.Marshal(bundle.Receipt)
		proof := make([]string, len(bundle.Proof))
		for i, p := range bundle.Proof {
			proof[i] = hex.EncodeToString(p)
		}
		return table{header: []string{"batchId", "gatewayMsp", "epoch", "status", "root", "size", "index", "serial", "node", "object", "version", "shard", "bytes", "receipt", "proof", "gatewayCert"},
			rows: [][]string{{bundle.BatchID, bundle.GatewayMSP, i64(bundle.Epoch), string(bundle.Status), bundle.Root, i64(bundle.Size), i64(bundle.Index),
				bundle.Receipt.Serial, bundle.Receipt.Node, bundle.Receipt.Object, bundle.Receipt.Version, strconv.Itoa(bundle.Receipt.Shard), i64(bundle.Receipt.Bytes),
				string(r), strings.Join(proof, " "), bundle.GatewayCert}}}
	})
}

// object serves the ledger's manifest of an object version (default the
// latest): the hashes an auditor checks served bytes against.
func (a *audit) object(c *gin.Context) {
	name, version := objectName(c, "name"), c.Query("version")
	var m *records.Manifest
	var err error
	if version == "" {
		m, err = a.ledger.LatestManifest(c.Request.Context(), name)
	} else {
		m, err = a.ledger.GetManifest(c.Request.Context(), name, version)
	}
	if err != nil {
		writeError(c, auditErr(err))
		return
	}
	answer(c, m, func() table {
		t := table{header: []string{"name", "version", "size", "sha256", "integrity", "publisher", "createdAt", "txId", "purged", "shard", "shardHash", "shardSize", "nodes"}}
		for _, s := range m.Shards {
			t.rows = append(t.rows, []string{m.Name, m.Version, i64(m.Size), m.SHA256, m.Integrity, m.Publisher, m.CreatedAt, m.TxID,
				strconv.FormatBool(m.Purged != nil), strconv.Itoa(s.Index), s.Hash, i64(s.Size), strings.Join(s.Nodes, " ")})
		}
		return t
	})
}
