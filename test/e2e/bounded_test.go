//go:build integration

package e2e

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/api"
)

// Bounded serving on real processes: the e2e gateway runs without a
// cache, with --segment-bytes boundedSegment, --max-cold-reads
// boundedColdReads and a --cold-read-wait long enough for the other
// readers to queue (see main_test.go).
const (
	boundedObject    = 256 << 20 // the object read
	boundedClients   = 16        // concurrent readers
	boundedColdReads = 8         // the gateway's --max-cold-reads
	boundedSegment   = 2 << 20   // the gateway's --segment-bytes
	boundedWait      = "50s"     // the gateway's --cold-read-wait (< --request-timeout)
	// rssBound: a cold read holds about 8 MiB a segment in memory: the
	// ciphertext of the up to 3 stripes (k units of 256 KiB each) one
	// 2 MiB segment spans, the 2 MiB decoded, and up to 3 MiB of gRPC
	// messages not yet collected; with the default --stream-depth 1, one
	// segment at a time. 8 reads: 64 MiB live; Go's collector lets the
	// heap grow to twice the live data (GOGC=100), 128 MiB, and the
	// gateway uses ~50 MiB before the reads (measured): ~180 MiB < 256 MiB.
	// Buffering each range instead would take 16 × 256 MiB = 4 GiB.
	// (Measured: 178 MiB with --stream-depth 1, 301–315 MiB with 2.)
	rssBound = 256 << 20
)

// TestRangeReadsInBoundedMemory publishes a 256 MiB object and has 16
// clients read it at once with "Range: bytes=0-", each checking the
// SHA-256 of the whole body, while the gateway's resident memory is
// sampled from /proc/<pid>/status: it must stay below rssBound.
func TestRangeReadsInBoundedMemory(t *testing.T) {
	gw := env.Gateways[0]
	pid, err := env.PID(gw.Name)
	if err != nil {
		t.Fatal(err)
	}
	// Publish from a generator: the test holds no copy of the object.
	h := sha256.New()
	body := io.TeeReader(io.LimitReader(rand.New(rand.NewSource(256)), boundedObject), h)
	start := time.Now()
	res, err := client().Publish(ctxT(t, 10*time.Minute), "e2e/bounded/big.bin", "application/octet-stream", boundedObject, body)
	if err != nil {
		t.Fatalf("publish: %v", err)
	}
	want := hex.EncodeToString(h.Sum(nil))
	if res.SHA256 != want {
		t.Fatalf("published sha256 %s, want %s", res.SHA256, want)
	}
	t.Logf("published %d MiB in %s", boundedObject>>20, time.Since(start).Round(time.Millisecond))
	baseline := procStatus(t, pid, "VmRSS")

	// Sample the gateway's RSS until the readers are done.
	ctx, stopSampling := context.WithCancel(context.Background())
	var peak int64
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if v, err := readProcStatus(pid, "VmRSS"); err == nil {
				peak = max(peak, v)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()

	url := gatewayURL() + api.CDNURL(res.Name, res.Version)
	start = time.Now()
	rctx := ctxT(t, 5*time.Minute)
	var wg sync.WaitGroup
	errs := make([]error, boundedClients)
	for i := range boundedClients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = readWhole(rctx, url, want)
		}()
	}
	wg.Wait()
	stopSampling()
	<-sampled
	elapsed := time.Since(start)
	for i, err := range errs {
		if err != nil {
			t.Errorf("client %d: %v", i, err)
		}
	}
	hwm := procStatus(t, pid, "VmHWM")
	t.Logf("%d clients read %d MiB each with Range: bytes=0- in %s (%.0f MiB/s in all); gateway RSS: %d MiB before, peak sampled %d MiB, VmHWM %d MiB; bound %d MiB",
		boundedClients, boundedObject>>20, elapsed.Round(time.Millisecond),
		float64(boundedClients*boundedObject)/(1<<20)/elapsed.Seconds(), baseline>>20, peak>>20, hwm>>20, rssBound>>20)
	if peak == 0 || peak >= rssBound {
		t.Fatalf("gateway RSS peaked at %d MiB, bound %d MiB", peak>>20, rssBound>>20)
	}
}

// readWhole GETs url with "Range: bytes=0-" and checks the body's SHA-256
// without keeping it. A 503 OVERLOADED is retried after its Retry-After,
// a bounded number of times.
func readWhole(ctx context.Context, url, want string) error {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		req.Header.Set("Range", "bytes=0-")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		if resp.StatusCode == http.StatusServiceUnavailable && attempt < 30 {
			wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
			resp.Body.Close()
			select {
			case <-time.After(time.Duration(max(wait, 1)) * time.Second):
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		h := sha256.New()
		n, err := io.Copy(h, resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode != http.StatusPartialContent:
			return fmt.Errorf("status %s", resp.Status)
		case err != nil:
			return fmt.Errorf("after %d bytes: %w", n, err)
		case n != boundedObject || hex.EncodeToString(h.Sum(nil)) != want:
			return fmt.Errorf("%d bytes with sha256 %x, want %d bytes with %s", n, h.Sum(nil), boundedObject, want)
		case resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 0-%d/%d", boundedObject-1, boundedObject):
			return fmt.Errorf("Content-Range %q", resp.Header.Get("Content-Range"))
		}
		return nil
	}
}

// procStatus reads a size field (kB) of /proc/<pid>/status, in bytes.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	v, err := readProcStatus(pid, field)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func readProcStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %q: %w", field, rest, err)
		}
		return kb << 10, nil
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
