//go:build integration

package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
)

func publicKeyPEM(t testing.TB, ed bool) string {
	t.Helper()
	var pub any
	if ed {
		p, _, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub = p
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		pub = &k.PublicKey
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func nodeInput(t testing.TB, id, zone string, port int) records.NodeInput {
	return records.NodeInput{
		ID: id, Endpoint: fmt.Sprintf("127.0.0.1:%d", port), Zone: zone,
		Latitude: 47.37, Longitude: 8.54, StorageBytes: 1 << 30, BandwidthBps: 1e9,
		PublicKey: publicKeyPEM(t, port%2 == 0),
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// wantCode asserts that err is a chaincode refusal with the given sentinel.
func wantCode(t *testing.T, what string, err error, sentinel error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: succeeded, want %v", what, sentinel)
	}
	if !errors.Is(err, sentinel) {
		t.Fatalf("%s: got %v, want %v", what, err, sentinel)
	}
}

func TestNodeRegistry(t *testing.T) {
	ctx := ctxT(t)
	bankA, bankB := orgClient(t, shared, 0), orgClient(t, shared, 1)
	mspA, mspB := shared.Orgs[0].MSPID, shared.Orgs[1].MSPID

	in := nodeInput(t, "reg-a1-org1", "zurich", 9001)
	n, err := bankA.RegisterNode(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if n.Org != mspA || n.Status != records.NodeStatusActive || n.LastTxID == "" || n.RegisteredAt == "" {
		t.Fatalf("registered node = %+v, want org %s, active, tx id and timestamp set", n, mspA)
	}
	if _, err := bankB.RegisterNode(ctx, nodeInput(t, "reg-b1-org2", "geneva", 9002)); err != nil {
		t.Fatal(err)
	}

	// Both organisations read the same record.
	for _, cl := range []*ledger.Client{bankA, bankB} {
		got, err := cl.GetNode(ctx, "reg-a1-org1")
		if err != nil {
			t.Fatal(err)
		}
		if got.Endpoint != in.Endpoint || got.Org != mspA {
			t.Fatalf("GetNode from %s = %+v", cl.MSPID(), got)
		}
	}

	upd := in
	upd.Endpoint, upd.Zone = "127.0.0.1:9101", "basel"
	n2, err := bankA.UpdateNode(ctx, upd)
	if err != nil {
		t.Fatal(err)
	}
	if n2.Endpoint != upd.Endpoint || n2.Zone != "basel" || n2.RegisteredAt != n.RegisteredAt || n2.LastTxID == n.LastTxID {
		t.Fatalf("updated node = %+v", n2)
	}

	before, err := bankA.GetNode(ctx, "reg-a1-org1")
	if err != nil {
		t.Fatal(err)
	}
	histBefore, err := bankA.NodeHistory(ctx, "reg-a1-org1")
	if err != nil {
		t.Fatal(err)
	}

	// Refusals: each is a clear chaincode error and changes nothing.
	evil := upd
	evil.Endpoint = "127.0.0.1:6666"
	refusals := []struct {
		name string
		call func() error
		want error
	}{
		{"org B updates org A's node", func() error { _, err := bankB.UpdateNode(ctx, evil); return err }, records.ErrForbidden},
		{"org B deactivates org A's node", func() error { _, err := bankB.DeactivateNode(ctx, "reg-a1-org1", "hostile"); return err }, records.ErrForbidden},
		{"org B claims org A in the input", func() error {
			x := nodeInput(t, "reg-b2-org2", "geneva", 9003)
			x.Org = mspA
			_, err := bankB.RegisterNode(ctx, x)
			return err
		}, records.ErrForbidden},
		{"duplicate id", func() error { _, err := bankA.RegisterNode(ctx, in); return err }, records.ErrConflict},
		{"malformed endpoint", func() error {
			x := nodeInput(t, "reg-bad-org1", "zurich", 9004)
			x.Endpoint = "no-port"
			_, err := bankA.RegisterNode(ctx, x)
			return err
		}, records.ErrInvalid},
		{"malformed public key", func() error {
			x := nodeInput(t, "reg-bad-org1", "zurich", 9004)
			x.PublicKey = "not a key"
			_, err := bankA.RegisterNode(ctx, x)
			return err
		}, records.ErrInvalid},
		{"latitude out of range", func() error {
			x := nodeInput(t, "reg-bad-org1", "zurich", 9004)
			x.Latitude = 91
			_, err := bankA.RegisterNode(ctx, x)
			return err
		}, records.ErrInvalid},
		{"unknown node", func() error { _, err := bankA.GetNode(ctx, "no-such-node"); return err }, records.ErrNotFound},
		{"update of unknown node", func() error { _, err := bankA.UpdateNode(ctx, nodeInput(t, "no-such-node", "z", 9005)); return err }, records.ErrNotFound},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) { wantCode(t, r.name, r.call(), r.want) })
	}
	after, err := bankA.GetNode(ctx, "reg-a1-org1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(before, after) {
		t.Fatalf("refused calls changed the node:\nbefore %+v\nafter  %+v", before, after)
	}
	if _, err := bankA.GetNode(ctx, "reg-bad-org1"); !errors.Is(err, records.ErrNotFound) {
		t.Fatalf("refused registration left a record: %v", err)
	}
	if _, err := bankA.GetNode(ctx, "reg-b2-org2"); !errors.Is(err, records.ErrNotFound) {
		t.Fatalf("refused registration left a record: %v", err)
	}

	// Deactivate / reactivate by the owner.
	d, err := bankA.DeactivateNode(ctx, "reg-a1-org1", "maintenance window")
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != records.NodeStatusInactive || d.DeactivationReason != "maintenance window" {
		t.Fatalf("deactivated node = %+v", d)
	}
	_, err = bankA.UpdateNode(ctx, upd)
	wantCode(t, "update of a deactivated node", err, records.ErrFailedPrecondition)
	_, err = bankA.DeactivateNode(ctx, "reg-a1-org1", "again")
	wantCode(t, "second deactivation", err, records.ErrFailedPrecondition)
	_, err = bankB.ReactivateNode(ctx, "reg-a1-org1")
	wantCode(t, "org B reactivates org A's node", err, records.ErrForbidden)
	r, err := bankA.ReactivateNode(ctx, "reg-a1-org1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != records.NodeStatusActive {
		t.Fatalf("reactivated node = %+v", r)
	}

	list, err := bankB.ListNodes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for i, n := range list {
		ids[n.ID] = n.Org
		if i > 0 && list[i-1].ID >= n.ID {
			t.Fatalf("ListNodes not sorted: %s before %s", list[i-1].ID, n.ID)
		}
	}
	if ids["reg-a1-org1"] != mspA || ids["reg-b1-org2"] != mspB {
		t.Fatalf("ListNodes = %v, want reg-a1 (%s) and reg-b1 (%s)", ids, mspA, mspB)
	}

	// The auditor's view: register, update, deactivate, reactivate.
	hist, err := bankB.NodeHistory(ctx, "reg-a1-org1")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != len(histBefore)+2 || len(histBefore) != 2 {
		t.Fatalf("node history has %d entries (before refusals %d), want 4 and 2", len(hist), len(histBefore))
	}
	wantStatus := []records.NodeStatus{records.NodeStatusActive, records.NodeStatusActive, records.NodeStatusInactive, records.NodeStatusActive}
	for i, h := range hist {
		var v records.Node
		if err := json.Unmarshal([]byte(h.Value), &v); err != nil {
			t.Fatalf("history entry %d: %v", i, err)
		}
		if h.TxID == "" || h.Timestamp == "" || h.IsDelete || v.Status != wantStatus[i] || v.LastTxID != h.TxID {
			t.Fatalf("history entry %d = %+v (status %s), want status %s and tx id matching the record", i, h, v.Status, wantStatus[i])
		}
	}
	if hist[0].TxID != n.LastTxID || hist[1].TxID != n2.LastTxID {
		t.Fatalf("history tx ids %s,%s want %s,%s", hist[0].TxID, hist[1].TxID, n.LastTxID, n2.LastTxID)
	}
	_, err = bankA.NodeHistory(ctx, "never-registered")
	wantCode(t, "history of unknown node", err, records.ErrNotFound)
}

// testManifest builds a valid manifest of k+m shards spread over nodes.
func testManifest(name, version string, content []byte, k, m int, nodes []string) *records.Manifest {
	sum := sha256.Sum256(content)
	s384 := sha512.Sum384(content)
	// One stripe: every shard is a single stripe unit.
	unit := max(1, int64((len(content)+k-1)/k))
	man := &records.Manifest{
		Name: name, Version: version, Size: int64(len(content)), ContentType: "text/css; charset=utf-8",
		SHA256: hex.EncodeToString(sum[:]), Integrity: "sha384-" + base64.StdEncoding.EncodeToString(s384[:]),
		K: k, M: m, StripeUnit: unit,
		Encryption: records.Encryption{Scheme: "aes-256-gcm-chunked/v1", ChunkSize: 65536},
	}
	for i := 0; i < k+m; i++ {
		h := sha256.Sum256([]byte(fmt.Sprintf("%s/%s/%d", name, version, i)))
		man.Shards = append(man.Shards, records.Shard{
			Index: i, Hash: hex.EncodeToString(h[:]), Size: unit, Nodes: []string{nodes[i%len(nodes)]},
		})
	}
	return man
}

func TestManifests(t *testing.T) {
	ctx := ctxT(t)
	bankA, bankB := orgClient(t, shared, 0), orgClient(t, shared, 1)
	mspA := shared.Orgs[0].MSPID
	var nodes []string
	for i, cl := range []*ledger.Client{bankA, bankA, bankB, bankB} {
		id := fmt.Sprintf("man-node-%d-%s", i, records.OrgSlug(cl.MSPID()))
		if _, err := cl.RegisterNode(ctx, nodeInput(t, id, fmt.Sprintf("zone-%d", i%2), 9200+i)); err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, id)
	}
	const name = "portal/css/site.css"
	v1 := testManifest(name, "v1", []byte("body{color:#123}"), 2, 2, nodes)
	rec1, err := bankA.RecordManifest(ctx, v1)
	if err != nil {
		t.Fatal(err)
	}
	if rec1.Publisher != mspA || rec1.TxID == "" || rec1.CreatedAt == "" || rec1.IsPurged() {
		t.Fatalf("recorded manifest = %+v", rec1)
	}
	v2 := testManifest(name, "v2", []byte("body{color:#456}"), 2, 2, nodes)
	rec2, err := bankA.RecordManifest(ctx, v2)
	if err != nil {
		t.Fatal(err)
	}
	// Org B's peer commits the block on its own time: read once it has.
	if err := bankB.WaitForCommit(ctx, rec2.TxID); err != nil {
		t.Fatal(err)
	}
	got, err := bankB.GetManifest(ctx, name, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if got.SHA256 != v1.SHA256 || got.Integrity != v1.Integrity || len(got.Shards) != 4 || got.Shards[3].Nodes[0] != nodes[3] {
		t.Fatalf("GetManifest v1 = %+v", got)
	}
	latest, err := bankB.LatestManifest(ctx, name)
	if err != nil || latest.Version != "v2" {
		t.Fatalf("LatestManifest = %+v, %v; want v2", latest, err)
	}

	objBefore, err := bankA.ObjectHistory(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	bad := func(mut func(m *records.Manifest)) func() error {
		return func() error {
			m := testManifest(name, "v3", []byte("x"), 2, 2, nodes)
			mut(m)
			_, err := bankA.RecordManifest(ctx, m)
			return err
		}
	}
	refusals := []struct {
		name string
		call func() error
		want error
	}{
		{"duplicate version", func() error { _, err := bankA.RecordManifest(ctx, v1); return err }, records.ErrConflict},
		{"unknown node", bad(func(m *records.Manifest) { m.Shards[1].Nodes = []string{"ghost-node"} }), records.ErrNotFound},
		{"malformed shard hash", bad(func(m *records.Manifest) { m.Shards[0].Hash = "xyz" }), records.ErrInvalid},
		{"malformed content hash", bad(func(m *records.Manifest) { m.SHA256 = "ABC" }), records.ErrInvalid},
		{"malformed integrity", bad(func(m *records.Manifest) { m.Integrity = "sha256-abc" }), records.ErrInvalid},
		{"k out of range", bad(func(m *records.Manifest) { m.K, m.M = 0, 4 }), records.ErrInvalid},
		{"m out of range", bad(func(m *records.Manifest) { m.K, m.M = 2, 129 }), records.ErrInvalid},
		{"shard count mismatch", bad(func(m *records.Manifest) { m.Shards = m.Shards[:3] }), records.ErrInvalid},
		{"bad name", bad(func(m *records.Manifest) { m.Name = "../etc/passwd" }), records.ErrInvalid},
		{"org B publishes a version of org A's name", func() error {
			_, err := bankB.RecordManifest(ctx, testManifest(name, "v7", []byte("hijack"), 2, 2, nodes))
			return err
		}, records.ErrForbidden},
		{"org B purges org A's version", func() error { _, err := bankB.PurgeManifest(ctx, name, "v1", "hostile"); return err }, records.ErrForbidden},
		{"purge without reason", func() error { _, err := bankA.PurgeManifest(ctx, name, "v1", ""); return err }, records.ErrInvalid},
		{"purge unknown version", func() error { _, err := bankA.PurgeManifest(ctx, name, "v9", "gone"); return err }, records.ErrNotFound},
		{"unknown object", func() error { _, err := bankA.LatestManifest(ctx, "no/such/object.js"); return err }, records.ErrNotFound},
	}
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) { wantCode(t, r.name, r.call(), r.want) })
	}
	// A manifest with a stray key field is refused by the chaincode's strict
	// decoder: keys never reach the ledger. Sent raw, past the typed client.
	t.Run("stray key field", func(t *testing.T) {
		raw, _ := json.Marshal(testManifest(name, "v4", []byte("y"), 2, 2, nodes))
		var m map[string]any
		_ = json.Unmarshal(raw, &m)
		m["encryption"].(map[string]any)["key"] = "c2VjcmV0"
		arg, _ := json.Marshal(m)
		_, _, err := bankA.Invoke(ctx, "manifest:Record", string(arg))
		wantCode(t, "stray key", err, records.ErrInvalid)
	})
	objAfter, err := bankA.ObjectHistory(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(objAfter) != len(objBefore) {
		t.Fatalf("refused calls wrote the object head: %d → %d history entries", len(objBefore), len(objAfter))
	}
	if _, err := bankA.GetManifest(ctx, name, "v3"); !errors.Is(err, records.ErrNotFound) {
		t.Fatalf("refused manifest v3 was recorded: %v", err)
	}

	// Purge v2 (tombstone): latest moves back to v1, v2 stays readable.
	p, err := bankA.PurgeManifest(ctx, name, "v2", "superseded by a security fix")
	if err != nil {
		t.Fatal(err)
	}
	if !p.IsPurged() || p.Purged.By != mspA || p.Purged.TxID == "" {
		t.Fatalf("purged manifest = %+v", p)
	}
	_, err = bankA.PurgeManifest(ctx, name, "v2", "again")
	wantCode(t, "second purge", err, records.ErrFailedPrecondition)
	if err := bankB.WaitForCommit(ctx, p.Purged.TxID); err != nil {
		t.Fatal(err)
	}
	latest, err = bankB.LatestManifest(ctx, name)
	if err != nil || latest.Version != "v1" {
		t.Fatalf("LatestManifest after purge = %+v, %v; want v1", latest, err)
	}
	versions, err := bankB.ManifestVersions(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	if len(versions) != 2 || versions[0].Version != "v1" || versions[1].Version != "v2" || !versions[1].IsPurged() {
		t.Fatalf("ManifestVersions = %+v", versions)
	}
	objs, err := bankB.ListObjects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range objs {
		if o.Name == name {
			found = true
			if o.Latest != "v1" || o.Owner != mspA || !reflect.DeepEqual(o.Versions, []string{"v1", "v2"}) {
				t.Fatalf("object head = %+v", o)
			}
		}
	}
	if !found {
		t.Fatalf("ListObjects has no %s: %+v", name, objs)
	}

	hist, err := bankB.ManifestHistory(ctx, name, "v2")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].TxID != rec2.TxID || hist[1].TxID != p.Purged.TxID {
		t.Fatalf("manifest history = %+v, want record %s then purge %s", hist, rec2.TxID, p.Purged.TxID)
	}
	var last records.Manifest
	if err := json.Unmarshal([]byte(hist[1].Value), &last); err != nil || !last.IsPurged() {
		t.Fatalf("last history value is not the tombstone: %v %s", err, hist[1].Value)
	}
	head, err := bankB.Object(ctx, name)
	if err != nil || head.Owner != mspA || head.Latest != "v1" || len(head.Versions) != 2 {
		t.Fatalf("Object = %+v, %v", head, err)
	}
	objHist, err := bankB.ObjectHistory(ctx, name)
	if err != nil || len(objHist) != 3 {
		t.Fatalf("object history = %d entries, %v; want 3 (v1, v2, purge)", len(objHist), err)
	}

	// A manifest may not place shards on a deactivated node.
	if _, err := bankB.DeactivateNode(ctx, nodes[3], "decommissioned"); err != nil {
		t.Fatal(err)
	}
	_, err = bankA.RecordManifest(ctx, testManifest(name, "v5", []byte("z"), 2, 2, nodes))
	wantCode(t, "placement on an inactive node", err, records.ErrFailedPrecondition)
}

// TestSubmitThroughput measures committed transactions per second with
// concurrent submitters (reported, not asserted: speed is a benchmark).
func TestSubmitThroughput(t *testing.T) {
	if testing.Short() {
		t.Skip("throughput run")
	}
	ctx := ctxT(t)
	cl := orgClient(t, shared, 0)
	key := publicKeyPEM(t, false)
	for _, workers := range []int{1, 20, 50} {
		total := 10 * workers
		if workers == 1 {
			total = 20
		}
		var next, failed atomic.Int64
		start := time.Now()
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1)
					if i > int64(total) {
						return
					}
					in := records.NodeInput{ID: fmt.Sprintf("tput-%d-%d-%s", workers, i, records.OrgSlug(cl.MSPID())), Endpoint: "127.0.0.1:9999", Zone: "bench",
						StorageBytes: 1, BandwidthBps: 1, PublicKey: key}
					if _, err := cl.RegisterNode(ctx, in); err != nil {
						t.Errorf("submit %d: %v", i, err)
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		el := time.Since(start)
		t.Logf("throughput: %d submitters, %d committed tx in %s = %.0f tx/s (%.1f ms per tx per submitter)",
			workers, int64(total)-failed.Load(), el.Round(time.Millisecond), float64(total)/el.Seconds(),
			float64(el.Milliseconds())*float64(workers)/float64(total))
	}
}
