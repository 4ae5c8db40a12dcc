package cli

import (
	"fmt"
	"time"

	"github.com/dct-network/dct/demo"
	"github.com/spf13/cobra"
)

func newFeedCommand(e *env) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "feed",
		Short: "Live data feeds: objects republished continually (served no-cache under the gateways' --feed-prefix)",
	}
	cmd.AddCommand(newFeedPublishCommand(e))
	return cmd
}

func newFeedPublishCommand(e *env) *cobra.Command {
	var (
		every     time.Duration
		count     int
		size      int
		seed      uint64
		keepGoing bool
		quiet     bool
	)
	cmd := &cobra.Command{
		Use:   "publish NAME",
		Short: "Republish a generated quote feed (the demo ticker's) as NAME every interval, until interrupted",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := e.adminClient()
			if err != nil {
				return err
			}
			feed, err := demo.NewQuoteFeed(seed, size)
			if err != nil {
				return err
			}
			return demo.RunFeed(cmd.Context(), c, args[0], feed, every, count, keepGoing, func(r demo.FeedResult) {
				switch {
				case r.Err != nil:
					fmt.Fprintf(e.stderr, "%s: publish failed after %v: %v\n", args[0], r.Took.Round(time.Millisecond), r.Err)
				case !quiet:
					fmt.Fprintf(e.stdout, "%s@%s\t%d bytes\tcommitted in %v\n", args[0], r.Version, r.Size, r.Took.Round(time.Millisecond))
				}
			})
		},
	}
	cmd.Flags().DurationVar(&every, "every", time.Second, "interval between publishes")
	cmd.Flags().IntVar(&count, "count", 0, "stop after this many publishes (0 = until interrupted)")
	cmd.Flags().IntVar(&size, "size", 0, "pad every document to this many bytes (0 = no padding)")
	cmd.Flags().Uint64Var(&seed, "seed", uint64(time.Now().UnixNano()), "seed of the quotes' random walk")
	cmd.Flags().BoolVar(&keepGoing, "keep-going", true, "go on after a failed publish")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print failures only")
	return cmd
}
