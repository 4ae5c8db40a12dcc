package receipts

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"math/big"
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

// TestCrashChild is the process TestKilledWhileIssuing kills: it opens
// the log in $DCT_RECEIPTS_CRASH_DIR (recovering it), issues receipts from
// two goroutines without end under the identity in cert.pem and key.pem
// there, and prints the durable length of the segment after every group
// commit.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashDirEnv)
	if dir == "" {
		t.Skip("run by TestKilledWhileIssuing")
	}
	id, err := loadPEMIdentity("Org1MSP", filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := OpenWAL(dir, WALOptions{Sealer: id, FlushInterval: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: t0}
	is, err := NewIssuer(w, id, time.Minute, clk.Now)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("opened %d\n", w.Durable(100))
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

// TestKilledWhileIssuing: a process issuing receipts (and sealing and
// flushing them every 2ms) is SIGKILLed, restarted on its log and killed
// again, three times; each time the log reopens with every record it
// reported durable, intact and sealed, the torn tail (a group without its
// seal) cut, no serial twice, and its batch verifies.
func TestKilledWhileIssuing(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "cert.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600)
	id := KeyIdentity("Org1MSP", cert, key)

	var prev map[string]bool
	for round := range 3 {
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
		var opened, acked int64 = -1, 0
		for sc.Scan() {
			if n, ok := strings.CutPrefix(sc.Text(), "opened "); ok {
				opened, _ = strconv.ParseInt(n, 10, 64)
			}
			if n, ok := strings.CutPrefix(sc.Text(), "durable "); ok {
				acked, _ = strconv.ParseInt(n, 10, 64)
				if acked > opened+200_000 {
					break
				}
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if opened < 0 || acked <= opened {
			t.Fatalf("round %d: the child reported nothing durable (opened at %d, acked %d)", round, opened, acked)
		}

		st, err := os.Stat(filepath.Join(dir, segmentName(100)))
		if err != nil {
			t.Fatal(err)
		}
		w, err := OpenWAL(dir, WALOptions{Sealer: id, Ticker: manualTicker})
		if err != nil {
			t.Fatal(err)
		}
		if got := w.Durable(100); got < acked {
			t.Fatalf("round %d: %d bytes survived, %d were reported durable", round, got, acked)
		}
		n, serials := count(t, w, 100)
		if n != len(serials) || n == 0 {
			t.Fatalf("round %d: %d records, %d serials", round, n, len(serials))
		}
		for s := range prev {
			if !serials[s] {
				t.Fatalf("round %d: receipt %s of an earlier round is lost", round, s)
			}
		}
		prev = serials
		var sealed int
		if err := ReadDir(dir, func(l Logged) error {
			sealed++
			if l.GroupIndex == 0 || l.GroupIndex == l.Seal.Size-1 {
				return VerifySealed(&l.SealedReceipt, cert)
			}
			return nil
		}); err != nil || sealed != n {
			t.Fatalf("round %d: %d sealed receipts of %d: %v", round, sealed, n, err)
		}
		b, err := BuildBatch(w, 100)
		if err != nil {
			t.Fatal(err)
		}
		samples, err := b.Samples("tx-after-crash")
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range samples {
			if err := VerifyReceipt(&s.SealedReceipt, s.Proof, b.Root, b.Size(), s.Index, cert); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Input().Validate(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: %d receipts in %d groups survived the kill (%d bytes reported durable, %d kept of %d on disk: a torn tail of %d bytes cut)",
			round, n, b.Groups(), acked, w.Durable(100), st.Size(), st.Size()-w.Durable(100))
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
