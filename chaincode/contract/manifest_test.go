package contract

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

func TestManifestRecord(t *testing.T) {
	tests := []struct {
		name  string
		setup func(e *env)
		input func(t *testing.T) string
		code  records.Code
		msg   string
	}{
		{name: "success", input: func(t *testing.T) string { return manifestJSON(t, "site/index.html", "v1") }},
		{name: "success second version", setup: func(e *env) { e.record(orgA, "site/index.html", "v0") },
			input: func(t *testing.T) string { return manifestJSON(t, "site/index.html", "v1") }},
		{name: "name owned by another org", setup: func(e *env) { e.record(orgB, "site/index.html", "v0") },
			input: func(t *testing.T) string { return manifestJSON(t, "site/index.html", "v1") },
			code:  records.CodeForbidden, msg: "object 'site/index.html' belongs to OrgBMSP; OrgAMSP may not publish versions of it"},
		{name: "unknown node", input: func(t *testing.T) string {
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) { m.Shards[1].Nodes = []string{"n2-orga", "ghost"} })
		}, code: records.CodeNotFound, msg: "node 'ghost' named by the shards is not registered"},
		{name: "inactive node", setup: func(e *env) {
			must(e, orgA, func(ctx *fakes.Context) (*records.Node, error) { return e.node.Deactivate(ctx, "n2-orga", "") })
		}, input: func(t *testing.T) string { return manifestJSON(t, "a", "v1") },
			code: records.CodeFailedPrecondition, msg: "node 'n2-orga' named by the shards is inactive"},
		{name: "duplicate version", setup: func(e *env) { e.record(orgA, "a", "v1") },
			input: func(t *testing.T) string { return manifestJSON(t, "a", "v1") },
			code:  records.CodeConflict, msg: "manifest 'a@v1' is already recorded"},
		{name: "duplicate version other org", setup: func(e *env) { e.record(orgB, "a", "v1") },
			input: func(t *testing.T) string { return manifestJSON(t, "a", "v1") },
			code:  records.CodeConflict, msg: "already recorded"},
		{name: "malformed sha256", input: func(t *testing.T) string {
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) { m.SHA256 = "xyz" })
		}, code: records.CodeInvalid, msg: "sha256"},
		{name: "malformed shard hash", input: func(t *testing.T) string {
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) { m.Shards[0].Hash = strings.ToUpper(m.Shards[0].Hash) })
		}, code: records.CodeInvalid, msg: "shards[0].hash"},
		{name: "malformed integrity", input: func(t *testing.T) string {
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) {
				m.Integrity = "sha384-" + base64.StdEncoding.EncodeToString([]byte("short"))
			})
		}, code: records.CodeInvalid, msg: "integrity digest must be 48 bytes"},
		{name: "integrity wrong algorithm", input: func(t *testing.T) string {
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) { m.Integrity = strings.Replace(m.Integrity, "sha384", "sha512", 1) })
		}, code: records.CodeInvalid, msg: "integrity must start with"},
		{name: "k zero", input: func(t *testing.T) string {
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) { m.K = 0 })
		}, code: records.CodeInvalid, msg: "k must be in 1..128"},
		{name: "k too big", input: func(t *testing.T) string {
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) { m.K = 129 })
		}, code: records.CodeInvalid, msg: "k must be in 1..128"},
		{name: "m negative", input: func(t *testing.T) string {
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) { m.M = -1 })
		}, code: records.CodeInvalid, msg: "m must be in 0..128"},
		{name: "m too big", input: func(t *testing.T) string {
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) { m.M = 129 })
		}, code: records.CodeInvalid, msg: "m must be in 0..128"},
		{name: "k+m over 256", input: func(t *testing.T) string {
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) { m.K, m.M = 200, 100 })
		}, code: records.CodeInvalid, msg: "must be in"},
		{name: "shard count mismatch", input: func(t *testing.T) string {
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) { m.M = 2 })
		}, code: records.CodeInvalid, msg: "shards must have exactly k+m = 4 entries, got 3"},
		{name: "shard index order", input: func(t *testing.T) string {
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) { m.Shards[0], m.Shards[1] = m.Shards[1], m.Shards[0] })
		}, code: records.CodeInvalid, msg: "shards[0].index must be 0"},
		{name: "duplicate node in shard", input: func(t *testing.T) string {
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) { m.Shards[2].Nodes = []string{"n3-orga", "n3-orga"} })
		}, code: records.CodeInvalid, msg: "twice"},
		{name: "stray key field", input: func(t *testing.T) string {
			return strings.Replace(manifestJSON(t, "a", "v1"), `"encryption":{`, `"encryption":{"key":"c2VjcmV0",`, 1)
		}, code: records.CodeInvalid, msg: `unknown field "key"`},
		{name: "stray top-level key", input: func(t *testing.T) string {
			return strings.Replace(manifestJSON(t, "a", "v1"), `{"name"`, `{"key":"c2VjcmV0","name"`, 1)
		}, code: records.CodeInvalid, msg: `unknown field "key"`},
		{name: "publisher supplied", input: func(t *testing.T) string {
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) { m.Publisher = orgB })
		}, code: records.CodeInvalid, msg: "publisher is set by the chaincode"},
		{name: "dotdot name", input: func(t *testing.T) string { return manifestJSON(t, "a/../b", "v1") },
			code: records.CodeInvalid, msg: `".." path segment`},
		{name: "not json", input: func(*testing.T) string { return "manifest" },
			code: records.CodeInvalid, msg: "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.registerNodes(orgA, "n1-orga", "n2-orga")
			e.registerNodes(orgA, "n3-orga")
			e.registerNodes(orgB, "n6-orgb")
			if tt.setup != nil {
				tt.setup(e)
			}
			var before *records.Object
			if tt.code == "" {
				before, _ = call(e, orgA, func(ctx *fakes.Context) (*records.Object, error) {
					return loadObject(ctx.GetStub(), "site/index.html")
				})
			}
			ctx := e.ledger.NewContext(orgA)
			m, err := callCtx(e, ctx, func(ctx *fakes.Context) (*records.Manifest, error) {
				return e.man.Record(ctx, tt.input(t))
			})
			if tt.code != "" {
				wantCode(t, err, tt.code, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			ts := records.FormatTimestamp(ctx.Stub.TxTime())
			if m.Publisher != orgA || m.CreatedAt != ts || m.TxID != ctx.Stub.GetTxID() || m.Purged != nil {
				t.Fatalf("chaincode fields not set: %+v", m)
			}
			got := must(e, orgB, func(ctx *fakes.Context) (*records.Manifest, error) { return e.man.Get(ctx, m.Name, m.Version) })
			if toJSON(t, got) != toJSON(t, m) {
				t.Fatalf("stored %s\nreturned %s", toJSON(t, got), toJSON(t, m))
			}
			o := must(e, orgB, func(ctx *fakes.Context) (*records.Object, error) { return loadObject(ctx.GetStub(), m.Name) })
			wantVersions := []string{m.Version}
			if before != nil {
				wantVersions = append(slices.Clone(before.Versions), m.Version)
			}
			if !slices.Equal(o.Versions, wantVersions) || o.Latest != m.Version || o.UpdatedAt != ts {
				t.Fatalf("object head %+v, want versions %v latest %s", o, wantVersions, m.Version)
			}
		})
	}
}

