package testenv

import (
	"fmt"
	"net/http"

	"github.com/dct-network/dct/pkg/gatewayclient"
	testnetwork "github.com/dct-network/dct/test-network"
)

// AdminHTTPClient is an HTTPS client of the network's gateways' admin
// listeners presenting the enrollment certificate of identity id (from its
// MSP directory; the zero Identity: no certificate) and trusting every
// organisation's TLS CA.
func AdminHTTPClient(desc *testnetwork.Description, id testnetwork.Identity) (*http.Client, error) {
	cfg, err := gatewayclient.TLSConfig(gatewayclient.TLSFiles{MSPDir: id.MSPDir, CACert: desc.TLSRootBundle})
	if err != nil {
		return nil, err
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: cfg, MaxIdleConnsPerHost: 16}}, nil
}

// Client is a client of gateway gw whose writes go to its admin listener
// as the identity with role of organisation mspID ("" = the gateway's own
// organisation), e.g. testnetwork.RolePublisher.
func Client(desc *testnetwork.Description, gw testnetwork.GatewayInfo, mspID, role string) (*gatewayclient.Client, error) {
	if mspID == "" {
		mspID = gw.Org
	}
	org, err := desc.Org(mspID)
	if err != nil {
		return nil, err
	}
	id, err := org.Identity(role)
	if err != nil {
		return nil, err
	}
	hc, err := AdminHTTPClient(desc, id)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", mspID, role, err)
	}
	return gatewayclient.New(gw.URL, gatewayclient.WithAdmin(gw.AdminURL, hc)), nil
}

// Publisher is a client of gateway gw publishing as its organisation's
// publisher (User1); it panics when the network has none, which Up always
// makes.
func Publisher(desc *testnetwork.Description, gw testnetwork.GatewayInfo) *gatewayclient.Client {
	c, err := Client(desc, gw, "", testnetwork.RolePublisher)
	if err != nil {
		panic(err)
	}
	return c
}
