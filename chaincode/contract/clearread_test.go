package contract

import (
	"fmt"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
)

// The bulk reads of a large clearing (two range queries) give what the
// per-bidder reads give: every registered node, its stored score or none,
// and NOT_FOUND for an unregistered bidder.
func TestClearingReadersAgree(t *testing.T) {
	l := newLifecycleEnv(t)
	l.setScore("n2-orga", 2000, records.SLAStatePenalized)
	l.setScore("m1-orgb", 9000, records.SLAStateOK)
	stub := l.ledger.NewStub()
	small, err := clearingReader(stub, 1)
	if err != nil {
		t.Fatal(err)
	}
	bulk, err := clearingReader(stub, bulkClearingReads)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"n1-orga", "n2-orga", "n3-orga", "n4-orga", "m1-orgb", "m2-orgb", "n9-orga"} {
		n1, s1, err1 := small(id)
		n2, s2, err2 := bulk(id)
		if fmt.Sprint(n1, s1, records.CodeOf(err1)) != fmt.Sprint(n2, s2, records.CodeOf(err2)) {
			t.Errorf("%s: per bidder %v %v %v, bulk %v %v %v", id, n1, s1, err1, n2, s2, err2)
		}
		if id == "n9-orga" && records.CodeOf(err2) != records.CodeNotFound {
			t.Errorf("unregistered bidder: %v", err2)
		}
		if id == "n2-orga" && (s2 == nil || s2.Score != 2000) {
			t.Errorf("n2's score %+v", s2)
		}
	}
}
