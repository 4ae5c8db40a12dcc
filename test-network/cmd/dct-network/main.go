// Command dct-network brings the DCT test network up and down.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	testnetwork "github.com/dct-network/dct/test-network"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := testnetwork.NewCommand(os.Stdout).ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "dct-network:", err)
		os.Exit(1)
	}
}
