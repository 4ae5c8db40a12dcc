// Command dct-probe is the healthcheck of DCT's FROM-scratch images: it
// probes each target given (http(s)://… wants 200, tcp://host:port wants
// a connection) and exits 0 when all are healthy, 1 otherwise.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/dct-network/dct/pkg/probe"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: dct-probe http://host:port/path | tcp://host:port ...")
		os.Exit(2)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, t := range os.Args[1:] {
		if err := probe.Target(ctx, t); err != nil {
			fmt.Fprintln(os.Stderr, "dct-probe:", err)
			os.Exit(1)
		}
	}
}
