package gateway

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

type fixedEpoch struct {
	seconds int64
	err     error
}

func (f fixedEpoch) Epoch(context.Context) (*records.EpochInfo, error) {
	if f.err != nil {
		return nil, f.err
	}
	return &records.EpochInfo{Epoch: 1, Seconds: f.seconds, Window: records.SubmissionEpochs}, nil
}

// TestWithLedgerEpoch: the gateway takes the ledger's epoch length at
// start-up; a set --epoch-length must equal it, and the graces must end
// within an epoch of it.
func TestWithLedgerEpoch(t *testing.T) {
	base := DefaultConfig()
	base.ReceiptsDir, base.SLAAttest = "/tmp/r", true
	base.ReceiptsGrace, base.SLAGrace = time.Second, time.Second
	for _, c := range []struct {
		name   string
		mutate func(*Config)
		ledger fixedEpoch
		want   time.Duration
		err    string
	}{
		{"unset takes the ledger's", func(*Config) {}, fixedEpoch{seconds: 5}, 5 * time.Second, ""},
		{"unset takes the default ledger's", func(*Config) {}, fixedEpoch{seconds: 60}, time.Minute, ""},
		{"set and equal", func(c *Config) { c.EpochLength = 5 * time.Second }, fixedEpoch{seconds: 5}, 5 * time.Second, ""},
		{"set and different", func(c *Config) { c.EpochLength = time.Minute }, fixedEpoch{seconds: 5}, 0, "not the ledger's epoch length"},
		{"receipts grace of the ledger's epoch", func(c *Config) { c.ReceiptsGrace = 5 * time.Second }, fixedEpoch{seconds: 5}, 0, "--receipts-grace"},
		{"SLA grace over the ledger's epoch", func(c *Config) { c.SLAGrace = 10 * time.Second }, fixedEpoch{seconds: 5}, 0, "--sla-grace"},
		{"SLA grace without SLA", func(c *Config) { c.SLAAttest, c.SLAGrace = false, 10*time.Second }, fixedEpoch{seconds: 5}, 5 * time.Second, ""},
		{"a corrupt ledger length", func(*Config) {}, fixedEpoch{seconds: 0}, 0, "epoch length"},
		{"an unreadable ledger", func(*Config) {}, fixedEpoch{err: errors.New("peer down")}, 0, "peer down"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			c.mutate(&cfg)
			got, err := cfg.withLedgerEpoch(context.Background(), c.ledger)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("withLedgerEpoch: %v, want an error mentioning %q", err, c.err)
				}
				return
			}
			if err != nil || got.EpochLength != c.want {
				t.Fatalf("withLedgerEpoch: %v, %v; want %v", got.EpochLength, err, c.want)
			}
		})
	}
}
