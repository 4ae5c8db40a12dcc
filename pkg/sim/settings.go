package sim

import (
	"fmt"

	"github.com/dct-network/dct/pkg/settings"
)

// Register binds the suite's settings to flags and DCT_SIM_* variables
// (set.Apply reads the variables; Validate checks the result).
func (s *SuiteConfig) Register(set *settings.Set, zoneTab *string, seed *int64) {
	set.String(zoneTab, "zone-tab", "tzdata zone1970.tab to read the cities from")
	set.Int64(seed, "seed", "random seed (the same seed gives the same figures)")
	set.String(&s.Out, "out", "directory for the CSV and PNG files and summary.md")
	set.Int(&s.Base.Nodes, "nodes", "edge nodes of the main run")
	set.Int(&s.Base.Requests, "requests", "requests of the main run")
	set.Int(&s.SweepRequests, "sweep-requests", "requests of each sweep")
	set.Int(&s.Base.Objects, "objects", "objects")
	set.Float64(&s.Base.Latency.Inflation, "inflation", "route inflation of the main run")
	set.String(&s.Region, "region", "tz area lost at once in the regional outage")
	set.String((*string)(&s.Users), "users", "how users are spread: population (metro and country populations) or uniform (over the city table)")
}

// Validate checks the suite.
func (s SuiteConfig) Validate() error {
	if err := s.Base.Validate(); err != nil {
		return err
	}
	if err := s.Recovery.Validate(); err != nil {
		return err
	}
	if err := s.Users.Validate(); err != nil {
		return err
	}
	switch {
	case s.Out == "":
		return fmt.Errorf("%w: no output directory", ErrConfig)
	case s.SweepRequests < 1 || s.SweepEdges < 1 || len(s.Nodes) == 0 || len(s.Inflations) == 0:
		return fmt.Errorf("%w: sweeps need requests, an edge count, node counts and inflations", ErrConfig)
	case s.CacheObjects < 1 || s.Region == "" || !(s.ChurnHours > 0):
		return fmt.Errorf("%w: cache, region and churn hours must be set", ErrConfig)
	case !(s.WarmRPS > 0) || !(s.ColdRPS > 0) || s.PublishesPerSec < 0:
		return fmt.Errorf("%w: gateway throughput must be positive", ErrConfig)
	}
	return nil
}
