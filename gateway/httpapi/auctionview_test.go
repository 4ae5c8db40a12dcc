package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/httpapi"
	"github.com/dct-network/dct/pkg/api"
)

var auditedAuction = strings.Repeat("d", 64)

// fakeAuctions answers the auction reads like the chaincode for one
// cleared auction (INVALID for a malformed id, NOT_FOUND for another).
type fakeAuctions struct{}

func (fakeAuctions) check(id string) error {
	if err := records.ValidateAuctionID(id); err != nil {
		return err
	}
	if id != auditedAuction {
		return records.Errorf(records.CodeNotFound, "auction %s does not exist", id)
	}
	return nil
}

func (f fakeAuctions) GetAuction(_ context.Context, id string) (*records.Auction, error) {
	if err := f.check(id); err != nil {
		return nil, err
	}
	return &records.Auction{ID: id, Status: records.AuctionCleared, Awards: []records.Award{{Shard: 0, Node: "n1-org1"}},
		Inputs: []records.ClearingInput{{Node: "n1-org1", Score: 9000, Scored: true}}}, nil
}

func (f fakeAuctions) AuctionReveals(_ context.Context, id string) ([]*records.Reveal, error) {
	if err := f.check(id); err != nil {
		return nil, err
	}
	return []*records.Reveal{{Auction: id, Terms: records.BidTerms{Node: "n1-org1"}}, {Auction: id, Terms: records.BidTerms{Node: "n2-org1"}}}, nil
}

func (f fakeAuctions) AuctionContracts(_ context.Context, id string) ([]*records.Contract, error) {
	if err := f.check(id); err != nil {
		return nil, err
	}
	return []*records.Contract{{Auction: id, Shard: 0, Node: "n1-org1"}}, nil
}

// TestAuctionEndpoints: any member reads an auction, its reveals and
// contracts in JSON and CSV; a malformed id is 400, an unknown one 404,
// and a gateway without the view 404.
func TestAuctionEndpoints(t *testing.T) {
	f := newFixture(t)
	a := newAdminServer(t, f.svc, 0, 0, func(c *httpapi.AdminConfig) { c.Auctions = fakeAuctions{} })
	got := a.do(t, a.publisher2, http.MethodGet, "/v1/audit/auctions/"+auditedAuction, nil)
	var au records.Auction
	if got.status != http.StatusOK || json.Unmarshal(got.body, &au) != nil || au.ID != auditedAuction || len(au.Inputs) != 1 || au.Inputs[0].Score != 9000 {
		t.Fatalf("auction: %d %s", got.status, got.body)
	}
	for _, c := range []struct {
		path string
		rows int
		cell string // rows[1][0]
	}{
		{"", 2, auditedAuction},
		{"/reveals", 3, "n1-org1"},
		{"/contracts", 2, "0"},
	} {
		rows := readCSV(t, a.do(t, a.auditor1, http.MethodGet, "/v1/audit/auctions/"+auditedAuction+c.path+"?format=csv", nil))
		if len(rows) != c.rows || rows[1][0] != c.cell {
			t.Errorf("%s CSV: %q", c.path, rows)
		}
	}
	wantError(t, a.do(t, a.auditor1, http.MethodGet, "/v1/audit/auctions/xyz", nil), http.StatusBadRequest, api.CodeInvalid)
	wantError(t, a.do(t, a.auditor1, http.MethodGet, "/v1/audit/auctions/"+strings.Repeat("e", 64)+"/reveals", nil), http.StatusNotFound, api.CodeNotFound)

	none := newAdminServer(t, f.svc, 0, 0)
	wantError(t, none.do(t, none.auditor1, http.MethodGet, "/v1/audit/auctions/"+auditedAuction, nil), http.StatusNotFound, api.CodeNotFound)
}
