package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/demo"
	"github.com/dct-network/dct/pkg/gatewayclient"
	"github.com/dct-network/dct/pkg/settings"
	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
)

// NewCommand returns the dct command line writing results to stdout and
// progress to stderr.
func NewCommand(stdout, stderr io.Writer) *cobra.Command {
	e := &env{stdout: stdout, stderr: stderr, gateway: "http://127.0.0.1:8080"}
	root := &cobra.Command{
		Use:   "dct",
		Short: "Operate a DCT gateway: publish, list, show, get, verify, purge, nodes, auctions, balances, audit, mesh",
		Long: "dct operates a DCT gateway: reads go to its public listener (--gateway), writes and the audit views to its\n" +
			"admin listener (--admin, HTTPS with a member's certificate). Read commands print a table, or JSON with --output json\n" +
			"(audit and sla commands print JSON by default, CSV with --format csv). Shell completion: dct completion bash|zsh|fish|powershell.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// The global flags read the environment: DCT_GATEWAY, DCT_ADMIN, and
	// DCT_ADMIN_<FLAG> for the admin identity (not DCT_CERT and DCT_KEY,
	// which are the gateway's own ledger identity).
	set := settings.New(root.PersistentFlags(), "DCT_")
	set.String(&e.gateway, "gateway", "gateway base URL (public listener: reads)")
	set.String(&e.admin, "admin", "gateway admin listener URL, https://host:port (publish, purge, whoami, audit)")
	id := settings.New(root.PersistentFlags(), "DCT_ADMIN_")
	id.String(&e.tls.MSPDir, "msp-dir", "MSP directory of the publisher identity (enrollment certificate in signcerts/, key in keystore/)")
	id.String(&e.tls.Cert, "cert", "publisher enrollment certificate (PEM), instead of --msp-dir")
	id.String(&e.tls.Key, "key", "publisher private key (PEM), instead of --msp-dir")
	id.String(&e.tls.CACert, "cacert", "PEM CA bundle verifying the admin listener's TLS certificate (the gateway organisation's TLS CA)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return errors.Join(set.Apply(), id.Apply()) }
	root.AddCommand(
		newPublishCommand(e),
		newListCommand(e),
		newShowCommand(e),
		newGetCommand(e),
		newPurgeCommand(e),
		newPortalCommand(e),
		newFeedCommand(e),
		newWhoamiCommand(e),
		newAuditCommand(e),
		newSLACommand(e),
		newVerifyCommand(e),
		newMeshCommand(e),
		newNodesCommand(e),
		newAuctionsCommand(e),
		newBalancesCommand(e),
	)
	return root
}

// env is what every subcommand shares: the output streams, the gateway's
// addresses and the admin identity (set by the root's persistent flags
// before a subcommand runs).
type env struct {
	stdout, stderr io.Writer
	gateway        string
	admin          string
	tls            gatewayclient.TLSFiles
}

// client is a client of the gateway for reads.
func (e *env) client() *gatewayclient.Client { return gatewayclient.New(e.gateway) }

// adminClient is a client of the gateway whose writes go to its admin
// listener with the member identity of the flags.
func (e *env) adminClient() (*gatewayclient.Client, error) {
	if e.admin == "" {
		return nil, fmt.Errorf("--admin is not set: %w", gatewayclient.ErrNoAdmin)
	}
	cfg, err := gatewayclient.TLSConfig(e.tls)
	if err != nil {
		return nil, err
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, Proxy: http.ProxyFromEnvironment}}
	return gatewayclient.New(e.gateway, gatewayclient.WithAdmin(e.admin, hc)), nil
}

func newPublishCommand(e *env) *cobra.Command {
	var prefix string
	var quiet bool
	var keys []string
	cmd := &cobra.Command{
		Use:   "publish PATH...",
		Short: "Publish files; a directory is published recursively, names relative to it",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := collect(args, prefix)
			if err != nil {
				return err
			}
			if err := records.ValidateSurrogateKeys(keys); err != nil {
				return fmt.Errorf("--surrogate-key: %w", err)
			}
			c, err := e.adminClient()
			if err != nil {
				return err
			}
			return publishAll(cmd.Context(), c, files, e.stdout, e.stderr, quiet, gatewayclient.WithSurrogateKeys(keys...))
		},
	}
	cmd.Flags().StringVar(&prefix, "prefix", "", "name prefix, e.g. portal/ (object names are prefix + relative path)")
	cmd.Flags().StringSliceVarP(&keys, "surrogate-key", "K", nil, "surrogate key to tag every published version with (repeatable or comma-separated; at most 16)")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "no progress bar")
	return cmd
}

func newListCommand(e *env) *cobra.Command {
	var out output
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List objects with their latest version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			objs, err := e.client().List(cmd.Context())
			if err != nil {
				return err
			}
			return out.print(e.stdout, objs, func(tw io.Writer) {
				fmt.Fprintln(tw, "NAME\tLATEST\tVERSIONS\tOWNER\tUPDATED")
				for _, o := range objs {
					fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", o.Name, o.Latest, len(o.Versions), o.Owner, o.UpdatedAt)
				}
			})
		},
	}
	out.flag(cmd)
	return cmd
}

func newShowCommand(e *env) *cobra.Command {
	var version string
	var out output
	cmd := &cobra.Command{
		Use:               "show NAME",
		Short:             "Show an object's versions, or one version's manifest with --version (JSON; --output text: a summary)",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: e.completeNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			var v any
			var err error
			if version != "" {
				v, err = e.client().Manifest(cmd.Context(), args[0], version)
			} else {
				v, err = e.client().Object(cmd.Context(), args[0])
			}
			if err != nil {
				return err
			}
			if out.format == "text" {
				return showText(e.stdout, v)
			}
			return printJSON(e.stdout, v)
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "one version's manifest")
	cmd.Flags().StringVar(&out.format, "output", "json", "output format: json or text")
	return cmd
}

