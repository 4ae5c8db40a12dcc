package receipts

import (
	"bufio"
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const crashDirEnv = "DCT_RECEIPTS_CRASH_DIR"

// TestCrashChild is the process TestKilledWhileIssuing kills: it issues
// receipts from two goroutines without end and prints the durable length
// of the segment after every group commit.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestKilledWhileIssuing")
	}
	w, err := OpenWAL(dir, WALOptions{FlushInterval: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	id := testIdentity(t)
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: id.Cert.Raw}), 0o600)
	clk := &fakeClock{t: t0}
	is, _ := NewIssuer(w, id, time.Minute, clk.Now)
	for range 2 {
		go func() {
			for i := 0; ; i++ {
				if _, err := is.Issue(context.Background(), delivery(i)); err != nil {
					panic(err)
				}
			}
		}()
	}
	for {
		<-w.Synced()
		fmt.Printf("durable %d\n", w.Durable(100))
	}
}

// TestKilledWhileIssuing: a process issuing receipts is SIGKILLed; the
// log reopens with every record it reported durable, intact and signed,
// the torn tail cut, no serial twice, and its batch verifies.
func TestKilledWhileIssuing(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	var acked int64
	for sc.Scan() {
		if n, ok := strings.CutPrefix(sc.Text(), "durable "); ok {
			acked, _ = strconv.ParseInt(n, 10, 64)
			if acked > 200_000 {
				break
			}
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if acked == 0 {
		t.Fatal("the child reported nothing durable")
	}

	w := openTestWAL(t, dir)
	if got := w.Durable(100); got < acked {
		t.Fatalf("%d bytes survived, %d were reported durable", got, acked)
	}
	certPEM, _ := os.ReadFile(filepath.Join(dir, "cert.pem"))
	block, _ := pem.Decode(certPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	n, serials := count(t, w, 100)
	if n != len(serials) || n == 0 {
		t.Fatalf("%d records, %d serials", n, len(serials))
	}
	w.Seal(100)
	b, err := BuildBatch(w, 100)
	if err != nil {
		t.Fatal(err)
	}
	samples, err := b.Samples("tx-after-crash")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range samples {
		if err := VerifyReceipt(&s.Receipt, s.Proof, b.Root, b.Size(), s.Index, cert); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Input().Validate(); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d receipts survived the kill (%d bytes reported durable, %d on disk)", n, acked, w.Durable(100))
}
