package cli

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/dct-network/dct/pkg/api"
	"github.com/spf13/cobra"
)

// newMeshCommand prints the gateway's view of the mesh as a terminal map:
// each member with its role, liveness and round trip (a bar scaled to the
// slowest), beside the gateway's shard fetches from that node.
func newMeshCommand(e *env) *cobra.Command {
	var o output
	var measure bool
	cmd := &cobra.Command{
		Use:   "mesh",
		Short: "The mesh as the gateway sees it: members, liveness, round trips and shard fetches, as a map in the terminal",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.check(); err != nil {
				return err
			}
			r, err := e.client().Mesh(cmd.Context(), measure)
			if err != nil {
				return err
			}
			m, measured, err := r.Map()
			if err != nil {
				return fmt.Errorf("the gateway's mesh map: %w", err)
			}
			if o.json() {
				return printJSON(e.stdout, struct {
					Map      *api.MeshMap       `json:"map"`
					Measured map[string]float64 `json:"measuredRttMs,omitempty"`
					Fetches  api.MeshFetches    `json:"fetches"`
					Purges   api.MeshPurges     `json:"purges"`
				}{m, measured, r.Fetches, r.Purges})
			}
			return drawMesh(e.stdout, m, measured, r)
		},
	}
	cmd.Flags().BoolVar(&measure, "measure", false, "also measure round trips to every member (a probe each)")
	o.flag(cmd)
	return cmd
}

// barWidth is the width of the longest RTT bar.
const barWidth = 30

// drawMesh writes the map: members sorted by status then RTT.
func drawMesh(w io.Writer, m *api.MeshMap, measured map[string]float64, r *api.MeshResponse) error {
	if m == nil {
		fmt.Fprintln(w, "the gateway runs without a mesh (no --mesh-listen): shard fetches only")
	} else {
		fmt.Fprintf(w, "%s (%s) at %s\n", m.Self.Name, m.Self.Role, m.Self.Addr)
	}
	type row struct {
		name, role, node, status string
		rtt                      float64 // ms; NaN: unknown
		fetches, failures        int64
	}
	var rows []row
	seen := map[string]bool{}
	if m != nil {
		for _, mb := range m.Members {
			rt := math.NaN()
			if v, ok := measured[mb.Name]; ok {
				rt = v
			} else if mb.RTTEstimateMs != nil {
				rt = *mb.RTTEstimateMs
			}
			f := r.Fetches.Nodes[mb.NodeID]
			seen[mb.NodeID] = true
			rows = append(rows, row{mb.Name, mb.Role, mb.NodeID, mb.Status, rt, f.Fetches, f.Failures})
		}
	}
	for id, f := range r.Fetches.Nodes {
		if !seen[id] {
			rows = append(rows, row{id, "node", id, "?", math.NaN(), f.Fetches, f.Failures})
		}
	}
	rank := map[string]int{"alive": 0, "suspect": 1, "failed": 2, "left": 3}
	sort.Slice(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if rank[a.status] != rank[b.status] {
			return rank[a.status] < rank[b.status]
		}
		if math.IsNaN(a.rtt) != math.IsNaN(b.rtt) {
			return !math.IsNaN(a.rtt)
		}
		if a.rtt != b.rtt {
			return a.rtt < b.rtt
		}
		return a.name < b.name
	})
	slowest := 0.0
	for _, x := range rows {
		if !math.IsNaN(x.rtt) {
			slowest = max(slowest, x.rtt)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tROLE\tSTATUS\tRTT ms\t\tFETCHES\tFAILED")
	for _, x := range rows {
		rtt, bar := "?", ""
		if !math.IsNaN(x.rtt) {
			rtt = fmt.Sprintf("%.1f", x.rtt)
			n := 1
			if slowest > 0 {
				n = max(1, int(math.Round(x.rtt/slowest*barWidth)))
			}
			bar = strings.Repeat("#", n)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", x.name, x.role, statusMark(x.status), rtt, bar, x.fetches, x.failures)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "shard reads %d, requests %d, hedges %d; purges applied %d, revalidations %d\n",
		r.Fetches.Reads, r.Fetches.Launched, r.Fetches.Hedges, r.Purges.Invalidations, r.Purges.Revalidations)
	return nil
}

// statusMark puts a marker before the status so that failures stand out.
func statusMark(s string) string {
	switch s {
	case "alive":
		return "+ alive"
	case "suspect":
		return "~ suspect"
	case "failed":
		return "X failed"
	default:
		return "  " + s
	}
}
