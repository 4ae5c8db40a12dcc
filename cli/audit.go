package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/gatewayclient"
	"github.com/dct-network/dct/pkg/receipts"
	"github.com/spf13/cobra"
)

// ErrMismatch: verify-receipt or verify-object found the evidence does not
// hold (the command exits non-zero).
var ErrMismatch = errors.New("verification failed")

// maxBundle bounds a bundle file read by verify-receipt.
const maxBundle = 64 << 20

// auditOutput is where an audit command writes: --format json|csv, -o.
type auditOutput struct {
	format, output string
}

func (o *auditOutput) flags(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.format, "format", "json", "output format: json or csv")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "write to this file (default stdout)")
}

func (o *auditOutput) check() error {
	if o.format != "json" && o.format != "csv" {
		return fmt.Errorf("--format must be json or csv, got %q", o.format)
	}
	return nil
}

// write writes b to the output.
func (o *auditOutput) write(stdout io.Writer, b []byte) error {
	if o.output == "" || o.output == "-" {
		_, err := stdout.Write(b)
		return err
	}
	return os.WriteFile(o.output, b, 0o644)
}

// writeResult writes v as indented JSON, or t (header and rows) as CSV.
func (o *auditOutput) writeResult(stdout io.Writer, v any, header []string, rows [][]string) error {
	var buf bytes.Buffer
	if o.format == "csv" {
		w := csv.NewWriter(&buf)
		_ = w.Write(header)
		if err := w.WriteAll(rows); err != nil {
			return err
		}
	} else {
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err != nil {
			return err
		}
	}
	return o.write(stdout, buf.Bytes())
}

func newAuditCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "The auditor's view: histories, payments to nodes, receipts and objects checked against the ledger",
		Long: "audit reads the ledger through a gateway's admin listener (--admin, with the auditor's identity: --msp-dir or\n" +
			"--cert/--key, and --cacert). The chaincode decides what the identity may read: per-organisation money figures\n" +
			"(accounts, payouts, payments) are for the organisation concerned and for identities with the auditor role.\n" +
			"verify-receipt works offline; verify-object also downloads the object from a gateway's public listener;\n" +
			"verify-sla recomputes an epoch's SLA scores from the ledger's attestations; verify-auction recomputes an auction's clearing.",
	}
	cmd.AddCommand(newAuditHistoryCommand(e), newAuditPaymentsCommand(e), newAuditAccountCommand(e),
		newAuditReceiptCommand(e), newVerifyReceiptCommand(e), newVerifyObjectCommand(e), newVerifySLACommand(e), newVerifyAuctionCommand(e),
		newAuditExportCommand(e))
	return cmd
}

// rawAudit fetches an audit path in the output's format and writes it.
func rawAudit(ctx context.Context, e *env, o *auditOutput, path string) error {
	if err := o.check(); err != nil {
		return err
	}
	c, err := e.adminClient()
	if err != nil {
		return err
	}
	b, err := c.AuditRaw(ctx, path, o.format)
	if err != nil {
		return err
	}
	if o.format == "json" {
		var buf bytes.Buffer
		if json.Indent(&buf, b, "", "  ") == nil {
			b = append(buf.Bytes(), '\n')
		}
	}
	return o.write(e.stdout, b)
}

