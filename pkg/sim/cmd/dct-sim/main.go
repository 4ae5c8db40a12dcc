// Command dct-sim runs DCT's scale simulation (pkg/sim): the main
// comparison with centralized PoPs and every sweep, written as CSV, PNG and
// a Markdown summary into --out. `make sim` runs it with the defaults.
package main

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/dct-network/dct/pkg/settings"
	"github.com/dct-network/dct/pkg/sim"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "dct-sim:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg := sim.DefaultSuite("docs/sim")
	zoneTab, seed := sim.DefaultZoneTab, int64(cfg.Base.Seed)
	fs := pflag.NewFlagSet("dct-sim", pflag.ContinueOnError)
	set := settings.New(fs, "DCT_SIM_")
	cfg.Register(set, &zoneTab, &seed)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := set.Apply(); err != nil {
		return err
	}
	if seed < 0 {
		return fmt.Errorf("%w: seed must not be negative", sim.ErrConfig)
	}
	cfg.Base.Seed = uint64(seed)
	if err := cfg.Validate(); err != nil {
		return err
	}
	cities, err := sim.LoadCities(zoneTab)
	if err != nil {
		return err
	}
	md, err := sim.RunSuite(cfg, cities, log)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(cfg.Out, "summary.md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Print(md)
	return nil
}
