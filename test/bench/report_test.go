//go:build bench

package bench

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// Verdict is a figure's standing against its target.
type Verdict int

const (
	// Info is a figure with no target (a baseline, a breakdown): it is
	// printed as "—", never as met.
	Info Verdict = iota
	// Met: the printed comparison meets the target.
	Met
	// NotMet: the printed comparison misses the target.
	NotMet
)

// VerdictOf is Met when ok, else NotMet.
func VerdictOf(ok bool) Verdict {
	if ok {
		return Met
	}
	return NotMet
}

func (v Verdict) String() string {
	switch v {
	case Met:
		return "met"
	case NotMet:
		return "NOT MET"
	default:
		return "—"
	}
}

var reportMu sync.Mutex

// report prints one figure of the benchmark report as a table row,
//
//	| figure | target | measured | met |
//
// and appends it to the file named by DCT_BENCH_REPORT (make bench prints
// that file, every figure of the run, at the end). target is "—" for a
// figure without one, and v must then be Info: a figure is "met" only when
// the measured value printed beside the target shows it.
func report(t testing.TB, figure, target, measured string, v Verdict) {
	t.Helper()
	if target == "" {
		target = "—"
	}
	if (target == "—") != (v == Info) {
		t.Errorf("report %q: a target needs a verdict and a verdict a target", figure)
	}
	line := fmt.Sprintf("| %s | %s | %s | %s |", cell(figure), cell(target), cell(measured), v)
	reportMu.Lock()
	defer reportMu.Unlock()
	fmt.Println("REPORT " + line)
	if path := os.Getenv("DCT_BENCH_REPORT"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			t.Errorf("report file: %v", err)
			return
		}
		defer f.Close()
		fmt.Fprintln(f, line)
	}
}

// cell keeps a value inside its table cell.
func cell(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), "|", "/") }
