package contract

import (
	"encoding/base64"
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
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) { m.Shards[1].Nodes = []string{"n2", "ghost"} })
		}, code: records.CodeNotFound, msg: "node 'ghost' named by the shards is not registered"},
		{name: "inactive node", setup: func(e *env) {
			must(e, orgA, func(ctx *fakes.Context) (*records.Node, error) { return e.node.Deactivate(ctx, "n2", "") })
		}, input: func(t *testing.T) string { return manifestJSON(t, "a", "v1") },
			code: records.CodeFailedPrecondition, msg: "node 'n2' named by the shards is inactive"},
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
			return manifestJSON(t, "a", "v1", func(m *records.Manifest) { m.Shards[2].Nodes = []string{"n3", "n3"} })
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
			e.registerNodes(orgA, "n1", "n2")
			e.registerNodes(orgB, "n3")
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
	e.registerNodes(orgA, "n1", "n2", "n3")

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
			e.registerNodes(orgA, "n1", "n2", "n3")
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
					want := records.Tombstone{Reason: s.reason, At: records.FormatTimestamp(ctx.Stub.TxTime()), By: s.caller, TxID: ctx.Stub.GetTxID()}
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
