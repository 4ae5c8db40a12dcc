package cli

import (
	"fmt"
	"strconv"

	"github.com/dct-network/dct/pkg/gatewayclient"
	"github.com/dct-network/dct/pkg/slaaudit"
	"github.com/spf13/cobra"
)

func newSLACommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sla",
		Short: "The nodes' SLA scores: current scores, breakdowns, history and the attestations behind them",
		Long: "sla reads the ledger's SLA records through a gateway's admin listener (--admin, with any member's identity:\n" +
			"--msp-dir or --cert/--key, and --cacert). dct audit verify-sla recomputes an epoch's scores from them.",
	}
	one := func(use, short string, path func(args []string) (string, error), nargs int) *cobra.Command {
		var o auditOutput
		c := &cobra.Command{
			Use: use, Short: short, Args: cobra.ExactArgs(nargs),
			RunE: func(cmd *cobra.Command, args []string) error {
				p, err := path(args)
				if err != nil {
					return err
				}
				return rawAudit(cmd.Context(), e, &o, p)
			},
		}
		o.flags(c)
		return c
	}
	cmd.AddCommand(
		one("scores", "Every node's stored score (node, epoch, score in basis points, state)",
			func([]string) (string, error) { return gatewayclient.SLAPath("scores"), nil }, 0),
		one("show NODE", "A node's score (unscored, 8000, for a registered node never scored)",
			func(a []string) (string, error) { return gatewayclient.SLAPath("nodes", a[0]), nil }, 1),
		one("breakdown NODE", "How a node's current score was computed: each organisation's view, the epoch score, the previous score and state",
			func(a []string) (string, error) { return gatewayclient.SLAPath("nodes", a[0], "breakdown"), nil }, 1),
		one("history NODE", "Every breakdown of a node's score, oldest first (its full scoring record)",
			func(a []string) (string, error) { return gatewayclient.SLAPath("nodes", a[0], "history"), nil }, 1),
		one("attestations EPOCH", "Every attestation of an epoch (CSV: one row per observation)",
			func(a []string) (string, error) {
				e, err := epochArg(a[0])
				if err != nil {
					return "", err
				}
				return gatewayclient.SLAPath("epochs", strconv.FormatInt(e, 10), "attestations"), nil
			}, 1),
	)
	return cmd
}

func epochArg(s string) (int64, error) {
	e, err := strconv.ParseInt(s, 10, 64)
	if err != nil || e < 0 {
		return 0, fmt.Errorf("EPOCH must be a number >= 0, got %q", s)
	}
	return e, nil
}

var verdictHeader = []string{"node", "ok", "scored", "storedScore", "storedState", "storedEpochScore", "score", "state", "epochScore", "detail"}

func newVerifySLACommand(e *env) *cobra.Command {
	var o auditOutput
	cmd := &cobra.Command{
		Use:   "verify-sla EPOCH",
		Short: "Recompute every node's score of a scored epoch from the ledger's attestations and previous scores, and compare with the stored scores",
		Long: "verify-sla reads the epoch's scoring record, its attestations, and each observed node's owner and breakdown history\n" +
			"through the admin listener, recomputes the scores offline with the chaincode's formula (chaincode/records) and prints\n" +
			"one verdict per node (match or mismatch, on stderr too); it exits non-zero when any node does not match.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			epoch, err := epochArg(args[0])
			if err != nil {
				return err
			}
			c, err := e.adminClient()
			if err != nil {
				return err
			}
			ev, err := slaaudit.CollectEvidence(cmd.Context(), c, epoch)
			if err != nil {
				return err
			}
			vs := slaaudit.VerifyEpoch(ev)
			rows := make([][]string, 0, len(vs))
			bad := 0
			for _, v := range vs {
				rows = append(rows, []string{v.Node, strconv.FormatBool(v.OK), strconv.FormatBool(v.Scored), i64(v.StoredScore), string(v.StoredState),
					i64(v.StoredEpochScore), i64(v.Score), string(v.State), i64(v.EpochScore), v.Detail})
				fmt.Fprintln(e.stderr, v.String())
				if !v.OK {
					bad++
				}
			}
			if vs == nil {
				vs = []slaaudit.Verdict{}
			}
			if err := o.writeResult(e.stdout, vs, verdictHeader, rows); err != nil {
				return err
			}
			if bad > 0 {
				return fmt.Errorf("%w: %d of %d nodes of epoch %d do not match their stored scores", ErrMismatch, bad, len(vs), epoch)
			}
			fmt.Fprintf(e.stderr, "epoch %d: all %d nodes match\n", epoch, len(vs))
			return nil
		},
	}
	o.flags(cmd)
	return cmd
}