func newGetCommand(e *env) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:               "get NAME[@VERSION]",
		Short:             "Fetch an object's content through the CDN path",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: e.completeNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, ver := args[0], ""
			if i := strings.LastIndexByte(name, '@'); i >= 0 {
				name, ver = name[:i], name[i+1:]
			}
			b, _, err := e.client().Get(cmd.Context(), name, ver)
			if err != nil {
				return err
			}
			if output == "" || output == "-" {
				_, err = e.stdout.Write(b)
				return err
			}
			return os.WriteFile(output, b, 0o644)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write to this file (default stdout)")
	return cmd
}

func newPurgeCommand(e *env) *cobra.Command {
	var version, reason, key string
	var soft bool
	var o output
	cmd := &cobra.Command{
		Use:   "purge NAME | purge --surrogate-key KEY",
		Short: "Purge by name (a version, default the latest) or by surrogate key; hard (tombstone, shards deleted) or --soft (revalidate)",
		Long: "A hard purge (the default) tombstones the versions on the ledger (410 Gone from then on) and deletes their shards;\n" +
			"every gateway drops them from its caches within a second of the commit, from the ledger's events. A soft purge\n" +
			"(--soft) changes no version: every gateway marks its cached manifests stale, and the next request revalidates them\n" +
			"against the ledger (cached content is kept). --surrogate-key (-K) reaches the live versions your organisation tagged with the key\n" +
			"(at most 128); without --version a soft purge by name reaches every live version.",
		Args: func(cmd *cobra.Command, args []string) error {
			if key != "" && len(args) > 0 {
				return errors.New("a purge names an object (NAME) or a surrogate key (--surrogate-key), not both")
			}
			if key != "" {
				return nil
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		ValidArgsFunction: e.completeNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			c, err := e.adminClient()
			if err != nil {
				return err
			}
			if key != "" || soft {
				req := records.PurgeRequest{Key: key, Mode: records.PurgeHard, Reason: reason}
				if soft {
					req.Mode = records.PurgeSoft
				}
				if key == "" {
					req.Name, req.Version = args[0], version
				} else if version != "" {
					return errors.New("--version applies to a purge by name")
				}
				res, err := c.PurgeBy(cmd.Context(), req)
				if err != nil {
					return err
				}
				if o.json() {
					return printJSON(e.stdout, res)
				}
				fmt.Fprintf(e.stdout, "%s purge of %d versions (tx %s); %d shard copies deleted\n", res.Purge.Mode, len(res.Purge.Targets), res.Purge.TxID, res.ShardsDeleted)
				for _, t := range res.Purge.Targets {
					fmt.Fprintln(e.stdout, "  "+t)
				}
				for _, msg := range res.DeleteErrors {
					fmt.Fprintln(e.stderr, "warning:", msg)
				}
				return nil
			}
			out, err := c.Purge(cmd.Context(), args[0], version, reason)
			if err != nil {
				return err
			}
			if o.json() {
				return printJSON(e.stdout, out)
			}
			fmt.Fprintf(e.stdout, "purged %s@%s (tx %s); %d shard copies deleted\n", out.Manifest.Name, out.Manifest.Version, out.Manifest.Purged.TxID, out.ShardsDeleted)
			for _, msg := range out.DeleteErrors {
				fmt.Fprintln(e.stderr, "warning:", msg)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&version, "version", "", "version to purge (hard default: latest; soft default: every live version)")
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded on the ledger)")
	cmd.Flags().StringVarP(&key, "surrogate-key", "K", "", "purge the versions tagged with this surrogate key instead of NAME")
	cmd.Flags().BoolVar(&soft, "soft", false, "soft purge: mark stale and revalidate instead of tombstoning")
	o.flag(cmd)
	_ = cmd.MarkFlagRequired("reason")
	return cmd
}

func newPortalCommand(e *env) *cobra.Command {
	var prefix string
	cmd := &cobra.Command{
		Use:   "publish-demo-portal",
		Short: "Publish the embedded sample portal (page, script, stylesheet, data feed) and print its URLs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.adminClient()
			if err != nil {
				return err
			}
			p, err := demo.PublishPortal(cmd.Context(), c, c.BaseURL(), prefix)
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ASSET\tSIZE\tINTEGRITY\tURL")
			for _, a := range p.All {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", a.Name, a.Size, a.Integrity, c.BaseURL()+a.URL)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "\nportal page (latest):    %s\nportal page (immutable): %s\n", p.LatestPageURL, p.VersionedPageURL)
			return nil
		},
	}
	cmd.Flags().StringVar(&prefix, "prefix", "portal/", "object name prefix")
	return cmd
}

func newWhoamiCommand(e *env) *cobra.Command {
	var o output
	cmd := &cobra.Command{
		Use:   "whoami",
		Short: "Show the identity the admin listener authenticates (MSP id, certificate hash, roles)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := e.adminClient()
			if err != nil {
				return err
			}
			w, err := c.Whoami(cmd.Context())
			if err != nil {
				return err
			}
			if o.json() {
				return printJSON(e.stdout, w)
			}
			fmt.Fprintf(e.stdout, "%s of %s\ncertificate hash: %s\nroles: %v\ngateway acts for: %s\n", w.Subject, w.MSPID, w.CertHash, w.Roles, w.Gateway)
			return nil
		},
	}
	o.flag(cmd)
	return cmd
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

func publishAll(ctx context.Context, c *gatewayclient.Client, files []file, stdout, stderr io.Writer, quiet bool, opts ...gatewayclient.PublishOption) error {
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
			res, err := c.PublishWith(ctx, f.name, "", f.size, r, opts...)
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
