package records

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode"
)

func pemPublicKey(t *testing.T, pub any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func p256Key(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pemPublicKey(t, &k.PublicKey)
}

func validNodeInput(t *testing.T) NodeInput {
	return NodeInput{
		ID:           "edge-1",
		Endpoint:     "edge-1.example.net:8443",
		Zone:         "eu-west.1",
		Latitude:     48.85,
		Longitude:    2.35,
		StorageBytes: 1 << 40,
		BandwidthBps: 10_000_000_000,
		PublicKey:    p256Key(t),
	}
}

func hexOf(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func integrityOf(s string) string {
	sum := sha512.Sum384([]byte(s))
	return IntegrityPrefix + base64.StdEncoding.EncodeToString(sum[:])
}

func validManifest(k, m int) *Manifest {
	man := &Manifest{
		Name:        "videos/intro.mp4",
		Version:     "v1",
		Size:        500,
		ContentType: "video/mp4",
		SHA256:      hexOf("content"),
		Integrity:   integrityOf("content"),
		K:           k,
		M:           m,
		StripeUnit:  512,
		Encryption:  Encryption{Scheme: "aes-256-gcm", ChunkSize: 65536},
	}
	for i := range k + m {
		man.Shards = append(man.Shards, Shard{
			Index: i,
			Hash:  hexOf(fmt.Sprint("shard", i)),
			Size:  512,
			Nodes: []string{fmt.Sprintf("n%d", i%3), fmt.Sprintf("n%d", (i+1)%3)},
		})
	}
	return man
}

func wantInvalid(t *testing.T, err error, contains string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want INVALID_ARGUMENT containing %q", contains)
	}
	var e *Error
	if !errors.As(err, &e) || e.Code != CodeInvalid {
		t.Fatalf("got %v (%T), want an INVALID_ARGUMENT *Error", err, err)
	}
	if !strings.Contains(e.Message, contains) {
		t.Fatalf("message %q does not contain %q", e.Message, contains)
	}
}

func TestNodeInputValidate(t *testing.T) {
	edKey, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := strings.Replace(p256Key(t), "PUBLIC KEY", "CERTIFICATE", 2)

	tests := []struct {
		name   string
		mutate func(*NodeInput)
		want   string // "" means valid
	}{
		{"valid p256", func(*NodeInput) {}, ""},
		{"valid ed25519", func(n *NodeInput) { n.PublicKey = pemPublicKey(t, edKey) }, ""},
		{"valid ipv4", func(n *NodeInput) { n.Endpoint = "10.0.0.1:1" }, ""},
		{"valid ipv6", func(n *NodeInput) { n.Endpoint = "[2001:db8::1]:65535" }, ""},
		{"valid with org", func(n *NodeInput) { n.Org = "Org1MSP" }, ""},
		{"valid extremes", func(n *NodeInput) { n.Latitude, n.Longitude = -90, 180 }, ""},
		{"valid long id", func(n *NodeInput) { n.ID = "a" + strings.Repeat("-", 62) }, ""},
		{"empty id", func(n *NodeInput) { n.ID = "" }, "id must not be empty"},
		{"upper id", func(n *NodeInput) { n.ID = "Edge" }, "must match"},
		{"leading dash", func(n *NodeInput) { n.ID = "-edge" }, "must match"},
		{"too long id", func(n *NodeInput) { n.ID = strings.Repeat("a", 64) }, "must match"},
		{"org with space", func(n *NodeInput) { n.Org = "Org 1" }, "org"},
		{"endpoint no port", func(n *NodeInput) { n.Endpoint = "edge.example.net" }, "host:port"},
		{"endpoint port 0", func(n *NodeInput) { n.Endpoint = "edge.example.net:0" }, "1..65535"},
		{"endpoint port big", func(n *NodeInput) { n.Endpoint = "edge.example.net:65536" }, "1..65535"},
		{"endpoint port name", func(n *NodeInput) { n.Endpoint = "edge.example.net:https" }, "numeric port"},
		{"endpoint port sign", func(n *NodeInput) { n.Endpoint = "edge.example.net:+80" }, "numeric port"},
		{"endpoint no host", func(n *NodeInput) { n.Endpoint = ":8443" }, "must name a host"},
		{"endpoint bad host", func(n *NodeInput) { n.Endpoint = "bad host:8443" }, "invalid host"},
		{"endpoint url", func(n *NodeInput) { n.Endpoint = "https://edge:8443" }, "endpoint"},
		{"zone empty", func(n *NodeInput) { n.Zone = "" }, "zone must not be empty"},
		{"zone bad", func(n *NodeInput) { n.Zone = "eu west" }, "zone"},
		{"latitude", func(n *NodeInput) { n.Latitude = 90.0001 }, "latitude"},
		{"longitude", func(n *NodeInput) { n.Longitude = -180.5 }, "longitude"},
		{"storage zero", func(n *NodeInput) { n.StorageBytes = 0 }, "storageBytes"},
		{"bandwidth negative", func(n *NodeInput) { n.BandwidthBps = -1 }, "bandwidthBps"},
		{"key empty", func(n *NodeInput) { n.PublicKey = "" }, "publicKey must not be empty"},
		{"key not pem", func(n *NodeInput) { n.PublicKey = "ssh-ed25519 AAAA" }, "PEM block"},
		{"key wrong block", func(n *NodeInput) { n.PublicKey = certPEM }, `"PUBLIC KEY" block`},
		{"key garbage der", func(n *NodeInput) {
			n.PublicKey = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte("nope")}))
		}, "not a PKIX public key"},
		{"key p384", func(n *NodeInput) { n.PublicKey = pemPublicKey(t, &p384.PublicKey) }, "P-256"},
		{"key rsa", func(n *NodeInput) { n.PublicKey = pemPublicKey(t, &rsaKey.PublicKey) }, "ECDSA P-256 or Ed25519"},
		{"key two blocks", func(n *NodeInput) { n.PublicKey += n.PublicKey }, "exactly one PEM block"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validNodeInput(t)
			tt.mutate(&in)
			err := in.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			wantInvalid(t, err, tt.want)
		})
	}
}

