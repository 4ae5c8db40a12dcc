package contract

import (
	"crypto/ecdsa"
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
	"maps"
	"strings"
	"sync"
	"testing"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

const (
	orgA = "OrgAMSP"
	orgB = "OrgBMSP"
)

// env is a ledger with the three contracts.
type env struct {
	t      *testing.T
	ledger *fakes.Ledger
	node   *NodeContract
	man    *ManifestContract
	hist   *HistoryContract
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return &env{t: t, ledger: fakes.NewLedger(), node: NewNodeContract(), man: NewManifestContract(), hist: NewHistoryContract()}
}

// call runs fn as one transaction of a client of mspID and commits it. When
// fn fails, it checks that the transaction wrote nothing and that the
// ledger is unchanged, and that the error is a *records.Error.
func call[T any](e *env, mspID string, fn func(*fakes.Context) (T, error)) (T, error) {
	e.t.Helper()
	ctx := e.ledger.NewContext(mspID)
	return callCtx(e, ctx, fn)
}

func callCtx[T any](e *env, ctx *fakes.Context, fn func(*fakes.Context) (T, error)) (T, error) {
	e.t.Helper()
	before := e.ledger.Snapshot()
	res, err := fn(ctx)
	if err != nil {
		var re *records.Error
		if !errors.As(err, &re) {
			e.t.Fatalf("error %v is a %T, not a *records.Error", err, err)
		}
		if !strings.HasPrefix(err.Error(), "DCT-"+string(re.Code)+": ") {
			e.t.Fatalf("error text %q lacks the DCT prefix", err.Error())
		}
		if w := ctx.Stub.Writes(); len(w) != 0 {
			e.t.Fatalf("refused call (%v) wrote %q", err, w)
		}
	}
	ctx.Commit()
	if err != nil && !maps.Equal(before, e.ledger.Snapshot()) {
		e.t.Fatalf("refused call (%v) changed the ledger", err)
	}
	return res, err
}

// must runs fn like call and fails the test on error.
func must[T any](e *env, mspID string, fn func(*fakes.Context) (T, error)) T {
	e.t.Helper()
	res, err := call(e, mspID, fn)
	if err != nil {
		e.t.Fatalf("unexpected error: %v", err)
	}
	return res
}

func wantCode(t *testing.T, err error, code records.Code, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s containing %q", code, contains)
	}
	if got := records.CodeOf(err); got != code {
		t.Fatalf("got %v, want code %s", err, code)
	}
	if !strings.Contains(err.Error(), contains) {
		t.Fatalf("error %q does not contain %q", err.Error(), contains)
	}
}

var (
	keyOnce sync.Once
	keyPEM  string
)

func nodePublicKey(t *testing.T) string {
	keyOnce.Do(func() {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			panic(err)
		}
		keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	})
	return keyPEM
}

func nodeInput(t *testing.T, id string) records.NodeInput {
	return records.NodeInput{
		ID:           id,
		Endpoint:     id + ".cdn.example:8443",
		Zone:         "eu-west",
		Latitude:     50.1,
		Longitude:    8.7,
		StorageBytes: 1 << 30,
		BandwidthBps: 1_000_000_000,
		PublicKey:    nodePublicKey(t),
	}
}

func toJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func nodeJSON(t *testing.T, id string, mutate ...func(*records.NodeInput)) string {
	in := nodeInput(t, id)
	for _, f := range mutate {
		f(&in)
	}
	return toJSON(t, in)
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func sri(s string) string {
	sum := sha512.Sum384([]byte(s))
	return "sha384-" + base64.StdEncoding.EncodeToString(sum[:])
}

// manifest returns a valid k=2, m=1 manifest whose shards are spread over
// nodes.
func manifest(name, version string, nodes ...string) *records.Manifest {
	if len(nodes) == 0 {
		nodes = []string{"n1-orga", "n2-orga", "n3-orga"}
	}
	m := &records.Manifest{
		Name:        name,
		Version:     version,
		Size:        2048,
		ContentType: "application/octet-stream",
		SHA256:      digest(name + version),
		Integrity:   sri(name + version),
		K:           2,
		M:           1,
		StripeUnit:  1024,
		Encryption:  records.Encryption{Scheme: "aes-256-gcm", ChunkSize: 65536},
	}
	for i := range m.K + m.M {
		m.Shards = append(m.Shards, records.Shard{
			Index: i,
			Hash:  digest(fmt.Sprint(name, version, i)),
			Size:  1024,
			Nodes: []string{nodes[i%len(nodes)]},
		})
	}
	return m
}

func manifestJSON(t *testing.T, name, version string, mutate ...func(*records.Manifest)) string {
	m := manifest(name, version)
	for _, f := range mutate {
		f(m)
	}
	return toJSON(t, m)
}

// registerNodes registers active nodes owned by mspID.
func (e *env) registerNodes(mspID string, ids ...string) {
	e.t.Helper()
	for _, id := range ids {
		must(e, mspID, func(ctx *fakes.Context) (*records.Node, error) {
			return e.node.Register(ctx, nodeJSON(e.t, id))
		})
	}
}

// record records manifest name@version by mspID over nodes n1..n3 of org A.
func (e *env) record(mspID, name, version string) *records.Manifest {
	e.t.Helper()
	return must(e, mspID, func(ctx *fakes.Context) (*records.Manifest, error) {
		return e.man.Record(ctx, manifestJSON(e.t, name, version))
	})
}