func TestManifestQueries(t *testing.T) {
	e := newEnv(t)
	e.registerNodes(orgA, "n1-orga", "n2-orga", "n3-orga")

	objects := must(e, orgA, func(ctx *fakes.Context) ([]*records.Object, error) { return e.man.List(ctx) })
	if objects == nil || len(objects) != 0 {
		t.Fatalf("empty List = %#v", objects)
	}

	e.record(orgA, "b/file", "1.0")
	e.record(orgA, "b/file", "0.9") // publish order, not version order
	e.record(orgB, "a", "x")

	tests := []struct {
		name string
		run  func(ctx *fakes.Context) (string, error)
		want string
		code records.Code
		msg  string
	}{
		{"get", func(ctx *fakes.Context) (string, error) {
			m, err := e.man.Get(ctx, "b/file", "1.0")
			return m.String(), err
		}, "b/file@1.0", "", ""},
		{"get unknown version", func(ctx *fakes.Context) (string, error) {
			_, err := e.man.Get(ctx, "b/file", "2.0")
			return "", err
		}, "", records.CodeNotFound, "manifest 'b/file@2.0' is not recorded"},
		{"get bad name", func(ctx *fakes.Context) (string, error) {
			_, err := e.man.Get(ctx, "b//file", "1.0")
			return "", err
		}, "", records.CodeInvalid, "empty path segment"},
		{"get bad version", func(ctx *fakes.Context) (string, error) {
			_, err := e.man.Get(ctx, "b/file", "")
			return "", err
		}, "", records.CodeInvalid, "version must not be empty"},
		{"latest", func(ctx *fakes.Context) (string, error) {
			m, err := e.man.Latest(ctx, "b/file")
			return m.String(), err
		}, "b/file@0.9", "", ""},
		{"latest unknown", func(ctx *fakes.Context) (string, error) {
			_, err := e.man.Latest(ctx, "c")
			return "", err
		}, "", records.CodeNotFound, "object 'c' is not recorded"},
		{"latest bad name", func(ctx *fakes.Context) (string, error) {
			_, err := e.man.Latest(ctx, "c/")
			return "", err
		}, "", records.CodeInvalid, "name"},
		{"versions", func(ctx *fakes.Context) (string, error) {
			ms, err := e.man.Versions(ctx, "b/file")
			var s []string
			for _, m := range ms {
				s = append(s, m.String())
			}
			return strings.Join(s, ","), err
		}, "b/file@1.0,b/file@0.9", "", ""},
		{"versions unknown", func(ctx *fakes.Context) (string, error) {
			_, err := e.man.Versions(ctx, "zzz")
			return "", err
		}, "", records.CodeNotFound, "object 'zzz' is not recorded"},
		{"list", func(ctx *fakes.Context) (string, error) {
			os, err := e.man.List(ctx)
			var s []string
			for _, o := range os {
				s = append(s, o.Name+"="+strings.Join(o.Versions, "+")+">"+o.Latest)
			}
			return strings.Join(s, ","), err
		}, "a=x>x,b/file=1.0+0.9>0.9", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := call(e, orgB, tt.run)
			if tt.code != "" {
				wantCode(t, err, tt.code, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestManifestPurge(t *testing.T) {
	type step struct {
		caller, version, reason string
		record                  bool // record the version instead of purging it
		code                    records.Code
		msg                     string
		latest                  string // expected Object.latest after the step
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"purge latest moves latest back", []step{
			{caller: orgA, version: "v3", reason: "leaked", latest: "v2"},
		}},
		{"purge older keeps latest", []step{
			{caller: orgA, version: "v2", reason: "bad", latest: "v3"},
		}},
		{"purge back to first", []step{
			{caller: orgA, version: "v2", reason: "bad", latest: "v3"},
			{caller: orgA, version: "v3", reason: "bad", latest: "v1"},
		}},
		{"purge all then publish again", []step{
			{caller: orgA, version: "v3", reason: "r", latest: "v2"},
			{caller: orgA, version: "v1", reason: "r", latest: "v2"},
			{caller: orgA, version: "v2", reason: "r", latest: ""},
			{caller: orgA, version: "v4", record: true, latest: "v4"},
		}},
		{"other org purges", []step{
			{caller: orgB, version: "v3", reason: "mine now", code: records.CodeForbidden,
				msg: "manifest 'obj@v3' was published by OrgAMSP; OrgBMSP may not purge it", latest: "v3"},
		}},
		{"already purged", []step{
			{caller: orgA, version: "v3", reason: "r", latest: "v2"},
			{caller: orgA, version: "v3", reason: "again", code: records.CodeFailedPrecondition, msg: "already purged", latest: "v2"},
		}},
		{"empty reason", []step{
			{caller: orgA, version: "v3", reason: "", code: records.CodeInvalid, msg: "reason must not be empty", latest: "v3"},
			{caller: orgA, version: "v3", reason: "   ", code: records.CodeInvalid, msg: "reason must not be empty", latest: "v3"},
		}},
		{"long reason", []step{
			{caller: orgA, version: "v3", reason: strings.Repeat("x", 513), code: records.CodeInvalid, msg: "at most 512", latest: "v3"},
		}},
		{"unknown version", []step{
			{caller: orgA, version: "v9", reason: "r", code: records.CodeNotFound, msg: "manifest 'obj@v9' is not recorded", latest: "v3"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.registerNodes(orgA, "n1-orga", "n2-orga", "n3-orga")
			for _, v := range []string{"v1", "v2", "v3"} {
				e.record(orgA, "obj", v)
			}
			for i, s := range tt.steps {
				ctx := e.ledger.NewContext(s.caller)
				m, err := callCtx(e, ctx, func(ctx *fakes.Context) (*records.Manifest, error) {
					if s.record {
						return e.man.Record(ctx, manifestJSON(t, "obj", s.version))
					}
					return e.man.Purge(ctx, "obj", s.version, s.reason)
				})
				if s.code != "" {
					wantCode(t, err, s.code, s.msg)
				} else if err != nil {
					t.Fatalf("step %d: %v", i, err)
				} else if !s.record {
					want := records.Tombstone{Reason: s.reason, At: records.FormatTimestamp(ctx.Stub.TxTime()), By: s.caller,
						ByCert: records.CertHash(e.ledger.AdminCert(s.caller)), TxID: ctx.Stub.GetTxID()}
					if m.Purged == nil || *m.Purged != want {
						t.Fatalf("step %d: tombstone %+v, want %+v", i, m.Purged, want)
					}
					if m.Publisher != orgA || m.SHA256 == "" {
						t.Fatalf("step %d: purge altered the manifest: %+v", i, m)
					}
				}
				o := must(e, orgA, func(ctx *fakes.Context) (*records.Object, error) { return loadObject(ctx.GetStub(), "obj") })
				if o.Latest != s.latest {
					t.Fatalf("step %d: latest %q, want %q", i, o.Latest, s.latest)
				}
				latest, err := call(e, orgB, func(ctx *fakes.Context) (*records.Manifest, error) { return e.man.Latest(ctx, "obj") })
				if s.latest == "" {
					wantCode(t, err, records.CodeNotFound, "object 'obj' has no version that is not purged")
				} else if err != nil || latest.Version != s.latest || latest.Purged != nil {
					t.Fatalf("step %d: Latest = %v, %v; want %s", i, latest, err, s.latest)
				}
			}
			// Tombstoned versions stay visible to Get and Versions.
			versions := must(e, orgB, func(ctx *fakes.Context) ([]*records.Manifest, error) { return e.man.Versions(ctx, "obj") })
			for _, m := range versions {
				got := must(e, orgB, func(ctx *fakes.Context) (*records.Manifest, error) { return e.man.Get(ctx, "obj", m.Version) })
				if (got.Purged == nil) != (m.Purged == nil) {
					t.Errorf("Get and Versions disagree on %s", m)
				}
			}
			if len(versions) < 3 || versions[0].Version != "v1" || versions[2].Version != "v3" {
				t.Errorf("Versions order wrong: %v", versions)
			}
		})
	}
}

// idsJSON encodes node ids as the JSON array UpdateHolders takes.
func idsJSON(ids ...string) string {
	b, _ := json.Marshal(ids)
	return string(b)
}

func TestManifestUpdateHolders(t *testing.T) {
	// Every case starts from obj@v1 (k=2, m=1) recorded by orgA with shard i
	// on n1, n2, n3; n4 and n5 are active spares of orgB and orgA.
	deactivate := func(id string) func(e *env) {
		return func(e *env) {
			must(e, orgA, func(ctx *fakes.Context) (*records.Node, error) { return e.node.Deactivate(ctx, id, "") })
		}
	}
	update := func(caller, index, expected, holders string) func(e *env) {
		return func(e *env) {
			must(e, caller, func(ctx *fakes.Context) (*records.Manifest, error) {
				return e.man.UpdateHolders(ctx, "obj", "v1", index, expected, holders)
			})
		}
	}
	tests := []struct {
		name     string
		setup    func(e *env)
		caller   string
		version  string // "v1" when empty
		index    string
		expected string
		holders  string
		code     records.Code
		msg      string
	}{
		{name: "success", caller: orgA, index: "1", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb")},
		{name: "other org may not drop the publisher's active node", caller: orgB, index: "1", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeForbidden, msg: "may not drop node 'n2-orga', an active node of OrgAMSP"},
		{name: "other org drops a deactivated node", setup: deactivate("n2-orga"), caller: orgB, index: "1", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb")},
		{name: "other org moves its own node's copy", setup: update(orgA, "0", idsJSON("n1-orga"), idsJSON("n4-orgb")),
			caller: orgB, index: "0", expected: idsJSON("n4-orgb"), holders: idsJSON("n5-orga")},
		{name: "last shard", caller: orgA, index: "2", expected: idsJSON("n3-orga"), holders: idsJSON("n5-orga", "n4-orgb")},
		{name: "expected in another order", setup: update(orgA, "0", idsJSON("n1-orga"), idsJSON("n1-orga", "n4-orgb")),
			caller: orgA, index: "0", expected: idsJSON("n4-orgb", "n1-orga"), holders: idsJSON("n5-orga", "n4-orgb")},
		{name: "node kept, one replaced", setup: update(orgA, "0", idsJSON("n1-orga"), idsJSON("n1-orga", "n4-orgb")),
			caller: orgA, index: "0", expected: idsJSON("n1-orga", "n4-orgb"), holders: idsJSON("n1-orga", "n5-orga")},
		{name: "stale expected", caller: orgA, index: "1", expected: idsJSON("n1-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeConflict, msg: "the holders of shard 1 of manifest 'obj@v1' changed: they are [n2-orga], not the expected [n1-orga]"},
		{name: "lost the race", setup: update(orgA, "1", idsJSON("n2-orga"), idsJSON("n5-orga")),
			caller: orgA, index: "1", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeConflict, msg: "they are [n5-orga], not the expected [n2-orga]"},
		{name: "expected superset", caller: orgA, index: "1", expected: idsJSON("n2-orga", "n4-orgb"), holders: idsJSON("n4-orgb"),
			code: records.CodeConflict, msg: "changed"},
		{name: "expected subset", setup: update(orgA, "0", idsJSON("n1-orga"), idsJSON("n1-orga", "n4-orgb")),
			caller: orgA, index: "0", expected: idsJSON("n1-orga"), holders: idsJSON("n5-orga"),
			code: records.CodeConflict, msg: "they are [n1-orga n4-orgb], not the expected [n1-orga]"},
		{name: "unknown node", caller: orgA, index: "1", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb", "ghost"),
			code: records.CodeNotFound, msg: "node 'ghost' named by the holders is not registered"},
		{name: "inactive node", setup: deactivate("n5-orga"), caller: orgA, index: "1", expected: idsJSON("n2-orga"), holders: idsJSON("n5-orga"),
			code: records.CodeFailedPrecondition, msg: "node 'n5-orga' named by the holders is inactive"},
		{name: "duplicate holder", caller: orgA, index: "1", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb", "n5-orga", "n4-orgb"),
			code: records.CodeInvalid, msg: `holders lists node "n4-orgb" twice`},
		{name: "duplicate expected", caller: orgA, index: "1", expected: idsJSON("n2-orga", "n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeInvalid, msg: `expected lists node "n2-orga" twice`},
		{name: "empty holders", caller: orgA, index: "1", expected: idsJSON("n2-orga"), holders: `[]`,
			code: records.CodeInvalid, msg: "holders must not be empty"},
		{name: "null holders", caller: orgA, index: "1", expected: idsJSON("n2-orga"), holders: `null`,
			code: records.CodeInvalid, msg: "holders must not be empty"},
		{name: "malformed holder id", caller: orgA, index: "1", expected: idsJSON("n2-orga"), holders: idsJSON("N4"),
			code: records.CodeInvalid, msg: `holders[0] "N4" must match`},
		{name: "holders not json", caller: orgA, index: "1", expected: idsJSON("n2-orga"), holders: "n4-orgb",
			code: records.CodeInvalid, msg: "holders JSON is malformed"},
		{name: "expected not an array", caller: orgA, index: "1", expected: `{"nodes":["n2-orga"]}`, holders: idsJSON("n4-orgb"),
			code: records.CodeInvalid, msg: "expected JSON is malformed"},
		{name: "no change", caller: orgA, index: "1", expected: idsJSON("n2-orga"), holders: idsJSON("n2-orga"),
			code: records.CodeInvalid, msg: "holders [n2-orga] are already the holders of shard 1"},
		{name: "index out of range", caller: orgA, index: "3", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeInvalid, msg: "index 3 is out of range: manifest 'obj@v1' has 3 shards (0..2)"},
		{name: "index far out of range", caller: orgA, index: "255", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeInvalid, msg: "out of range"},
		{name: "index not numeric", caller: orgA, index: "one", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeInvalid, msg: `index must be a shard index in decimal (0..255), got "one"`},
		{name: "index negative", caller: orgA, index: "-1", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeInvalid, msg: "index must be a shard index"},
		{name: "index signed", caller: orgA, index: "+1", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeInvalid, msg: "index must be a shard index"},
		{name: "index leading zero", caller: orgA, index: "01", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeInvalid, msg: "index must be a shard index"},
		{name: "index fraction", caller: orgA, index: "1.0", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeInvalid, msg: "index must be a shard index"},
		{name: "index empty", caller: orgA, index: "", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeInvalid, msg: "index must be a shard index"},
		{name: "index too long", caller: orgA, index: "99999999999999999999", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeInvalid, msg: "index must be a shard index"},
		{name: "purged", setup: func(e *env) {
			must(e, orgA, func(ctx *fakes.Context) (*records.Manifest, error) { return e.man.Purge(ctx, "obj", "v1", "withdrawn") })
		}, caller: orgB, index: "1", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeFailedPrecondition, msg: "manifest 'obj@v1' is purged"},
		{name: "unknown version", caller: orgA, version: "v9", index: "1", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeNotFound, msg: "manifest 'obj@v9' is not recorded"},
		{name: "bad version", caller: orgA, version: "../v1", index: "1", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeInvalid, msg: "version"},
		{name: "k rule: node would hold k shards", caller: orgA, index: "1", expected: idsJSON("n2-orga"), holders: idsJSON("n1-orga"),
			code: records.CodeInvalid, msg: "node 'n1-orga' would hold 2 of the 3 shards of manifest 'obj@v1'; a node must hold fewer than k = 2"},
		{name: "k rule: added next to a kept node", caller: orgA, index: "1", expected: idsJSON("n2-orga"), holders: idsJSON("n2-orga", "n3-orga"),
			code: records.CodeInvalid, msg: "node 'n3-orga' would hold 2"},
		{name: "k rule counts earlier repairs", setup: update(orgA, "0", idsJSON("n1-orga"), idsJSON("n4-orgb")),
			caller: orgA, index: "1", expected: idsJSON("n2-orga"), holders: idsJSON("n4-orgb"),
			code: records.CodeInvalid, msg: "node 'n4-orgb' would hold 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.registerNodes(orgA, "n1-orga", "n2-orga", "n3-orga", "n5-orga")
			e.registerNodes(orgB, "n4-orgb")
			rec := e.record(orgA, "obj", "v1")
			if tt.setup != nil {
				tt.setup(e)
			}
			version := tt.version
			if version == "" {
				version = "v1"
			}
			before := must(e, orgA, func(ctx *fakes.Context) (*records.Manifest, error) { return loadManifest(ctx.GetStub(), "obj", "v1") })
			objBefore := must(e, orgA, func(ctx *fakes.Context) (*records.Object, error) { return loadObject(ctx.GetStub(), "obj") })
			ctx := e.ledger.NewContext(tt.caller)
			m, err := callCtx(e, ctx, func(ctx *fakes.Context) (*records.Manifest, error) {
				return e.man.UpdateHolders(ctx, "obj", version, tt.index, tt.expected, tt.holders)
			})
			if tt.code != "" {
				wantCode(t, err, tt.code, tt.msg)
				if tt.code == records.CodeConflict && !errors.Is(err, records.ErrConflict) {
					t.Fatalf("%v is not records.ErrConflict", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var holders []string
			if err := json.Unmarshal([]byte(tt.holders), &holders); err != nil {
				t.Fatal(err)
			}
			// Only the shard's nodes and the update fields change.
			want := *before
			want.Shards = slices.Clone(before.Shards)
			i := int(tt.index[0] - '0')
			want.Shards[i].Nodes = holders
			want.UpdatedAt = records.FormatTimestamp(ctx.Stub.TxTime())
			want.UpdatedBy = tt.caller
			want.UpdateTxID = ctx.Stub.GetTxID()
			if toJSON(t, m) != toJSON(t, &want) {
				t.Fatalf("returned %s\nwant     %s", toJSON(t, m), toJSON(t, &want))
			}
			if m.Publisher != orgA || m.TxID != rec.TxID || m.CreatedAt != rec.CreatedAt {
				t.Fatalf("recording fields changed: %+v", m)
			}
			got := must(e, orgB, func(ctx *fakes.Context) (*records.Manifest, error) { return e.man.Get(ctx, "obj", "v1") })
			if toJSON(t, got) != toJSON(t, m) {
				t.Fatalf("stored %s\nreturned %s", toJSON(t, got), toJSON(t, m))
			}
			objAfter := must(e, orgA, func(ctx *fakes.Context) (*records.Object, error) { return loadObject(ctx.GetStub(), "obj") })
			if toJSON(t, objAfter) != toJSON(t, objBefore) {
				t.Fatalf("object head changed: %s → %s", toJSON(t, objBefore), toJSON(t, objAfter))
			}
			// Auditors see the update as the manifest's newest write.
			h := must(e, orgB, func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return e.hist.Manifest(ctx, "obj", "v1") })
			if len(h) < 2 || h[0].TxID != rec.TxID || h[len(h)-1].TxID != m.UpdateTxID || h[len(h)-1].Value != toJSON(t, m) {
				t.Fatalf("manifest history %+v does not end with the update %s", h, m.UpdateTxID)
			}
		})
	}
}

// TestManifestUpdateHoldersRace replays two repairs of the same shard
// endorsed against the same state: the second to run sees the first's commit
// and loses with records.ErrConflict.
func TestManifestUpdateHoldersRace(t *testing.T) {
	e := newEnv(t)
	e.registerNodes(orgA, "n1-orga", "n2-orga", "n3-orga")
	e.registerNodes(orgB, "n4-orgb", "n5-orgb")
	e.record(orgA, "obj", "v1")
	first := must(e, orgA, func(ctx *fakes.Context) (*records.Manifest, error) {
		return e.man.UpdateHolders(ctx, "obj", "v1", "2", idsJSON("n3-orga"), idsJSON("n4-orgb"))
	})
	_, err := call(e, orgB, func(ctx *fakes.Context) (*records.Manifest, error) {
		return e.man.UpdateHolders(ctx, "obj", "v1", "2", idsJSON("n3-orga"), idsJSON("n5-orgb"))
	})
	if !errors.Is(err, records.ErrConflict) {
		t.Fatalf("second repair: %v, want records.ErrConflict", err)
	}
	got := must(e, orgB, func(ctx *fakes.Context) (*records.Manifest, error) { return e.man.Get(ctx, "obj", "v1") })
	if !slices.Equal(got.Shards[2].Nodes, []string{"n4-orgb"}) || got.UpdatedBy != orgA || got.UpdateTxID != first.UpdateTxID {
		t.Fatalf("ledger holds %+v, want the first repair", got)
	}
	// The loser re-reads and repairs from the winner's holders.
	again := must(e, orgB, func(ctx *fakes.Context) (*records.Manifest, error) {
		return e.man.UpdateHolders(ctx, "obj", "v1", "2", idsJSON("n4-orgb"), idsJSON("n5-orgb"))
	})
	if again.UpdatedBy != orgB || !slices.Equal(again.Shards[2].Nodes, []string{"n5-orgb"}) {
		t.Fatalf("second repair after re-read: %+v", again)
	}
	h := must(e, orgA, func(ctx *fakes.Context) ([]*records.HistoryEntry, error) { return e.hist.Manifest(ctx, "obj", "v1") })
	if len(h) != 3 || h[1].TxID != first.UpdateTxID || h[2].TxID != again.UpdateTxID {
		t.Fatalf("manifest history %+v, want record and two updates", h)
	}
}

// TestManifestUpdateHoldersExistingSpread checks that a version recorded with
// a node already holding k shards (as Record allowed before it enforced the
// placement rule) can
// still be repaired, as long as the update adds no such node.
func TestManifestUpdateHoldersExistingSpread(t *testing.T) {
	e := newEnv(t)
	e.registerNodes(orgA, "n1-orga", "n2-orga", "n4-orga")
	// Record refuses such a manifest now: write it as an older chaincode
	// could have recorded it.
	legacy := manifest("obj", "v1", "n1-orga", "n1-orga", "n2-orga") // n1 holds shards 0 and 1
	legacy.Publisher, legacy.CreatedAt, legacy.TxID = orgA, records.FormatTimestamp(fakes.DefaultStart), "legacy"
	must(e, orgA, func(ctx *fakes.Context) (*records.Manifest, error) {
		return legacy, errors.Join(putManifest(ctx.GetStub(), legacy),
			putObject(ctx.GetStub(), &records.Object{Name: "obj", Owner: orgA, Latest: "v1", Versions: []string{"v1"}}))
	})
	must(e, orgA, func(ctx *fakes.Context) (*records.Manifest, error) {
		return e.man.UpdateHolders(ctx, "obj", "v1", "2", idsJSON("n2-orga"), idsJSON("n4-orga"))
	})
	_, err := call(e, orgA, func(ctx *fakes.Context) (*records.Manifest, error) {
		return e.man.UpdateHolders(ctx, "obj", "v1", "2", idsJSON("n4-orga"), idsJSON("n1-orga"))
	})
	wantCode(t, err, records.CodeInvalid, "node 'n1-orga' would hold 3 of the 3 shards")
}