func newAuditHistoryCommand(e *env) *cobra.Command {
	var o auditOutput
	cmd := &cobra.Command{
		Use:   "history KIND [KEY [SUB]]",
		Short: "History of a record: " + strings.Join(records.HistoryKinds, ", "),
		Long: "history prints every committed write of a record, oldest first. KIND and its KEY:\n" +
			"  node ID | manifest NAME VERSION | object NAME | identity MSPID CERTHASH | batch ID | price |\n" +
			"  account MSPID | payout REF (batchId/node/publisherMSP)",
		Args: cobra.RangeArgs(1, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := args[0]
			if !slices.Contains(records.HistoryKinds, kind) {
				return fmt.Errorf("KIND must be one of %s, got %q", strings.Join(records.HistoryKinds, ", "), kind)
			}
			want := 2
			switch kind {
			case records.HistoryManifest, records.HistoryIdentity:
				want = 3
			case records.HistoryPrice:
				want = 1
			}
			if len(args) != want {
				return fmt.Errorf("the history of a %s takes %d argument(s) after KIND", kind, want-1)
			}
			key, sub := "", ""
			if want > 1 {
				key = args[1]
			}
			if want > 2 {
				sub = args[2]
			}
			return rawAudit(cmd.Context(), e, &o, gatewayclient.HistoryPath(kind, key, sub))
		},
	}
	o.flags(cmd)
	return cmd
}

func newAuditPaymentsCommand(e *env) *cobra.Command {
	var o auditOutput
	cmd := &cobra.Command{
		Use:   "payments NODE",
		Short: "Every payout for a node's deliveries, each with the batch behind it",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return rawAudit(cmd.Context(), e, &o, gatewayclient.AuditPath("nodes", args[0], "payments"))
		},
	}
	o.flags(cmd)
	return cmd
}

func newAuditAccountCommand(e *env) *cobra.Command {
	var o auditOutput
	cmd := &cobra.Command{
		Use:   "account MSPID",
		Short: "An organisation's token account (balance, escrow, issued, owed)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return rawAudit(cmd.Context(), e, &o, gatewayclient.AuditPath("accounts", args[0]))
		},
	}
	o.flags(cmd)
	return cmd
}

func newAuditReceiptCommand(e *env) *cobra.Command {
	var o auditOutput
	cmd := &cobra.Command{
		Use:   "receipt BATCH INDEX",
		Short: "Fetch a receipt bundle (receipt, inclusion proof, the ledger's root and size, the gateway's certificate) from the gateway that committed the batch",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := strconv.ParseInt(args[1], 10, 64); err != nil {
				return fmt.Errorf("INDEX must be a number: %w", err)
			}
			return rawAudit(cmd.Context(), e, &o, gatewayclient.AuditPath("batches", args[0], "receipts", args[1]))
		},
	}
	o.flags(cmd)
	return cmd
}

// VerifyResult is what verify-receipt and verify-object print.
type VerifyResult struct {
	OK     bool   `json:"ok"`
	What   string `json:"what"`
	Detail string `json:"detail"`
	// Receipt bundles.
	BatchID string `json:"batchId,omitempty"`
	Index   int64  `json:"index,omitempty"`
	Root    string `json:"root,omitempty"`
	Size    int64  `json:"size,omitempty"`
	Serial  string `json:"serial,omitempty"`
	Node    string `json:"node,omitempty"`
	Bytes   int64  `json:"bytes,omitempty"`
	// Objects.
	Name       string `json:"name,omitempty"`
	Version    string `json:"version,omitempty"`
	LedgerSHA  string `json:"ledgerSha256,omitempty"`
	ServedSHA  string `json:"servedSha256,omitempty"`
	LedgerSize int64  `json:"ledgerSize,omitempty"`
	ServedSize int64  `json:"servedSize,omitempty"`
}

var verifyHeader = []string{"ok", "what", "detail", "batchId", "index", "root", "size", "serial", "node", "bytes",
	"name", "version", "ledgerSha256", "servedSha256", "ledgerSize", "servedSize"}

func (r VerifyResult) row() []string {
	return []string{strconv.FormatBool(r.OK), r.What, r.Detail, r.BatchID, i64(r.Index), r.Root, i64(r.Size), r.Serial, r.Node, i64(r.Bytes),
		r.Name, r.Version, r.LedgerSHA, r.ServedSHA, i64(r.LedgerSize), i64(r.ServedSize)}
}

func i64(v int64) string { return strconv.FormatInt(v, 10) }

