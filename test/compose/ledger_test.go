//go:build integration

package compose

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/gatewayclient"
	"github.com/dct-network/dct/pkg/netdesc"
	"github.com/dct-network/dct/pkg/receipts"
)

// description reads the consortium's network.json out of a container
// that mounts the consortium volume (paths in it are the containers').
func (s *stack) description(ctx context.Context, container string) *netdesc.Description {
	s.t.Helper()
	dir := s.t.TempDir()
	if _, err := docker(ctx, "cp", container+":/var/dct/network/"+netdesc.DescriptionFile, dir); err != nil {
		s.t.Fatal(err)
	}
	d, err := netdesc.Load(dir)
	if err != nil {
		s.t.Fatal(err)
	}
	return d
}

// query runs a chaincode query on the ledger with Fabric's peer CLI, as the
// first organisation's admin against its peer, in a one-off container of
// the tools image on the backbone: the ledger's own answer, not a
// gateway's view of it.
func (s *stack) query(ctx context.Context, d *netdesc.Description, fn string, args ...string) ([]byte, error) {
	o := d.Orgs[0]
	p := o.Peers[0]
	call, err := json.Marshal(map[string]any{"function": fn, "Args": args})
	if err != nil {
		return nil, err
	}
	full := append(append([]string{}, s.compose[1:]...), "-f", filepath.Join(s.root, "docker-compose.yaml"), "-p", s.project,
		"run", "--rm", "--no-deps", "-T", "--entrypoint", "/usr/local/bin/peer",
		"-e", "FABRIC_CFG_PATH="+filepath.Join(d.RunDir, "nodes", p.Name, "config"), // the peer's merged core.yaml
		"-e", "FABRIC_LOGGING_SPEC=error",
		"-e", "CORE_PEER_LOCALMSPID="+o.MSPID,
		"-e", "CORE_PEER_MSPCONFIGPATH="+o.AdminMSPDir,
		"-e", "CORE_PEER_ADDRESS="+p.Address,
		"-e", "CORE_PEER_TLS_ENABLED=true",
		"-e", "CORE_PEER_TLS_ROOTCERT_FILE="+p.TLSCACert,
		"dct", "chaincode", "query", "-C", d.Channel, "-n", d.Chaincode, "-c", string(call))
	cmd := exec.CommandContext(ctx, s.compose[0], full...)
	cmd.Env, cmd.Dir = s.env, s.root
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("peer chaincode query %s %v: %w\n%s", fn, args, err, stderr.String())
	}
	return out, nil
}

// receiptCheck is what checkReceipts found for one gateway.
type receiptCheck struct {
	gateway  string
	receipts int64 // in the gateway's log
	epochs   int   // with receipts, each with its one accepted batch
	waited   time.Duration
}

// checkReceipts checks that every receipt a gateway issued reached the
// ledger exactly once: no serial twice in its write-ahead log (copied out
// of its container), and for every epoch of the log one batch of the
// gateway's organisation on the ledger (delivery:Batches), accepted, of
// the log's size and per-node counts. It waits until the batch of the
// last epoch read in is accepted (an epoch is submitted after it ended).
func (s *stack) checkReceipts(ctx context.Context, d *netdesc.Description, svc, msp string) receiptCheck {
	s.t.Helper()
	start := time.Now()
	res := receiptCheck{gateway: svc}
	ctx, cancel := context.WithTimeout(ctx, 4*time.Minute)
	defer cancel()
	for attempt := 0; ; attempt++ {
		counts, perNode, n := s.walCounts(ctx, svc)
		out, err := s.query(ctx, d, "delivery:Batches", msp)
		if err != nil {
			s.t.Fatal(err)
		}
		var bs []*records.Batch
		if err := json.Unmarshal(out, &bs); err != nil {
			s.t.Fatalf("delivery:Batches %s: %v: %s", msp, err, out)
		}
		perEpoch := map[int64][]*records.Batch{}
		for _, b := range bs {
			perEpoch[b.Epoch] = append(perEpoch[b.Epoch], b)
		}
		pending := []int64{}
		for e, c := range counts {
			got := perEpoch[e]
			if len(got) > 1 {
				s.t.Fatalf("%s: %d batches of %s for epoch %d: receipts on the ledger twice", svc, len(got), msp, e)
			}
			if len(got) == 0 || got[0].Status != records.BatchAccepted {
				pending = append(pending, e)
				continue
			}
			b := got[0]
			if b.Size != c {
				s.t.Errorf("%s epoch %d: the log has %d receipts, the accepted batch %s %d", svc, e, c, b.ID, b.Size)
			}
			for _, nt := range b.Totals {
				if want := perNode[e][nt.Node+"/"+nt.Publisher]; nt.Receipts != want {
					s.t.Errorf("%s epoch %d: batch %s counts %d receipts of %s for %s, the log %d", svc, e, b.ID, nt.Receipts, nt.Node, nt.Publisher, want)
				}
			}
		}
		for e := range perEpoch {
			if _, ok := counts[e]; !ok {
				s.t.Errorf("%s: a batch of epoch %d on the ledger, no receipt of that epoch in the log", svc, e)
			}
		}
		if len(pending) == 0 && len(counts) > 0 {
			res.receipts, res.epochs, res.waited = n, len(counts), time.Since(start)
			return res
		}
		if ctx.Err() != nil {
			slices.Sort(pending)
			s.t.Fatalf("%s: epochs %v of %d with receipts never got an accepted batch: %v", svc, pending, len(counts), ctx.Err())
		}
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Second):
		}
	}
}

