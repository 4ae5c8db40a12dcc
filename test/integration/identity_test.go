//go:build integration

package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
	testnetwork "github.com/dct-network/dct/test-network"
)

// identityClient connects as identity role of the desc's i-th organisation.
func identityClient(t *testing.T, desc *testnetwork.Description, i int, role string) (*ledger.Client, testnetwork.Identity) {
	t.Helper()
	id, err := desc.Orgs[i].Identity(role)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := id.Signer(desc.Orgs[i].MSPID)
	if err != nil {
		t.Fatal(err)
	}
	return clientAs(t, desc, i, signer), id
}

func certPEMAndHash(t *testing.T, path string) (string, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	sum := sha256.Sum256(block.Bytes)
	return string(b), hex.EncodeToString(sum[:])
}

// TestIdentityRegistry checks the roles the network granted when it came
// up, then grants and revokes on the real network: the admin role comes
// from the certificates cryptogen issues with NodeOUs, and only an
// organisation's admins change its members' roles.
func TestIdentityRegistry(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	adminA, adminB := adminClient(t, shared, 0), adminClient(t, shared, 1)

	me, err := adminA.Whoami(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !me.Has(records.RoleAdmin) || me.MSPID != shared.Orgs[0].MSPID {
		t.Fatalf("Admin@ whoami = %+v, want the admin role from its NodeOU", me)
	}
	for i := range shared.Orgs {
		for _, role := range []string{testnetwork.RolePublisher, testnetwork.RoleGateway, testnetwork.RoleAuditor} {
			cl, id := identityClient(t, shared, i, role)
			_, hash := certPEMAndHash(t, id.Cert)
			got, err := cl.Whoami(ctx)
			if err != nil || !slices.Equal(got.Roles, []records.Role{records.Role(role)}) || got.CertHash != hash {
				t.Fatalf("%s whoami = %+v, %v; want exactly role %s", id.Name, got, err, role)
			}
		}
	}

	auditorA, auditor := identityClient(t, shared, 0, testnetwork.RoleAuditor)
	publisherB, _ := identityClient(t, shared, 1, testnetwork.RolePublisher)
	audPEM, audHash := certPEMAndHash(t, auditor.Cert)
	restore := records.GrantInput{Certificate: audPEM, Roles: []records.Role{records.RoleAuditor}}
	defer adminA.GrantIdentity(context.Background(), restore)

	grant := records.GrantInput{Certificate: audPEM, Roles: []records.Role{records.RoleAuditor, records.RolePublisher}}
	if _, err := publisherB.GrantIdentity(ctx, grant); !errors.Is(err, records.ErrForbidden) {
		t.Fatalf("a publisher granting: %v, want PERMISSION_DENIED", err)
	}
	g, err := adminA.GrantIdentity(ctx, grant)
	if err != nil {
		t.Fatal(err)
	}
	if g.CertHash != audHash || g.MSPID != shared.Orgs[0].MSPID {
		t.Fatalf("grant = %+v", g)
	}
	if u, err := auditorA.Whoami(ctx); err != nil || !u.Has(records.RolePublisher) || !u.Has(records.RoleAuditor) {
		t.Fatalf("User3 after the grant: %+v, %v", u, err)
	}
	// Org B's admin may grant only within org B: its grant of org A's
	// certificate does not reach org A's member, nor does its revocation.
	if _, err := adminB.GrantIdentity(ctx, records.GrantInput{Certificate: audPEM, Roles: []records.Role{records.RoleGateway}}); err != nil {
		t.Fatal(err)
	}
	if u, _ := auditorA.Whoami(ctx); u == nil || u.Has(records.RoleGateway) {
		t.Fatalf("org B's grant reached org A's member: %+v", u)
	}
	if _, err := adminB.RevokeIdentity(ctx, audHash); err != nil {
		t.Fatal(err) // org B's own (meaningless) grant
	}
	if u, _ := auditorA.Whoami(ctx); u == nil || !u.Has(records.RolePublisher) {
		t.Fatalf("org B's revocation reached org A's member: %+v", u)
	}
	if _, err := adminA.RevokeIdentity(ctx, audHash); err != nil {
		t.Fatal(err)
	}
	if u, _ := auditorA.Whoami(ctx); u == nil || len(u.Roles) != 0 {
		t.Fatalf("User3 after the revocation: %+v", u)
	}
	// Read through org A's peer, which has committed the revocation.
	h, err := adminA.IdentityHistory(ctx, shared.Orgs[0].MSPID, audHash)
	if err != nil || len(h) != 3 || h[0].IsDelete || h[1].IsDelete || !h[2].IsDelete {
		t.Fatalf("history = %+v, %v; want the network's grant, this grant and the revocation", h, err)
	}
}

// TestGrantCommand grants and revokes a role with `dct-network grant` the
// way an organisation admin of an existing consortium would: its connection
// profile and the admin's MSP directory.
func TestGrantCommand(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	org := shared.Orgs[1]
	auditor, id := identityClient(t, shared, 1, testnetwork.RoleAuditor)
	run := func(msp string, extra ...string) (string, error) {
		var out bytes.Buffer
		cmd := testnetwork.NewCommand(&out)
		cmd.SetArgs(append([]string{"grant", "--connection-profile", org.ConnectionProfile, "--msp-dir", msp,
			"--channel", shared.Channel, "--chaincode", shared.Chaincode, "--member-cert", id.Cert}, extra...))
		err := cmd.ExecuteContext(ctx)
		return out.String(), err
	}
	out, err := run(org.AdminMSPDir, "--role", "auditor,publisher")
	if err != nil || !strings.Contains(out, `"publisher"`) {
		t.Fatalf("grant: %v\n%s", err, out)
	}
	if u, err := auditor.Whoami(ctx); err != nil || !u.Has(records.RolePublisher) || !u.Has(records.RoleAuditor) {
		t.Fatalf("after grant: %+v, %v", u, err)
	}
	if _, err := run(id.MSPDir, "--role", "gateway"); !errors.Is(err, records.ErrForbidden) {
		t.Fatalf("a non-admin granting: %v, want PERMISSION_DENIED", err)
	}
	if _, err := run(org.AdminMSPDir, "--revoke"); err != nil {
		t.Fatal(err)
	}
	if u, err := auditor.Whoami(ctx); err != nil || len(u.Roles) != 0 {
		t.Fatalf("after revoke: %+v, %v", u, err)
	}
	if _, err := run(org.AdminMSPDir, "--role", "auditor"); err != nil {
		t.Fatal(err) // as the network granted it
	}
}
