package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/dct-network/dct/demo"
	"github.com/dct-network/dct/pkg/gatewayclient"
	"github.com/dct-network/dct/pkg/settings"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// NewCommand returns the dct command line writing results to stdout and
// progress to stderr.
func NewCommand(stdout, stderr io.Writer) *cobra.Command {
	gw := "http://127.0.0.1:8080"
	root := &cobra.Command{
		Use:           "dct",
		Short:         "Operate a DCT gateway: publish, list, show, get, purge",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// Only --gateway reads the environment (DCT_GATEWAY).
	env := settings.New(root.PersistentFlags(), "DCT_")
	env.String(&gw, "gateway", "gateway base URL")
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return env.Apply() }
	client := func() *gatewayclient.Client { return gatewayclient.New(gw) }

	var prefix string
	var quiet bool
	publish := &cobra.Command{
		Use:   "publish PATH...",
		Short: "Publish files; a directory is published recursively, names relative to it",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := collect(args, prefix)
			if err != nil {
				return err
			}
			return publishAll(cmd.Context(), client(), files, stdout, stderr, quiet)
		},
	}
	publish.Flags().StringVar(&prefix, "prefix", "", "name prefix, e.g. portal/ (object names are prefix + relative path)")
	publish.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")

	list := &cobra.Command{
		Use:   "list",
		Short: "List objects with their latest version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := client().List(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tLATEST\tVERSIONS\tOWNER\tUPDATED")
			for _, o := range objs {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", o.Name, o.Latest, len(o.Versions), o.Owner, o.UpdatedAt)
			}
			return tw.Flush()
		},
	}

	var version string
	show := &cobra.Command{
		Use:   "show NAME",
		Short: "Show an object's versions, or one version's manifest with --version",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var v any
			var err error
			if version != "" {
				v, err = client().Manifest(cmd.Context(), args[0], version)
			} else {
				v, err = client().Object(cmd.Context(), args[0])
			}
			if err != nil {
				return err
			}
			enc := json.NewEncoder(stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(v)
		},
	}
	show.Flags().StringVar(&version, "version", "", "one version's manifest")

	var output string
	get := &cobra.Command{
		Use:   "get NAME[@VERSION]",
		Short: "Fetch an object's content through the CDN path",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, ver := args[0], ""
			if i := strings.LastIndexByte(name, '@'); i >= 0 {
				name, ver = name[:i], name[i+1:]
			}
			b, _, err := client().Get(cmd.Context(), name, ver)
			if err != nil {
				return err
			}
			if output == "" || output == "-" {
				_, err = stdout.Write(b)
				return err
			}
			return os.WriteFile(output, b, 0o644)
		},
	}
	get.Flags().StringVarP(&output, "output", "o", "", "write to this file (default stdout)")

	var reason string
	purge := &cobra.Command{
		Use:   "purge NAME",
		Short: "Purge a version (default the latest): ledger tombstone plus shard deletion",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := client().Purge(cmd.Context(), args[0], version, reason)
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "purged %s@%s (tx %s); %d shard copies deleted\n", out.Manifest.Name, out.Manifest.Version, out.Manifest.Purged.TxID, out.ShardsDeleted)
			for _, e := range out.DeleteErrors {
				fmt.Fprintln(stderr, "warning:", e)
			}
			return nil
		},
	}
	purge.Flags().StringVar(&version, "version", "", "version to purge (default: latest)")
	purge.Flags().StringVar(&reason, "reason", "", "why (recorded on the ledger)")
	_ = purge.MarkFlagRequired("reason")

	var portalPrefix string
	portal := &cobra.Command{
		Use:   "publish-demo-portal",
		Short: "Publish the embedded sample portal (page, script, stylesheet, data feed) and print its URLs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c := client()
			p, err := demo.PublishPortal(cmd.Context(), c, c.BaseURL(), portalPrefix)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ASSET\tSIZE\tINTEGRITY\tURL")
			for _, a := range p.All {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", a.Name, a.Size, a.Integrity, c.BaseURL()+a.URL)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(stdout, "\nportal page (latest):    %s\nportal page (immutable): %s\n", p.LatestPageURL, p.VersionedPageURL)
			return nil
		},
	}
	portal.Flags().StringVar(&portalPrefix, "prefix", "portal/", "object name prefix")

	root.AddCommand(publish, list, show, get, purge, portal)
	return root
}

type file struct {
	path, name string
	size       int64
}

// collect expands the arguments into files with their object names.
func collect(args []string, prefix string) ([]file, error) {
	var out []file
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			out = append(out, file{path: a, name: prefix + filepath.Base(a), size: st.Size()})
			continue
		}
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if !d.Type().IsRegular() {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(a, p)
			if err != nil {
				return err
			}
			out = append(out, file{path: p, name: prefix + filepath.ToSlash(rel), size: info.Size()})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

func publishAll(ctx context.Context, c *gatewayclient.Client, files []file, stdout, stderr io.Writer, quiet bool) error {
	var total int64
	for _, f := range files {
		total += f.size
	}
	var bar *progressbar.ProgressBar
	if !quiet {
		bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(stderr), progressbar.OptionShowBytes(true), progressbar.OptionShowCount(),
			progressbar.OptionSetDescription(fmt.Sprintf("publishing %d files", len(files))),
			progressbar.OptionThrottle(100_000_000), progressbar.OptionOnCompletion(func() { fmt.Fprintln(stderr) }))
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tVERSION\tSIZE\tINTEGRITY\tURL")
	var failed int
	for _, f := range files {
		err := func() error {
			fh, err := os.Open(f.path)
			if err != nil {
				return err
			}
			defer fh.Close()
			var r io.Reader = fh
			if bar != nil {
				pr := progressbar.NewReader(fh, bar)
				r = &pr
			}
			res, err := c.Publish(ctx, f.name, "", f.size, r)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", res.Name, res.Version, res.Size, res.Integrity, c.BaseURL()+res.VersionedURL)
			return nil
		}()
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "\n%s: %v\n", f.name, err)
		}
	}
	if bar != nil {
		_ = bar.Finish()
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files failed", failed, len(files))
	}
	return nil
}
