package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// newVerifyCommand: download an object through the CDN path and compare it
// with the manifest the gateway reads from the ledger (no identity needed;
// audit verify-object reads the manifest through the admin audit view).
func newVerifyCommand(e *env) *cobra.Command {
	var o output
	cmd := &cobra.Command{
		Use:               "verify NAME[@VERSION]",
		Short:             "Download an object and compare its SHA-256 and size with the ledger's manifest",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: e.completeNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			name, version := args[0], ""
			if i := strings.LastIndexByte(name, '@'); i >= 0 {
				name, version = name[:i], name[i+1:]
			}
			ctx := cmd.Context()
			c := e.client()
			if version == "" {
				obj, err := c.Object(ctx, name)
				if err != nil {
					return err
				}
				version = obj.Object.Latest
			}
			m, err := c.Manifest(ctx, name, version)
			if err != nil {
				return err
			}
			body, _, err := c.Get(ctx, name, m.Version)
			if err != nil {
				return fmt.Errorf("download %s@%s: %w", name, m.Version, err)
			}
			sum := sha256.Sum256(body)
			r := VerifyResult{What: "object", Name: name, Version: m.Version, LedgerSHA: m.SHA256, ServedSHA: hex.EncodeToString(sum[:]),
				LedgerSize: m.Size, ServedSize: int64(len(body))}
			r.OK = r.LedgerSHA == r.ServedSHA && r.LedgerSize == r.ServedSize
			if r.OK {
				r.Detail = fmt.Sprintf("%s@%s: %d bytes, SHA-256 %s, as the ledger records", name, m.Version, r.ServedSize, r.ServedSHA)
			} else {
				r.Detail = fmt.Sprintf("%s@%s is served as %d bytes with SHA-256 %s; the ledger records %d bytes with %s",
					name, m.Version, r.ServedSize, r.ServedSHA, r.LedgerSize, r.LedgerSHA)
			}
			if o.json() {
				if err := printJSON(e.stdout, r); err != nil {
					return err
				}
			} else {
				verdict := "OK"
				if !r.OK {
					verdict = "MISMATCH"
				}
				fmt.Fprintf(e.stdout, "%s %s\n", verdict, r.Detail)
			}
			if !r.OK {
				return fmt.Errorf("%w: %s", ErrMismatch, r.Detail)
			}
			return nil
		},
	}
	o.flag(cmd)
	return cmd
}