// TestNodeInputValidateSettings: the operator's fields are checked without
// an endpoint, org or key.
func TestNodeInputValidateSettings(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*NodeInput)
		want   string // "" means valid
	}{
		{"valid without endpoint and key", func(n *NodeInput) { n.Endpoint, n.PublicKey = "", "" }, ""},
		{"upper id", func(n *NodeInput) { n.ID = "Edge" }, "must match"},
		{"zone bad", func(n *NodeInput) { n.Zone = "eu west" }, "zone"},
		{"latitude NaN", func(n *NodeInput) { n.Latitude = math.NaN() }, "latitude"},
		{"longitude", func(n *NodeInput) { n.Longitude = 181 }, "longitude"},
		{"storage zero", func(n *NodeInput) { n.StorageBytes = 0 }, "storageBytes"},
		{"bandwidth zero", func(n *NodeInput) { n.BandwidthBps = 0 }, "bandwidthBps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validNodeInput(t)
			tt.mutate(&in)
			err := in.ValidateSettings()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			wantInvalid(t, err, tt.want)
		})
	}
	var missing *NodeInput
	wantInvalid(t, missing.ValidateSettings(), "missing")
}

func TestNodeValidate(t *testing.T) {
	in := validNodeInput(t)
	n := &Node{Status: NodeStatusActive}
	n.ID, n.Endpoint, n.Zone, n.PublicKey = in.ID, in.Endpoint, in.Zone, in.PublicKey
	n.StorageBytes, n.BandwidthBps = in.StorageBytes, in.BandwidthBps
	n.Org = "Org1MSP"
	if err := n.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := *n
	bad.Org = ""
	wantInvalid(t, bad.Validate(), "org must not be empty")
	bad = *n
	bad.Status = "paused"
	wantInvalid(t, bad.Validate(), "status")
	bad = *n
	bad.DeactivationReason = "a\nb"
	wantInvalid(t, bad.Validate(), "single line")
	if n.String() != "edge-1" || NodeStatusInactive.String() != "inactive" || !n.Active() {
		t.Error("String/Active mismatch")
	}
}

