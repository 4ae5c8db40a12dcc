package contract

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

// recordTagged records name@version by mspID with surrogate keys.
func (e *env) recordTagged(mspID, name, version string, keys ...string) *records.Manifest {
	e.t.Helper()
	return must(e, mspID, func(ctx *fakes.Context) (*records.Manifest, error) {
		return e.man.Record(ctx, manifestJSON(e.t, name, version, func(m *records.Manifest) { m.Keys = keys }))
	})
}

// TestPurgeBy: purges by surrogate key (hard, soft) and soft purges by
// name reach the caller's organisation's live versions only, are recorded
// and move each object's latest; malformed and unauthorized requests are
// refused with nothing written.
func TestPurgeBy(t *testing.T) {
	tests := []struct {
		name    string
		caller  string
		req     records.PurgeRequest
		code    records.Code
		msg     string
		targets []string
		// latest is the expected latest of each object afterwards.
		latest map[string]string
	}{
		{name: "hard by key", caller: orgA, req: records.PurgeRequest{Key: "release-42", Mode: records.PurgeHard, Reason: "recall"},
			targets: []string{"a@v2", "b@v1"}, latest: map[string]string{"a": "v1", "b": "", "c": "v1"}},
		{name: "soft by key changes no version", caller: orgA, req: records.PurgeRequest{Key: "release-42", Mode: records.PurgeSoft, Reason: "refresh"},
			targets: []string{"a@v2", "b@v1"}, latest: map[string]string{"a": "v2", "b": "v1", "c": "v1"}},
		{name: "key shared across versions", caller: orgA, req: records.PurgeRequest{Key: "site", Mode: records.PurgeHard, Reason: "r"},
			targets: []string{"a@v1", "a@v2", "c@v1"}, latest: map[string]string{"a": "", "b": "v1", "c": ""}},
		{name: "soft by name every live version", caller: orgA, req: records.PurgeRequest{Name: "a", Mode: records.PurgeSoft, Reason: "r"},
			targets: []string{"a@v1", "a@v2"}, latest: map[string]string{"a": "v2", "b": "v1", "c": "v1"}},
		{name: "soft by name one version", caller: orgA, req: records.PurgeRequest{Name: "a", Version: "v1", Mode: records.PurgeSoft, Reason: "r"},
			targets: []string{"a@v1"}, latest: map[string]string{"a": "v2", "b": "v1", "c": "v1"}},
		{name: "other org's key namespace is its own", caller: orgB, req: records.PurgeRequest{Key: "release-42", Mode: records.PurgeHard, Reason: "r"},
			targets: []string{"d@v1"}, latest: map[string]string{"a": "v2", "b": "v1", "c": "v1", "d": ""}},
		{name: "other org soft-purges by name", caller: orgB, req: records.PurgeRequest{Name: "a", Mode: records.PurgeSoft, Reason: "r"},
			code: records.CodeForbidden, msg: "object 'a' belongs to OrgAMSP; OrgBMSP may not purge it"},
		{name: "unknown key", caller: orgA, req: records.PurgeRequest{Key: "nothing", Mode: records.PurgeHard, Reason: "r"},
			code: records.CodeNotFound, msg: `surrogate key "nothing" tags no live version of OrgAMSP`},
		{name: "malformed key", caller: orgA, req: records.PurgeRequest{Key: "bad key!", Mode: records.PurgeHard, Reason: "r"},
			code: records.CodeInvalid, msg: "must match"},
		{name: "key too long", caller: orgA, req: records.PurgeRequest{Key: strings.Repeat("k", 65), Mode: records.PurgeHard, Reason: "r"},
			code: records.CodeInvalid, msg: "must match"},
		{name: "bad mode", caller: orgA, req: records.PurgeRequest{Key: "site", Mode: "medium", Reason: "r"},
			code: records.CodeInvalid, msg: "want hard or soft"},
		{name: "no reason", caller: orgA, req: records.PurgeRequest{Key: "site", Mode: records.PurgeHard},
			code: records.CodeInvalid, msg: "reason must not be empty"},
		{name: "key and name", caller: orgA, req: records.PurgeRequest{Key: "site", Name: "a", Mode: records.PurgeSoft, Reason: "r"},
			code: records.CodeInvalid, msg: "not both"},
		{name: "hard by name is manifest:Purge", caller: orgA, req: records.PurgeRequest{Name: "a", Mode: records.PurgeHard, Reason: "r"},
			code: records.CodeInvalid, msg: "manifest:Purge"},
		{name: "neither", caller: orgA, req: records.PurgeRequest{Mode: records.PurgeSoft, Reason: "r"},
			code: records.CodeInvalid, msg: "names a surrogate key or an object name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.registerNodes(orgA, "n1-orga", "n2-orga", "n3-orga")
			e.recordTagged(orgA, "a", "v1", "site")
			e.recordTagged(orgA, "a", "v2", "site", "release-42")
			e.recordTagged(orgA, "b", "v1", "release-42")
			e.recordTagged(orgA, "c", "v1", "site")
			e.recordTagged(orgB, "d", "v1", "release-42")
			ctx := e.ledger.NewContext(tt.caller)
			rec, err := callCtx(e, ctx, func(ctx *fakes.Context) (*records.PurgeRecord, error) {
				return e.man.PurgeBy(ctx, toJSON(t, tt.req))
			})
			if tt.code != "" {
				wantCode(t, err, tt.code, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(rec.Targets, tt.targets) || rec.Publisher != tt.caller || rec.TxID != ctx.Stub.GetTxID() || rec.Mode != tt.req.Mode {
				t.Fatalf("record %+v, want targets %v of %s", rec, tt.targets, tt.caller)
			}
			got := must(e, orgB, func(ctx *fakes.Context) (*records.PurgeRecord, error) { return e.man.GetPurge(ctx, rec.TxID) })
			if !slices.Equal(got.Targets, rec.Targets) || got.Reason != tt.req.Reason {
				t.Fatalf("GetPurge = %+v, want %+v", got, rec)
			}
			for _, target := range tt.targets {
				name, version := splitTarget(target)
				m := must(e, orgB, func(ctx *fakes.Context) (*records.Manifest, error) { return e.man.Get(ctx, name, version) })
				if hard := tt.req.Mode == records.PurgeHard; m.IsPurged() != hard {
					t.Errorf("%s purged = %v after a %s purge", target, m.IsPurged(), tt.req.Mode)
				} else if hard && (m.Purged.TxID != rec.TxID || m.Purged.Reason != tt.req.Reason) {
					t.Errorf("%s tombstone %+v", target, m.Purged)
				}
			}
			for name, want := range tt.latest {
				o := must(e, orgA, func(ctx *fakes.Context) (*records.Object, error) { return loadObject(ctx.GetStub(), name) })
				if o.Latest != want {
					t.Errorf("%s latest %q, want %q", name, o.Latest, want)
				}
			}
			if tt.req.Mode == records.PurgeHard && tt.req.Key != "" {
				// The index holds live versions only: the key tags nothing now.
				_, err := call(e, tt.caller, func(ctx *fakes.Context) (*records.PurgeRecord, error) {
					return e.man.PurgeBy(ctx, toJSON(t, tt.req))
				})
				wantCode(t, err, records.CodeNotFound, "tags no live version")
			}
		})
	}
}

// TestPurgeByBounds: a version carries at most MaxSurrogateKeys keys, and
// one purge reaches at most MaxPurgeTargets versions.
func TestPurgeByBounds(t *testing.T) {
	e := newEnv(t)
	e.registerNodes(orgA, "n1-orga", "n2-orga", "n3-orga")
	keys := make([]string, records.MaxSurrogateKeys+1)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	_, err := call(e, orgA, func(ctx *fakes.Context) (*records.Manifest, error) {
		return e.man.Record(ctx, manifestJSON(t, "many", "v1", func(m *records.Manifest) { m.Keys = keys }))
	})
	wantCode(t, err, records.CodeInvalid, "at most 16 surrogate keys")
	_, err = call(e, orgA, func(ctx *fakes.Context) (*records.Manifest, error) {
		return e.man.Record(ctx, manifestJSON(t, "dup", "v1", func(m *records.Manifest) { m.Keys = []string{"x", "x"} }))
	})
	wantCode(t, err, records.CodeInvalid, "twice")
	for i := 0; i <= records.MaxPurgeTargets; i++ {
		e.recordTagged(orgA, "o"+strconv.Itoa(i), "v1", "bulk")
	}
	_, err = call(e, orgA, func(ctx *fakes.Context) (*records.PurgeRecord, error) {
		return e.man.PurgeBy(ctx, toJSON(t, records.PurgeRequest{Key: "bulk", Mode: records.PurgeHard, Reason: "r"}))
	})
	wantCode(t, err, records.CodeFailedPrecondition, "more than 128 live versions")
	// Purging one by name brings the key within bounds.
	must(e, orgA, func(ctx *fakes.Context) (*records.Manifest, error) { return e.man.Purge(ctx, "o0", "v1", "r") })
	rec := must(e, orgA, func(ctx *fakes.Context) (*records.PurgeRecord, error) {
		return e.man.PurgeBy(ctx, toJSON(t, records.PurgeRequest{Key: "bulk", Mode: records.PurgeHard, Reason: "r"}))
	})
	if len(rec.Targets) != records.MaxPurgeTargets {
		t.Fatalf("%d targets, want %d", len(rec.Targets), records.MaxPurgeTargets)
	}
}
