package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/dct-network/dct/pkg/gatewayclient"
	"github.com/spf13/cobra"
)

// newAuditExportCommand writes an audit snapshot to a directory: the
// caller, every object with all its versions (manifests, tombstones,
// surrogate keys), the caller organisation's token account and the SLA
// scores, one JSON file each, with an index.
func newAuditExportCommand(e *env) *cobra.Command {
	var maxObjects int
	cmd := &cobra.Command{
		Use:   "export DIR",
		Short: "Export an audit snapshot to DIR: objects with every version, your organisation's account, SLA scores",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			c, err := e.adminClient()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if err := os.MkdirAll(filepath.Join(dir, "objects"), 0o755); err != nil {
				return err
			}
			var files []string
			write := func(rel string, v any) error {
				b, err := json.MarshalIndent(v, "", "  ")
				if err != nil {
					return err
				}
				files = append(files, rel)
				return os.WriteFile(filepath.Join(dir, filepath.FromSlash(rel)), append(b, '\n'), 0o644)
			}
			w, err := c.Whoami(ctx)
			if err != nil {
				return err
			}
			if err := write("whoami.json", w); err != nil {
				return err
			}
			objs, err := c.List(ctx)
			if err != nil {
				return err
			}
			if len(objs) > maxObjects {
				return fmt.Errorf("the gateway lists %d objects, more than --max-objects %d", len(objs), maxObjects)
			}
			if err := write("objects.json", objs); err != nil {
				return err
			}
			for i, o := range objs {
				full, err := c.Object(ctx, o.Name)
				if err != nil {
					return fmt.Errorf("object %s: %w", o.Name, err)
				}
				// Object names may hold slashes: one flat file each.
				rel := fmt.Sprintf("objects/%05d-%s.json", i, strings.ReplaceAll(o.Name, "/", "_"))
				if err := write(rel, full); err != nil {
					return err
				}
			}
			acct, err := c.AuditAccount(ctx, w.MSPID)
			if err != nil && !gatewayclient.IsCode(err, "NOT_FOUND") {
				return fmt.Errorf("account of %s: %w", w.MSPID, err)
			}
			if err := write("account.json", acct); err != nil {
				return err
			}
			scores, err := c.AuditRaw(ctx, gatewayclient.SLAPath("scores"), "json")
			if err != nil && !gatewayclient.IsCode(err, "NOT_FOUND") {
				return fmt.Errorf("SLA scores: %w", err)
			}
			if err := write("sla-scores.json", json.RawMessage(nonEmpty(scores))); err != nil {
				return err
			}
			if err := write("index.json", map[string]any{"gateway": c.BaseURL(), "admin": c.AdminURL(), "by": w.MSPID, "files": files}); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "exported %d objects to %s (%d files)\n", len(objs), dir, len(files))
			return nil
		},
	}
	cmd.Flags().IntVar(&maxObjects, "max-objects", 10000, "refuse to export more objects than this")
	return cmd
}

func nonEmpty(b []byte) []byte {
	if len(b) == 0 {
		return []byte("null")
	}
	return b
}