func TestDecodeNodeInput(t *testing.T) {
	in := validNodeInput(t)
	good, _ := json.Marshal(in)
	tests := []struct {
		name string
		data string
		want string
	}{
		{"valid", string(good), ""},
		{"unknown field", strings.Replace(string(good), `"id"`, `"status":"active","id"`, 1), `unknown field "status"`},
		{"trailing", string(good) + `{}`, "trailing data"},
		{"empty", "  ", "empty"},
		{"null", "null", "id must not be empty"},
		{"array", "[]", "malformed"},
		{"wrong type", strings.Replace(string(good), `"storageBytes":1099511627776`, `"storageBytes":"big"`, 1), "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeNodeInput([]byte(tt.data))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if *got != in {
					t.Fatalf("decoded %+v, want %+v", *got, in)
				}
				return
			}
			wantInvalid(t, err, tt.want)
		})
	}
}

func TestManifestValidate(t *testing.T) {
	tests := []struct {
		name   string
		k, m   int
		mutate func(*Manifest)
		want   string
	}{
		{"valid", 4, 2, func(*Manifest) {}, ""},
		{"valid no parity", 1, 0, func(*Manifest) {}, ""},
		{"valid max", 128, 128, func(*Manifest) {}, ""},
		{"valid no content type", 2, 1, func(m *Manifest) { m.ContentType = "" }, ""},
		{"valid content type params", 2, 1, func(m *Manifest) { m.ContentType = "text/html; charset=utf-8" }, ""},
		{"valid empty object", 2, 1, func(m *Manifest) { m.Size = 0 }, ""},
		{"valid tilde name", 2, 1, func(m *Manifest) { m.Name = "a/~b/c.d-e_f" }, ""},
		{"valid whole-object encryption", 2, 1, func(m *Manifest) { m.Encryption.ChunkSize = 0 }, ""},
		{"name empty", 2, 1, func(m *Manifest) { m.Name = "" }, "name must not be empty"},
		{"name leading slash", 2, 1, func(m *Manifest) { m.Name = "/a" }, "must match"},
		{"name dotdot", 2, 1, func(m *Manifest) { m.Name = "a/../b" }, `".." path segment`},
		{"name dotdot end", 2, 1, func(m *Manifest) { m.Name = "a/.." }, `".." path segment`},
		{"name dot", 2, 1, func(m *Manifest) { m.Name = "a/./b" }, `"." path segment`},
		{"name double slash", 2, 1, func(m *Manifest) { m.Name = "a//b" }, "empty path segment"},
		{"name trailing slash", 2, 1, func(m *Manifest) { m.Name = "a/b/" }, "empty path segment"},
		{"name space", 2, 1, func(m *Manifest) { m.Name = "a b" }, "must match"},
		{"name too long", 2, 1, func(m *Manifest) { m.Name = strings.Repeat("a", 256) }, "must match"},
		{"version bad", 2, 1, func(m *Manifest) { m.Version = "v1/2" }, "version"},
		{"size negative", 2, 1, func(m *Manifest) { m.Size = -1 }, "size must be in 0..1099511627776, got -1"},
		{"size too large", 2, 1, func(m *Manifest) { m.Size = MaxObjectBytes + 1 }, "size must be in 0.."},
		{"shards too small for the content", 2, 1, func(m *Manifest) { m.Size = 1025 }, "k = 2 shards of 512 bytes cannot hold 1025 bytes"},
		{"shards of different sizes", 2, 1, func(m *Manifest) { m.Shards[2].Size = 1024 }, "every shard has the same size"},
		{"shard not whole stripe units", 2, 1, func(m *Manifest) {
			for i := range m.Shards {
				m.Shards[i].Size = 700
			}
		}, "not a whole number of stripe units of 512"},
		{"stripe unit too large", 2, 1, func(m *Manifest) { m.StripeUnit = MaxStripeUnit + 1 }, "stripeUnit must be in 1..67108864"},
		{"content type bad", 2, 1, func(m *Manifest) { m.ContentType = "not a type" }, "contentType"},
		{"content type long", 2, 1, func(m *Manifest) { m.ContentType = "text/" + strings.Repeat("a", 251) }, "at most 255"},
		{"sha256 upper", 2, 1, func(m *Manifest) { m.SHA256 = strings.ToUpper(m.SHA256) }, "sha256 must be"},
		{"sha256 short", 2, 1, func(m *Manifest) { m.SHA256 = m.SHA256[:63] }, "sha256 must be"},
		{"sha256 not hex", 2, 1, func(m *Manifest) { m.SHA256 = strings.Repeat("g", 64) }, "sha256 must be"},
		{"integrity prefix", 2, 1, func(m *Manifest) { m.Integrity = strings.Replace(m.Integrity, "sha384", "sha256", 1) }, `must start with "sha384-"`},
		{"integrity base64", 2, 1, func(m *Manifest) { m.Integrity = IntegrityPrefix + "!!!" }, "not standard base64"},
		{"integrity url base64", 2, 1, func(m *Manifest) {
			m.Integrity = IntegrityPrefix + base64.StdEncoding.EncodeToString(make([]byte, 47)) + "_"
		}, "not standard base64"},
		{"integrity length", 2, 1, func(m *Manifest) {
			m.Integrity = IntegrityPrefix + base64.StdEncoding.EncodeToString(make([]byte, 32))
		}, "48 bytes"},
		{"k zero", 0, 1, func(*Manifest) {}, "k must be in 1..128"},
		{"k too big", 129, 0, func(*Manifest) {}, "k must be in 1..128"},
		{"m negative", 2, 0, func(m *Manifest) { m.M = -1 }, "m must be in 0..128"},
		{"m too big", 1, 129, func(*Manifest) {}, "m must be in 0..128"},
		{"k+m over 256", 128, 128, func(m *Manifest) { m.K, m.M = 129, 128 }, "k must be in 1..128"},
		{"stripe unit zero", 2, 1, func(m *Manifest) { m.StripeUnit = 0 }, "stripeUnit must be in 1..67108864, got 0"},
		{"too few shards", 2, 1, func(m *Manifest) { m.Shards = m.Shards[:2] }, "exactly k+m = 3 entries, got 2"},
		{"too many shards", 2, 1, func(m *Manifest) { m.Shards = append(m.Shards, m.Shards[0]) }, "exactly k+m = 3 entries, got 4"},
		{"shard index", 2, 1, func(m *Manifest) { m.Shards[1].Index = 2 }, "shards[1].index must be 1"},
		{"shard hash", 2, 1, func(m *Manifest) { m.Shards[2].Hash = "abc" }, "shards[2].hash"},
		{"shard size", 2, 1, func(m *Manifest) { m.Shards[0].Size = -5 }, "shards[0].size"},
		{"shard no nodes", 2, 1, func(m *Manifest) { m.Shards[0].Nodes = nil }, "shards[0].nodes must not be empty"},
		{"shard dup node", 2, 1, func(m *Manifest) { m.Shards[1].Nodes = []string{"n1", "n1"} }, "lists node \"n1\" twice"},
		{"shard bad node", 2, 1, func(m *Manifest) { m.Shards[1].Nodes[1] = "N_1" }, "shards[1].nodes[1]"},
		{"scheme empty", 2, 1, func(m *Manifest) { m.Encryption.Scheme = "" }, "encryption.scheme must not be empty"},
		{"scheme upper", 2, 1, func(m *Manifest) { m.Encryption.Scheme = "AES" }, "encryption.scheme"},
		{"chunk negative", 2, 1, func(m *Manifest) { m.Encryption.ChunkSize = -1 }, "encryption.chunkSize"},
		{"purged empty reason", 2, 1, func(m *Manifest) { m.Purged = &Tombstone{Reason: " "} }, "purged.reason must not be empty"},
		{"purged long reason", 2, 1, func(m *Manifest) { m.Purged = &Tombstone{Reason: strings.Repeat("é", 513)} }, "at most 512"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := validManifest(tt.k, tt.m)
			tt.mutate(m)
			err := m.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			wantInvalid(t, err, tt.want)
		})
	}
}