// report writes the result and returns ErrMismatch when it failed.
func report(e *env, o *auditOutput, r VerifyResult) error {
	if err := o.writeResult(e.stdout, r, verifyHeader, [][]string{r.row()}); err != nil {
		return err
	}
	if !r.OK {
		return fmt.Errorf("%w: %s", ErrMismatch, r.Detail)
	}
	return nil
}

// VerifyBundle reads a receipt bundle (JSON) and verifies it offline.
func VerifyBundle(data []byte) (VerifyResult, error) {
	var b receipts.Bundle
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&b); err != nil {
		return VerifyResult{}, fmt.Errorf("not a receipt bundle: %w", err)
	}
	r := VerifyResult{What: "receipt", BatchID: b.BatchID, Index: b.Index, Root: b.Root, Size: b.Size,
		Serial: b.Receipt.Serial, Node: b.Receipt.Node, Bytes: b.Receipt.Bytes}
	if err := b.Verify(); err != nil {
		r.Detail = err.Error()
		return r, nil
	}
	r.OK = true
	r.Detail = fmt.Sprintf("receipt %s is signed by gateway %s and is leaf %d of batch %s (root %s, %d receipts)",
		b.Receipt.Serial, b.Receipt.Gateway, b.Index, b.BatchID, b.Root, b.Size)
	return r, nil
}

func newVerifyReceiptCommand(e *env) *cobra.Command {
	var o auditOutput
	cmd := &cobra.Command{
		Use:   "verify-receipt BUNDLE.json",
		Short: "Verify a receipt bundle offline: the gateway's signature and the inclusion proof against the batch's root",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			data, err := io.ReadAll(io.LimitReader(f, maxBundle+1))
			if err != nil {
				return err
			}
			if len(data) > maxBundle {
				return fmt.Errorf("%s is larger than %d bytes: not a receipt bundle", args[0], maxBundle)
			}
			r, err := VerifyBundle(data)
			if err != nil {
				return err
			}
			return report(e, &o, r)
		},
	}
	o.flags(cmd)
	return cmd
}

func newVerifyObjectCommand(e *env) *cobra.Command {
	var o auditOutput
	var public string
	cmd := &cobra.Command{
		Use:   "verify-object NAME[@VERSION]",
		Short: "Download an object from a gateway's public listener and check its SHA-256 and size against the ledger's manifest",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			if public == "" {
				public = e.gateway
			}
			name, version := args[0], ""
			if i := strings.LastIndexByte(name, '@'); i >= 0 {
				name, version = name[:i], name[i+1:]
			}
			c, err := e.adminClient()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			m, err := c.AuditObject(ctx, name, version)
			if err != nil {
				return err
			}
			// The version the ledger named, so that both sides are the
			// same immutable bytes.
			body, _, err := gatewayclient.New(public).Get(ctx, name, m.Version)
			if err != nil {
				return fmt.Errorf("download %s@%s from %s: %w", name, m.Version, public, err)
			}
			sum := sha256.Sum256(body)
			r := VerifyResult{What: "object", Name: name, Version: m.Version, LedgerSHA: m.SHA256, ServedSHA: hex.EncodeToString(sum[:]),
				LedgerSize: m.Size, ServedSize: int64(len(body))}
			r.OK = r.LedgerSHA == r.ServedSHA && r.LedgerSize == r.ServedSize
			if r.OK {
				r.Detail = fmt.Sprintf("%s serves %s@%s with the ledger's SHA-256 and size", public, name, m.Version)
			} else {
				r.Detail = fmt.Sprintf("%s serves %s@%s as %d bytes with SHA-256 %s; the ledger records %d bytes with %s",
					public, name, m.Version, r.ServedSize, r.ServedSHA, r.LedgerSize, r.LedgerSHA)
			}
			return report(e, &o, r)
		},
	}
	cmd.Flags().StringVar(&public, "public", "", "public listener URL of the gateway whose bytes are checked (default --gateway)")
	o.flags(cmd)
	return cmd
}
