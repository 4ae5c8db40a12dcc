package contract

import (
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

func epochInfo(t *testing.T, e *env) *records.EpochInfo {
	t.Helper()
	return must(e, orgC, func(ctx *fakes.Context) (*records.EpochInfo, error) { return NewDeliveryContract().Epoch(ctx) })
}

func setLength(e *env, m *member, seconds int64) (*records.EpochSetting, error) {
	e.t.Helper()
	fn := func(ctx *fakes.Context) (*records.EpochSetting, error) {
		return NewDeliveryContract().SetEpochLength(ctx, seconds)
	}
	if m == nil {
		return call(e, orgB, fn) // org B's admin
	}
	return as(e, *m, fn)
}

// TestEpochLengthSetting: unset, epochs are 60 s; only an admin sets the
// length, within 1..3600 s, once; then delivery:Epoch and the SLA
// windows follow it.
func TestEpochLengthSetting(t *testing.T) {
	w := newSLAWorld(t)
	e := w.e
	if info := epochInfo(t, e); info.Seconds != records.DefaultEpochSeconds || info.Epoch != records.EpochOf(e.ledger.Now(), 60) {
		t.Fatalf("default epoch = %+v", info)
	}
	publisher, gateway := w.m["publisherA"], w.m["gwA"]
	for _, c := range []struct {
		name    string
		who     *member
		seconds int64
		code    records.Code
		msg     string
	}{
		{"a publisher", &publisher, 5, records.CodeForbidden, ""},
		{"a gateway", &gateway, 5, records.CodeForbidden, ""},
		{"zero", nil, 0, records.CodeInvalid, "1..3600"},
		{"negative", nil, -5, records.CodeInvalid, "1..3600"},
		{"over an hour", nil, 3601, records.CodeInvalid, "1..3600"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := setLength(e, c.who, c.seconds)
			wantCode(t, err, c.code, c.msg)
		})
	}
	set, err := setLength(e, nil, 5)
	if err != nil {
		t.Fatal(err)
	}
	if set.Seconds != 5 || set.SetBy != orgB || set.TxID == "" || set.Validate() != nil {
		t.Fatalf("set %s %+v", set, set)
	}
	for _, again := range []int64{5, 10} {
		_, err := setLength(e, nil, again)
		wantCode(t, err, records.CodeFailedPrecondition, "already set")
	}
	// Epochs are now 5 s long, on every reading path.
	info := epochInfo(t, e)
	now := e.ledger.Now()
	if info.Seconds != 5 || info.Epoch != now.Unix()/5 || info.End != records.FormatTimestamp(records.EpochStart(info.Epoch+1, 5)) {
		t.Fatalf("epoch after the setting = %+v at %v", info, now)
	}
	// An attestation three 5 s epochs back is closed (it would be open
	// with 60 s epochs); one of the current epoch is taken and scored
	// once the epoch has ended. (The fake ledger's clock moves a second a
	// transaction.)
	if _, err := w.attest("gwB", info.Epoch-records.SLAAttestEpochs-1, perfect("n1-orga")); err == nil {
		t.Fatal("an attestation of a closed 5 s epoch was accepted")
	} else {
		wantCode(t, err, records.CodeFailedPrecondition, "closed")
	}
	if _, err := w.attest("gwB", info.Epoch, perfect("n1-orga")); err != nil {
		t.Fatal(err)
	}
	e.ledger.Advance(5 * time.Second)
	if res, err := w.score("gwC", info.Epoch); err != nil || len(res.Nodes) != 1 {
		t.Fatalf("score of the ended 5 s epoch: %+v, %v", res, err)
	}
}

// TestEpochLengthFrozenByRecords: once a record that names an epoch
// exists (an SLA attestation, a delivery batch), the length can no
// longer be set.
func TestEpochLengthFrozenByRecords(t *testing.T) {
	t.Run("after an SLA attestation", func(t *testing.T) {
		w := newSLAWorld(t)
		if _, err := w.attest("gwB", w.epoch(), perfect("n1-orga")); err != nil {
			t.Fatal(err)
		}
		_, err := setLength(w.e, nil, 5)
		wantCode(t, err, records.CodeFailedPrecondition, records.SLAAttestationKeyType)
	})
	t.Run("after a delivery batch", func(t *testing.T) {
		d := newDeliveryEnv(t)
		d.mustCommit(d.gwA, d.standard(d.gwA, d.epoch(), "s"))
		_, err := setLength(d.env, nil, 5)
		wantCode(t, err, records.CodeFailedPrecondition, records.BatchKeyType)
	})
	t.Run("before any: nodes, manifests and grants do not count", func(t *testing.T) {
		d := newDeliveryEnv(t)
		if _, err := setLength(d.env, nil, 3600); err != nil {
			t.Fatal(err)
		}
		// The batch window now counts 3600 s epochs.
		if info := epochInfo(t, d.env); info.Seconds != 3600 {
			t.Fatalf("epoch = %+v", info)
		}
	})
}