func TestDecodeManifestInput(t *testing.T) {
	good, err := json.Marshal(validManifest(2, 1))
	if err != nil {
		t.Fatal(err)
	}
	withField := func(field string) string {
		return strings.Replace(string(good), `{"name"`, `{`+field+`,"name"`, 1)
	}
	tests := []struct {
		name string
		data string
		want string
	}{
		{"valid marshalled manifest", string(good), ""},
		{"stray key", withField(`"key":"00112233"`), `unknown field "key"`},
		{"stray encryption key", strings.Replace(string(good), `"scheme"`, `"key":"abc","scheme"`, 1), `unknown field "key"`},
		{"publisher", strings.Replace(string(good), `"publisher":""`, `"publisher":"Org1MSP"`, 1), "publisher is set by the chaincode"},
		{"createdAt", strings.Replace(string(good), `"createdAt":""`, `"createdAt":"2025-01-01T00:00:00Z"`, 1), "createdAt is set by the chaincode"},
		{"txId", strings.Replace(string(good), `"txId":""`, `"txId":"t"`, 1), "txId is set by the chaincode"},
		{"purged", withField(`"purged":{"reason":"x"}`), "purged is set by the chaincode"},
		{"updatedAt", withField(`"updatedAt":"2025-01-01T00:00:00Z"`), "updatedAt is set by the chaincode"},
		{"updatedBy", withField(`"updatedBy":"Org2MSP"`), "updatedBy is set by the chaincode"},
		{"updateTxId", withField(`"updateTxId":"t2"`), "updateTxId is set by the chaincode"},
		{"updatedAt empty", withField(`"updatedAt":""`), ""},
		{"trailing", string(good) + " 1", "trailing data"},
		{"invalid content", strings.Replace(string(good), `"k":2`, `"k":3`, 1), "exactly k+m"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := DecodeManifestInput([]byte(tt.data))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(m, validManifest(2, 1)) {
					t.Fatalf("decoded %+v", m)
				}
				return
			}
			wantInvalid(t, err, tt.want)
		})
	}
}

