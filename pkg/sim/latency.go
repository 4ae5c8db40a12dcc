package sim

import (
	"fmt"
	"math"
	"time"
)

// Access is one last-mile technology: its share of users and the RTT it
// adds to every round trip of a user.
type Access struct {
	Name  string
	RTT   time.Duration
	Share float64
}

// Latency is the RTT model:
//
//	RTT = 2 × distance ÷ FibreKMPerSec × Inflation + last mile + server time
//
// computed for each pair when needed (no N×N matrix). The last mile is a
// user's (Access, drawn per request by share); edge nodes, gateways, PoPs
// and the origin sit in well-connected sites (NodeLastMile, 0 by
// default). Server time is ServerBase plus an exponential of mean
// ServerMean, and with probability SlowShare SlowExtra more (a busy agent or
// a slow disk: what hedging is for).
type Latency struct {
	FibreKMPerSec float64
	Inflation     float64
	Access        []Access
	NodeLastMile  time.Duration
	ServerBase    time.Duration
	ServerMean    time.Duration
	SlowShare     float64
	SlowExtra     time.Duration
}

// DefaultLatency is the model's defaults; README.md cites each constant.
func DefaultLatency() Latency {
	return Latency{
		FibreKMPerSec: 200_000,
		Inflation:     2.1,
		Access: []Access{
			{Name: "fibre", RTT: 18 * time.Millisecond, Share: 0.40},
			{Name: "cable", RTT: 26 * time.Millisecond, Share: 0.35},
			{Name: "dsl", RTT: 44 * time.Millisecond, Share: 0.25},
		},
		ServerBase: 500 * time.Microsecond,
		ServerMean: 500 * time.Microsecond,
		SlowShare:  0.01,
		SlowExtra:  50 * time.Millisecond,
	}
}

// Validate checks the model.
func (l Latency) Validate() error {
	switch {
	case !(l.FibreKMPerSec > 0):
		return fmt.Errorf("%w: fibre speed must be positive", ErrConfig)
	case !(l.Inflation >= 1):
		return fmt.Errorf("%w: route inflation must be at least 1, got %v", ErrConfig, l.Inflation)
	case len(l.Access) == 0:
		return fmt.Errorf("%w: no last-mile technology", ErrConfig)
	case l.NodeLastMile < 0 || l.ServerBase < 0 || l.ServerMean < 0 || l.SlowExtra < 0:
		return fmt.Errorf("%w: durations must not be negative", ErrConfig)
	case l.SlowShare < 0 || l.SlowShare > 1:
		return fmt.Errorf("%w: slow share must be in [0, 1]", ErrConfig)
	}
	sum := 0.0
	for _, a := range l.Access {
		if a.Share < 0 || a.RTT < 0 {
			return fmt.Errorf("%w: last mile %s: negative share or RTT", ErrConfig, a.Name)
		}
		sum += a.Share
	}
	if math.Abs(sum-1) > 1e-6 {
		return fmt.Errorf("%w: last-mile shares sum to %v, want 1", ErrConfig, sum)
	}
	return nil
}

// String summarises the model.
func (l Latency) String() string {
	s := fmt.Sprintf("RTT = 2 × d ÷ %.0f km/s × %.2f", l.FibreKMPerSec, l.Inflation)
	for _, a := range l.Access {
		s += fmt.Sprintf(" | %s %s (%.0f%%)", a.Name, a.RTT, 100*a.Share)
	}
	return s + fmt.Sprintf(" + server %s+exp(%s), %.1f%% +%s", l.ServerBase, l.ServerMean, 100*l.SlowShare, l.SlowExtra)
}

// Propagation is the round trip over km of route: 2 × km ÷ speed ×
// inflation.
func (l Latency) Propagation(km float64) time.Duration {
	return time.Duration(2 * km / l.FibreKMPerSec * l.Inflation * float64(time.Second))
}

// access draws a user's last mile from u in [0, 1).
func (l Latency) access(u float64) time.Duration {
	for _, a := range l.Access {
		if u < a.Share {
			return a.RTT
		}
		u -= a.Share
	}
	return l.Access[len(l.Access)-1].RTT
}

// server draws a server time from u1, u2 in [0, 1).
func (l Latency) server(u1, u2 float64) time.Duration {
	d := l.ServerBase + time.Duration(-math.Log(1-u1)*float64(l.ServerMean))
	if u2 < l.SlowShare {
		d += l.SlowExtra
	}
	return d
}