// walCounts copies the gateway's receipt log out of its container and
// counts its sealed receipts per epoch, and per epoch and node/publisher;
// a serial twice fails the test.
func (s *stack) walCounts(ctx context.Context, svc string) (map[int64]int64, map[int64]map[string]int64, int64) {
	s.t.Helper()
	dir := s.t.TempDir()
	if _, err := docker(ctx, "cp", s.containers(ctx)[svc]+":/var/dct/data/receipts", dir); err != nil {
		s.t.Fatal(err)
	}
	counts, perNode := map[int64]int64{}, map[int64]map[string]int64{}
	serials := map[string]bool{}
	var n int64
	err := receipts.ReadDir(filepath.Join(dir, "receipts"), func(l receipts.Logged) error {
		r := l.Receipt
		if serials[r.Serial] {
			return fmt.Errorf("serial %s is twice in the log", r.Serial)
		}
		serials[r.Serial] = true
		counts[r.Epoch]++
		if perNode[r.Epoch] == nil {
			perNode[r.Epoch] = map[string]int64{}
		}
		perNode[r.Epoch][r.Node+"/"+l.Publisher]++
		n++
		return nil
	})
	if err != nil {
		s.t.Fatalf("%s's receipt log: %v", svc, err)
	}
	_ = os.RemoveAll(dir)
	return counts, perNode, n
}

// holders reads every live object version's manifest from the ledger
// (through gateway0's audit view, which queries its peer) and returns
// them.
func holders(ctx context.Context, pub *gatewayclient.Client) ([]*records.Manifest, error) {
	objs, err := pub.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []*records.Manifest
	for _, o := range objs {
		m, err := pub.AuditObject(ctx, o.Name, "")
		if err != nil {
			return nil, fmt.Errorf("manifest of %s: %w", o.Name, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// redundancy checks manifests against full redundancy without node: every
// shard has its R holders, none of them node, no bank (orgOf) holds more
// than M shards of an object. It returns what falls short ("" when none).
func redundancy(ms []*records.Manifest, node string, r int, orgOf map[string]string) string {
	var short []string
	for _, m := range ms {
		perOrg := map[string]int{}
		for _, sh := range m.Shards {
			if len(sh.Nodes) != r || slices.Contains(sh.Nodes, node) {
				short = append(short, fmt.Sprintf("%s shard %d: %v", m, sh.Index, sh.Nodes))
			}
			for _, h := range sh.Nodes {
				perOrg[orgOf[h]]++
			}
		}
		for org, n := range perOrg {
			if n > m.M*r {
				short = append(short, fmt.Sprintf("%s: %s holds %d shards (M = %d)", m, org, n, m.M))
			}
		}
	}
	return strings.Join(short, "; ")
}

// waitRedundancy polls the ledger until every object is back at full
// redundancy without node (redundancy), and returns how long it took.
func waitRedundancy(ctx context.Context, t *testing.T, pub *gatewayclient.Client, node string, orgOf map[string]string) time.Duration {
	t.Helper()
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	last := ""
	for {
		ms, err := holders(ctx, pub)
		if err == nil {
			if last = redundancy(ms, node, 1, orgOf); last == "" {
				return time.Since(start)
			}
		} else {
			last = err.Error()
		}
		select {
		case <-ctx.Done():
			t.Fatalf("not back at full redundancy without %s: %s: %v", node, last, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}