func TestDecodeShardNodes(t *testing.T) {
	tests := []struct {
		name string
		data string
		want []string
		err  string
	}{
		{"one node", `["n1"]`, []string{"n1"}, ""},
		{"order kept", `["n2","n1","edge-7"]`, []string{"n2", "n1", "edge-7"}, ""},
		{"surrounding space", " [\"n1\"]\n", []string{"n1"}, ""},
		{"empty array", `[]`, nil, "holders must not be empty"},
		{"null", `null`, nil, "holders must not be empty"},
		{"empty input", ``, nil, "holders JSON is empty"},
		{"duplicate", `["n1","n2","n1"]`, nil, `holders lists node "n1" twice`},
		{"bad id", `["n1","N 2"]`, nil, `holders[1] "N 2" must match`},
		{"empty id", `[""]`, nil, `holders[0] "" must match`},
		{"not strings", `[1,2]`, nil, "holders JSON is malformed"},
		{"object", `{"nodes":["n1"]}`, nil, "holders JSON is malformed"},
		{"bare string", `"n1"`, nil, "holders JSON is malformed"},
		{"trailing data", `["n1"] ["n2"]`, nil, "trailing data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeShardNodes([]byte(tt.data), "holders")
			if tt.err != "" {
				wantInvalid(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestManifestHelpers(t *testing.T) {
	m := validManifest(4, 2)
	m.Shards[0].Nodes = []string{"zeta", "n1"}
	if got, want := m.NodeIDs(), []string{"n0", "n1", "n2", "zeta"}; !slices.Equal(got, want) {
		t.Errorf("NodeIDs = %v, want %v", got, want)
	}
	if m.String() != "videos/intro.mp4@v1" {
		t.Errorf("String = %q", m.String())
	}
	if m.IsPurged() {
		t.Error("IsPurged")
	}
	o := &Object{Name: "a", Versions: []string{"v1", "v2"}}
	if o.String() != "a" || !o.HasVersion("v2") || o.HasVersion("v3") {
		t.Error("Object helpers")
	}
}

func TestKeys(t *testing.T) {
	tests := []struct {
		name     string
		key      func() (string, error)
		want     string
		wantType string
		attrs    []string
	}{
		{"node", func() (string, error) { return NodeKey("edge-1") }, "\x00dct.node\x00edge-1\x00", NodeKeyType, []string{"edge-1"}},
		{"manifest", func() (string, error) { return ManifestKey("a/b.txt", "v2") }, "\x00dct.manifest\x00a/b.txt\x00v2\x00", ManifestKeyType, []string{"a/b.txt", "v2"}},
		{"object", func() (string, error) { return ObjectKey("a/b.txt") }, "\x00dct.object\x00a/b.txt\x00", ObjectKeyType, []string{"a/b.txt"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key, err := tt.key()
			if err != nil || key != tt.want {
				t.Fatalf("key = %q, %v; want %q", key, err, tt.want)
			}
			typ, attrs, err := SplitCompositeKey(key)
			if err != nil || typ != tt.wantType || !slices.Equal(attrs, tt.attrs) {
				t.Fatalf("split = %q %q %v", typ, attrs, err)
			}
		})
	}
	if _, err := NodeKey("Bad"); CodeOf(err) != CodeInvalid {
		t.Errorf("NodeKey(Bad) err = %v", err)
	}
	if _, err := ManifestKey("a", "../x"); CodeOf(err) != CodeInvalid {
		t.Errorf("ManifestKey bad version err = %v", err)
	}
	if _, err := CompositeKey("t", "a\x00b"); CodeOf(err) != CodeInvalid {
		t.Errorf("CompositeKey with U+0000 err = %v", err)
	}
	if _, _, err := SplitCompositeKey("plain"); CodeOf(err) != CodeInvalid {
		t.Errorf("SplitCompositeKey(plain) err = %v", err)
	}
}

// TestJSONTags checks the encoding rules of every record type: each exported
// field has an explicit lowerCamel json name, and every field that may be
// omitted is optional in the contract metadata (fabric-contract-api-go
// refuses a response that lacks a required field).
func TestJSONTags(t *testing.T) {
	types := []any{Node{}, NodeInput{}, Manifest{}, Shard{}, Encryption{}, Tombstone{}, Object{}, HistoryEntry{}}
	for _, v := range types {
		typ := reflect.TypeOf(v)
		for i := range typ.NumField() {
			f := typ.Field(i)
			tag, ok := f.Tag.Lookup("json")
			if !ok {
				t.Errorf("%s.%s has no json tag", typ.Name(), f.Name)
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if name == "" || !unicode.IsLower(rune(name[0])) || strings.ContainsAny(name, "_-") {
				t.Errorf("%s.%s json name %q is not lowerCamel", typ.Name(), f.Name, name)
			}
			omitempty := strings.Contains(opts, "omitempty")
			optional := strings.Contains(f.Tag.Get("metadata"), "optional")
			if omitempty != optional {
				t.Errorf("%s.%s: omitempty=%v but metadata optional=%v", typ.Name(), f.Name, omitempty, optional)
			}
			if f.Type.Kind() == reflect.Map || f.Type.Kind() == reflect.Interface ||
				(f.Type.Kind() == reflect.Slice && f.Type.Elem().Kind() == reflect.Uint8) {
				t.Errorf("%s.%s has a type the contract API handles badly: %s", typ.Name(), f.Name, f.Type)
			}
		}
	}
}

func TestStableEncoding(t *testing.T) {
	m := &Manifest{
		Name: "a", Version: "1", Size: 3, SHA256: hexOf("x"), Integrity: integrityOf("x"),
		K: 1, M: 0, StripeUnit: 3,
		Shards:     []Shard{{Index: 0, Hash: hexOf("s"), Size: 3, Nodes: []string{"n1"}}},
		Encryption: Encryption{Scheme: "none"},
		Publisher:  "Org1MSP", CreatedAt: "2025-01-01T00:00:00Z", TxID: "t1",
	}
	got, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"name":"a","version":"1","size":3,"sha256":"` + hexOf("x") + `","integrity":"` + integrityOf("x") +
		`","k":1,"m":0,"stripeUnit":3,"shards":[{"index":0,"hash":"` + hexOf("s") + `","size":3,"nodes":["n1"]}],` +
		`"encryption":{"scheme":"none","chunkSize":0},"publisher":"Org1MSP","createdAt":"2025-01-01T00:00:00Z","txId":"t1"}`
	if string(got) != want {
		t.Errorf("encoding changed:\n got %s\nwant %s", got, want)
	}
	m.UpdatedAt, m.UpdatedBy, m.UpdateTxID = "2025-01-02T00:00:00Z", "Org2MSP", "t2"
	got, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	want = strings.TrimSuffix(want, "}") + `,"updatedAt":"2025-01-02T00:00:00Z","updatedBy":"Org2MSP","updateTxId":"t2"}`
	if string(got) != want {
		t.Errorf("encoding with an update changed:\n got %s\nwant %s", got, want)
	}
	n := &Node{ID: "n1", Org: "O", Endpoint: "h:1", Zone: "z", StorageBytes: 1, BandwidthBps: 2, PublicKey: "k",
		Status: NodeStatusActive, RegisteredAt: "r", UpdatedAt: "u", LastTxID: "t"}
	got, _ = json.Marshal(n)
	want = `{"id":"n1","org":"O","endpoint":"h:1","zone":"z","latitude":0,"longitude":0,"storageBytes":1,"bandwidthBps":2,` +
		`"publicKey":"k","status":"active","registeredAt":"r","updatedAt":"u","lastTxId":"t"}`
	if string(got) != want {
		t.Errorf("encoding changed:\n got %s\nwant %s", got, want)
	}
}

func TestDecodeManifestEvent(t *testing.T) {
	tests := []struct {
		name, payload string
		ok            bool
	}{
		{"record", `{"name":"feeds/q.json","version":"3","kind":"record","txId":"abc"}`, true},
		{"purge", `{"name":"a","version":"1","kind":"purge","txId":"t"}`, true},
		{"unknown kind", `{"name":"a","version":"1","kind":"rename","txId":"t"}`, false},
		{"no tx", `{"name":"a","version":"1","kind":"record"}`, false},
		{"bad name", `{"name":"../a","version":"1","kind":"record","txId":"t"}`, false},
		{"not json", `record a@1`, false},
		{"too long", `{"name":"` + strings.Repeat("a", 5000) + `"}`, false},
		{"invalidate", `{"name":"","version":"","kind":"invalidate","txId":"t","mode":"hard","targets":["a@1","b/c@2"]}`, true},
		{"invalidate soft", `{"kind":"invalidate","txId":"t","mode":"soft","targets":["a@1"]}`, true},
		{"invalidate with a name", `{"name":"a","version":"1","kind":"invalidate","txId":"t","mode":"hard","targets":["a@1"]}`, false},
		{"invalidate without targets", `{"kind":"invalidate","txId":"t","mode":"hard"}`, false},
		{"invalidate bad mode", `{"kind":"invalidate","txId":"t","mode":"all","targets":["a@1"]}`, false},
		{"invalidate bad target", `{"kind":"invalidate","txId":"t","mode":"hard","targets":["../a@1"]}`, false},
		{"invalidate target without version", `{"kind":"invalidate","txId":"t","mode":"hard","targets":["a"]}`, false},
		{"invalidate too many targets", `{"kind":"invalidate","txId":"t","mode":"hard","targets":["a@1"` + strings.Repeat(`,"a@1"`, MaxPurgeTargets) + `]}`, false},
		{"record with targets", `{"name":"a","version":"1","kind":"record","txId":"t","targets":["a@1"]}`, false},
		{"payload over 64 KiB", `{"kind":"invalidate","txId":"t","mode":"hard","targets":["` + strings.Repeat("a", 70000) + `@1"]}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := DecodeManifestEvent([]byte(tt.payload))
			if (err == nil) != tt.ok {
				t.Fatalf("DecodeManifestEvent: %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			if tt.ok && e.String() == "" {
				t.Fatal("empty String")
			}
		})
	}
}
