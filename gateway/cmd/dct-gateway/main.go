// Command dct-gateway serves and publishes DCT content over HTTP.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/dct-network/dct/gateway"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := gateway.NewCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "dct-gateway:", err)
		os.Exit(1)
	}
}
