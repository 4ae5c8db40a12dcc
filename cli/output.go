package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/api"
	"github.com/spf13/cobra"
)

// output is a read command's --output: text (a table) or json.
type output struct{ format string }

func (o *output) flag(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.format, "output", "text", "output format: text or json")
	_ = cmd.RegisterFlagCompletionFunc("output", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return []string{"text", "json"}, cobra.ShellCompDirectiveNoFileComp
	})
}

func (o *output) check() error {
	if o.format != "text" && o.format != "json" {
		return fmt.Errorf("--output must be text or json, got %q", o.format)
	}
	return nil
}

func (o *output) json() bool { return o.format == "json" }

// print writes v as JSON with --output json, else the table that text
// writes (tab-separated columns, aligned).
func (o *output) print(w io.Writer, v any, text func(tw io.Writer)) error {
	if o.json() {
		return printJSON(w, v)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	text(tw)
	return tw.Flush()
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// showText summarises show's answer: an object's versions, or a manifest.
func showText(w io.Writer, v any) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	switch v := v.(type) {
	case *api.ObjectResponse:
		fmt.Fprintf(tw, "%s (owner %s, latest %s)\n", v.Object.Name, v.Object.Owner, v.Object.Latest)
		fmt.Fprintln(tw, "VERSION\tSIZE\tSHA256\tKEYS\tCREATED\tPURGED")
		for _, m := range v.Versions {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\n", m.Version, m.Size, m.SHA256, strings.Join(m.Keys, " "), m.CreatedAt, purgedText(m))
		}
	case *records.Manifest:
		fmt.Fprintf(tw, "name\t%s\nversion\t%s\nsize\t%d\nsha256\t%s\nintegrity\t%s\nkeys\t%s\nk+m\t%d+%d\npublisher\t%s\ncreated\t%s\npurged\t%s\n",
			v.Name, v.Version, v.Size, v.SHA256, v.Integrity, strings.Join(v.Keys, " "), v.K, v.M, v.Publisher, v.CreatedAt, purgedText(v))
		for _, sh := range v.Shards {
			fmt.Fprintf(tw, "shard %d\t%s\n", sh.Index, strings.Join(sh.Nodes, ", "))
		}
	default:
		return printJSON(w, v)
	}
	return tw.Flush()
}

func purgedText(m *records.Manifest) string {
	if m.Purged == nil {
		return "-"
	}
	return m.Purged.At + " (" + m.Purged.Reason + ")"
}

// completeNames completes object names from the gateway's list.
func (e *env) completeNames(cmd *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	objs, err := e.client().List(cmd.Context())
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, o := range objs {
		if strings.HasPrefix(o.Name, prefix) {
			out = append(out, o.Name)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
