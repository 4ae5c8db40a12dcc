package testenv

import (
	"context"
	"testing"

	"github.com/dct-network/dct/pkg/ledger"
	testnetwork "github.com/dct-network/dct/test-network"
)

// LedgerClient connects to the peer of desc's i-th organisation as signer;
// the client and its connection close with the test.
func LedgerClient(t testing.TB, desc *testnetwork.Description, i int, signer ledger.Signer) *ledger.Client {
	t.Helper()
	conn, err := ledger.Dial(context.Background(), desc.Orgs[i].PeerEndpoint())
	if err != nil {
		t.Fatal(err)
	}
	cl, err := ledger.New(conn, signer, ledger.WithChannel(desc.Channel), ledger.WithChaincode(desc.Chaincode))
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cl.Close()
		conn.Close()
	})
	return cl
}
