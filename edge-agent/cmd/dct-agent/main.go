// Command dct-agent is DCT's edge agent: it stores and serves shards for
// the gateways and registers itself in the ledger's node registry.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	edgeagent "github.com/dct-network/dct/edge-agent"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := edgeagent.NewCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "dct-agent:", err)
		os.Exit(1)
	}
}
