//go:build integration

package integration

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/receipts"
	testnetwork "github.com/dct-network/dct/test-network"
)

// aclCaller is one identity of the matrix.
type aclCaller struct {
	name string // adminA, publisherB, …
	org  int
	cl   *ledger.Client
	hash string
}

// aclRow is one write function, called by every caller on its own target.
type aclRow struct {
	fn string
	// setup prepares caller c's target (as an admin); call makes the call
	// under test; state fingerprints the target, to show that a refused
	// call changed nothing.
	setup   func(ctx context.Context, c *aclCaller) error
	call    func(ctx context.Context, c *aclCaller) error
	state   func(ctx context.Context, c *aclCaller) string
	allowed string
	// serial rows share one target: their callers run one at a time, and
	// restore (if set) puts the target back after an allowed call.
	serial  bool
	restore func(ctx context.Context) error
	// notFound: a refusal may also be NOT_FOUND (the caller's organisation
	// has no such record of its own).
	notFound bool
}

// TestAccessControl calls every write function of the chaincode as every
// role of both organisations on the real network and prints the matrix:
// allowed or refused, each as the chaincode's Writers table and record rules
// say. A refused call must answer PERMISSION_DENIED and leave its target as
// it was.
func TestAccessControl(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	callers := aclCallers(t)
	by := map[string]*aclCaller{}
	for _, c := range callers {
		by[c.name] = c
	}
	adminA, adminB := by["adminA"].cl, by["adminB"].cl
	slug := func(i int) string { return records.OrgSlug(shared.Orgs[i].MSPID) }
	ownNode := "agent0-" + slug(0) // the node identity nodeA is bound to
	spares := []string{"acl-n1-" + slug(0), "acl-n2-" + slug(0), "acl-n3-" + slug(0)}
	spareB := "acl-n4-" + slug(1)
	// The private reads: org A's account exists (opened, or issued into).
	const orgAOrAuditor = "adminA publisherA gatewayA auditorA nodeA auditorB"
	openAccountA := func(ctx context.Context, _ *aclCaller) error {
		if _, err := adminA.OpenAccount(ctx); err != nil && !errors.Is(err, records.ErrConflict) && !errors.Is(err, ledger.ErrConflict) {
			return err
		}
		return nil
	}
	noState := func(context.Context, *aclCaller) string { return "" }
	var registered []string
	for i, id := range append(append([]string{ownNode}, spares...), spareB) {
		cl := adminA
		if id == spareB {
			cl = adminB
		}
		n, err := cl.RegisterNode(ctx, nodeInput(t, id, "acl", 9600+i))
		if err != nil {
			t.Fatal(err)
		}
		registered = append(registered, n.LastTxID)
	}
	// Every caller's peer must know the targets before it is asked to
	// endorse a change of them.
	for _, c := range callers {
		for _, tx := range registered {
			if err := c.cl.WaitForCommit(ctx, tx); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Targets are read through org A's peer, which has committed every
	// setup write (they are all org A's) by the time the call returns.
	nodeState := func(id string) func(context.Context, *aclCaller) string {
		return func(ctx context.Context, _ *aclCaller) string {
			n, err := adminA.GetNode(ctx, id)
			if err != nil {
				return err.Error()
			}
			return n.LastTxID + "/" + string(n.Status)
		}
	}
	manifestState := func(prefix string) func(context.Context, *aclCaller) string {
		return func(ctx context.Context, c *aclCaller) string {
			m, err := adminA.GetManifest(ctx, prefix+c.name, "v1")
			if err != nil {
				return records.CodeOf(err).String()
			}
			b, _ := json.Marshal(m)
			return string(b)
		}
	}
	pubHash := by["publisherA"].hash
	record := func(name string, mutate func(*records.Manifest)) func(context.Context, *aclCaller) error {
		return func(ctx context.Context, c *aclCaller) error {
			m := testManifest(name+c.name, "v1", []byte(name+c.name), 2, 1, spares)
			if mutate != nil {
				mutate(m)
			}
			_, err := c.cl.RecordManifest(ctx, m)
			return err
		}
	}
	setupObject := func(prefix string) func(context.Context, *aclCaller) error {
		return func(ctx context.Context, c *aclCaller) error {
			m, err := by["publisherA"].cl.RecordManifest(ctx, testManifest(prefix+c.name, "v1", []byte(prefix+c.name), 2, 1, spares))
			if err != nil {
				return err
			}
			return c.cl.WaitForCommit(ctx, m.TxID) // the caller's peer knows the object
		}
	}
	reactivate := func(ctx context.Context) error { // idempotent
		if n, err := adminA.GetNode(ctx, ownNode); err != nil || n.Active() {
			return err
		}
		_, err := adminA.ReactivateNode(ctx, ownNode)
		return err
	}
	// Token and delivery rows: each organisation has an account with a
	// balance and an escrow to move; gatewayA has a committed batch (of
	// receipts it signed for an epoch in the window) to prove; the
	// targets are read through the caller's own organisation's peer, which
	// has committed the caller's own writes when its call returns.
	adminOf := func(c *aclCaller) *ledger.Client { return []*ledger.Client{adminA, adminB}[c.org] }
	mspOf := func(c *aclCaller) string { return shared.Orgs[c.org].MSPID }
	for _, admin := range []*ledger.Client{adminA, adminB} {
		if _, err := admin.IssueTokens(ctx, 1000); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.OpenAccount(ctx); err != nil && !errors.Is(err, records.ErrConflict) {
			t.Fatal(err)
		}
		if _, err := admin.DepositEscrow(ctx, 100); err != nil {
			t.Fatal(err)
		}
	}
	price, err := adminA.Price(ctx)
	if err != nil {
		t.Fatal(err)
	}
	accountState := func(ctx context.Context, c *aclCaller) string {
		a, err := adminOf(c).Account(ctx, mspOf(c))
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("%s %d/%d/%d", a.LastTxID, a.Balance, a.Escrow, a.Issued)
	}
	aclEpoch := records.EpochOf(time.Now(), records.DefaultEpochSeconds) - 20
	batchState := func(ctx context.Context, c *aclCaller) string {
		bs, err := adminOf(c).Batches(ctx, mspOf(c))
		if err != nil {
			return err.Error()
		}
		var out []string
		for _, b := range bs {
			if b.Gateway == c.hash && b.Epoch == aclEpoch {
				out = append(out, b.ID)
			}
		}
		return strings.Join(out, ",")
	}
	gwA, gwAID := identityClient(t, shared, 0, testnetwork.RoleGateway)
	gwIdentity, err := ledger.ReceiptIdentity(shared.Orgs[0].MSPID, gwAID.Cert, gwAID.KeyDir)
	if err != nil {
		t.Fatal(err)
	}
	toProve := receiptBatch(t, gwIdentity, records.EpochStart(aclEpoch-1, records.DefaultEpochSeconds), []receipts.Delivery{{
		Publisher: shared.Orgs[0].MSPID, Object: "acl/prove", Version: "v1", Shard: 0,
		ShardHash: strings.Repeat("ab", 32), Node: ownNode, Bytes: 1000, Request: "acl-prove"}})
	proveBatch, err := gwA.CommitBatch(ctx, *toProve.Input())
	if err != nil {
		t.Fatal(err)
	}
	proveSamples, err := toProve.Samples(proveBatch.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range callers {
		if err := c.cl.WaitForCommit(ctx, proveBatch.ID); err != nil {
			t.Fatal(err)
		}
	}
	slaPast := records.EpochOf(time.Now(), records.DefaultEpochSeconds) - 1000
	slaEpochOf := func(c *aclCaller) int64 { return slaPast - int64(slices.Index(callers, c)) }
	throwaway := map[string]string{} // caller → certificate PEM granted in setup
	var mu sync.Mutex
	rows := []aclRow{
		{fn: "node:Register", allowed: "adminA",
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.RegisterNode(ctx, nodeInput(t, "acl-reg-"+strings.ToLower(c.name)+"-"+slug(0), "acl", 9700))
				return err
			},
			state: func(ctx context.Context, c *aclCaller) string {
				return nodeState("acl-reg-"+strings.ToLower(c.name)+"-"+slug(0))(ctx, c)
			}},
		{fn: "node:Update", allowed: "adminA nodeA", serial: true,
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.UpdateNode(ctx, nodeInput(t, ownNode, "acl-"+strings.ToLower(c.name), 9601))
				return err
			},
			state: nodeState(ownNode)},
		{fn: "node:Deactivate", allowed: "adminA nodeA", serial: true,
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.DeactivateNode(ctx, ownNode, "acl matrix")
				return err
			},
			state: nodeState(ownNode), restore: reactivate},
		{fn: "node:Reactivate", allowed: "adminA nodeA", serial: true,
			setup: func(ctx context.Context, _ *aclCaller) error {
				if n, err := adminA.GetNode(ctx, ownNode); err != nil || !n.Active() {
					return err // still inactive after a refused call
				}
				_, err := adminA.DeactivateNode(ctx, ownNode, "acl matrix")
				return err
			},
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.ReactivateNode(ctx, ownNode)
				return err
			},
			state: nodeState(ownNode), restore: reactivate},
		{fn: "manifest:Record (own name)", allowed: "adminA publisherA adminB publisherB",
			call: record("acl/own/", nil), state: manifestState("acl/own/")},
		{fn: "manifest:Record for publisherA", allowed: "adminA publisherA gatewayA",
			call: record("acl/for/", func(m *records.Manifest) { m.PublishedBy = pubHash }), state: manifestState("acl/for/")},
		{fn: "manifest:Purge (org A's)", allowed: "adminA publisherA gatewayA",
			setup: setupObject("acl/purge/"),
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.PurgeManifest(ctx, "acl/purge/"+c.name, "v1", "acl matrix")
				return err
			},
			state: manifestState("acl/purge/")},
		{fn: "manifest:PurgeBy key (org A's)", allowed: "adminA publisherA gatewayA", notFound: true, // org B's key namespace is empty
			setup: func(ctx context.Context, c *aclCaller) error {
				m := testManifest("acl/pkey/"+c.name, "v1", []byte("acl/pkey/"+c.name), 2, 1, spares)
				m.Keys = []string{"acl-" + c.name}
				rec, err := by["publisherA"].cl.RecordManifest(ctx, m)
				if err != nil {
					return err
				}
				return c.cl.WaitForCommit(ctx, rec.TxID)
			},
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.PurgeBy(ctx, records.PurgeRequest{Key: "acl-" + c.name, Mode: records.PurgeHard, Reason: "acl matrix"})
				return err
			},
			state: manifestState("acl/pkey/")},
		{fn: "manifest:PurgeBy soft (org A's)", allowed: "adminA publisherA gatewayA",
			setup: setupObject("acl/psoft/"),
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.PurgeBy(ctx, records.PurgeRequest{Name: "acl/psoft/" + c.name, Mode: records.PurgeSoft, Reason: "acl matrix"})
				return err
			},
			state: manifestState("acl/psoft/")},
		{fn: "manifest:UpdateHolders (org A's)", allowed: "adminA gatewayA",
			setup: setupObject("acl/hold/"),
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.UpdateShardHolders(ctx, "acl/hold/"+c.name, "v1", 1, spares[1:2], []string{spareB})
				return err
			},
			state: manifestState("acl/hold/")},
		{fn: "identity:Grant", allowed: "adminA adminB",
			call: func(ctx context.Context, c *aclCaller) error {
				certPEM, _ := selfSignedCert(t, shared.Orgs[c.org].MSPID, "acl-grant-"+c.name)
				_, err := c.cl.GrantIdentity(ctx, records.GrantInput{Certificate: certPEM, Roles: []records.Role{records.RoleAuditor}})
				return err
			},
			state: func(context.Context, *aclCaller) string { return "" }},
		{fn: "identity:Revoke (org A's grant)", allowed: "adminA", notFound: true,
			setup: func(ctx context.Context, c *aclCaller) error {
				certPEM, _ := selfSignedCert(t, shared.Orgs[0].MSPID, "acl-revoke-"+c.name)
				mu.Lock()
				throwaway[c.name] = certPEM
				mu.Unlock()
				_, err := adminA.GrantIdentity(ctx, records.GrantInput{Certificate: certPEM, Roles: []records.Role{records.RoleAuditor}})
				return err
			},
			call: func(ctx context.Context, c *aclCaller) error {
				mu.Lock()
				h := certHashOfPEM(t, throwaway[c.name])
				mu.Unlock()
				_, err := c.cl.RevokeIdentity(ctx, h)
				return err
			},
			state: func(ctx context.Context, c *aclCaller) string {
				mu.Lock()
				h := certHashOfPEM(t, throwaway[c.name])
				mu.Unlock()
				_, err := adminA.GetIdentity(ctx, shared.Orgs[0].MSPID, h)
				return fmt.Sprint(err)
			}},
		{fn: "token:Issue (own org)", allowed: "adminA adminB", serial: true,
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.IssueTokens(ctx, 1)
				return err
			},
			state: accountState},
		{fn: "token:Open (own org)", allowed: "adminA adminB", serial: true,
			// The accounts exist: an allowed caller gets ALREADY_EXISTS,
			// which the chaincode answers after the role check.
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.OpenAccount(ctx)
				if errors.Is(err, records.ErrConflict) {
					return nil
				}
				return err
			},
			state: accountState},
		{fn: "token:Transfer (own to other org)", allowed: "adminA publisherA adminB publisherB", serial: true,
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.TransferTokens(ctx, shared.Orgs[1-c.org].MSPID, 1)
				return err
			},
			state: accountState},
		{fn: "token:Deposit (own org)", allowed: "adminA publisherA adminB publisherB", serial: true,
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.DepositEscrow(ctx, 1)
				return err
			},
			state: accountState},
		{fn: "token:Withdraw (own org)", allowed: "adminA publisherA adminB publisherB", serial: true,
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.WithdrawEscrow(ctx, 1)
				return err
			},
			state: accountState},
		{fn: "token:SetPrice", allowed: "adminA adminB", serial: true,
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.SetPrice(ctx, price.PerMiB)
				return err
			},
			state: func(ctx context.Context, c *aclCaller) string {
				p, err := adminOf(c).Price(ctx)
				if err != nil {
					return err.Error()
				}
				return p.TxID
			}},
		{fn: "token:SettleQueued", allowed: "adminA publisherA gatewayA auditorA nodeA adminB publisherB gatewayB auditorB nodeB",
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.SettleQueued(ctx)
				return err
			},
			state: func(context.Context, *aclCaller) string { return "" }},
		{fn: "delivery:Commit (own batch)", allowed: "gatewayA gatewayB",
			call: func(ctx context.Context, c *aclCaller) error {
				root := sha256.Sum256([]byte("acl-commit-" + c.name))
				_, err := c.cl.CommitBatch(ctx, records.BatchInput{Epoch: aclEpoch, Root: hex.EncodeToString(root[:]), Size: 1,
					Totals: []records.NodeTotal{{Node: ownNode, Publisher: shared.Orgs[0].MSPID, Receipts: 1, Bytes: 1000}}})
				return err
			},
			state: batchState},
		{fn: "delivery:Prove (gatewayA's batch)", allowed: "gatewayA", serial: true,
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.ProveBatch(ctx, proveBatch.ID, proveSamples)
				return err
			},
			state: func(ctx context.Context, _ *aclCaller) string {
				b, err := adminA.GetBatch(ctx, proveBatch.ID)
				if err != nil {
					return err.Error()
				}
				return string(b.Status) + " " + b.ProveTxID
			}},
		// SLA: gateways and node identities attest (their own attestation
		// of the oldest epoch still open, never the one TestSLAAttestAndScore
		// scores later); any member scores an ended epoch (each caller its
		// own, long past, so that nobody conflicts).
		{fn: "sla:Attest (own attestation)", allowed: "gatewayA nodeA gatewayB nodeB",
			call: func(ctx context.Context, c *aclCaller) error {
				attest := func() error {
					in := records.SLAAttestationInput{Epoch: records.EpochOf(time.Now(), records.DefaultEpochSeconds) - records.SLAAttestEpochs,
						Observations: []records.SLAObservation{{Node: spares[0], ProbesSent: 10, ProbesAnswered: 9}}}
					_, err := c.cl.Attest(ctx, in)
					return err
				}
				err := attest()
				if records.CodeOf(err) == records.CodeFailedPrecondition { // the epoch closed meanwhile
					err = attest()
				}
				return err
			},
			state: func(ctx context.Context, c *aclCaller) string {
				cur := records.EpochOf(time.Now(), records.DefaultEpochSeconds)
				n := 0
				for e := cur - records.SLAAttestEpochs - 1; e <= cur; e++ {
					as, err := adminOf(c).SLAAttestations(ctx, e)
					if err != nil {
						return err.Error()
					}
					for _, a := range as {
						if a.Attester == c.hash {
							n++
						}
					}
				}
				return strconv.Itoa(n)
			}},
		{fn: "sla:Score (an ended epoch)", allowed: "adminA publisherA gatewayA auditorA nodeA adminB publisherB gatewayB auditorB nodeB",
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.ScoreEpoch(ctx, slaEpochOf(c))
				return err
			},
			state: func(ctx context.Context, c *aclCaller) string {
				e, err := adminOf(c).SLAEpoch(ctx, slaEpochOf(c))
				if err != nil {
					return records.CodeOf(err).String()
				}
				return e.TxID
			}},
		// Reads of org A's money figures: its members and every auditor.
		{fn: "token:Account (org A's)", allowed: orgAOrAuditor, setup: openAccountA,
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.Account(ctx, shared.Orgs[0].MSPID)
				return err
			},
			state: noState},
		{fn: "token:Payouts (to org A)", allowed: orgAOrAuditor,
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.Payouts(ctx, shared.Orgs[0].MSPID)
				return err
			},
			state: noState},
		{fn: "history:Account (org A's)", allowed: orgAOrAuditor, setup: openAccountA,
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.AccountHistory(ctx, shared.Orgs[0].MSPID)
				return err
			},
			state: noState},
		{fn: "token:Accounts", allowed: "auditorA auditorB",
			call: func(ctx context.Context, c *aclCaller) error {
				_, err := c.cl.Accounts(ctx)
				return err
			},
			state: noState},
	}

	var table strings.Builder
	fmt.Fprintf(&table, "%-34s", "function \\ caller")
	for _, c := range callers {
		fmt.Fprintf(&table, " %-10s", c.name)
	}
	table.WriteString("\n")
	for _, row := range rows {
		marks := make([]string, len(callers))
		cell := func(i int) {
			c := callers[i]
			if row.setup != nil {
				if err := row.setup(ctx, c); err != nil {
					t.Errorf("%s setup for %s: %v", row.fn, c.name, err)
					return
				}
			}
			before := row.state(ctx, c)
			err := row.call(ctx, c)
			want := strings.Contains(" "+row.allowed+" ", " "+c.name+" ")
			marks[i] = "refused"
			if err == nil {
				marks[i] = "allowed"
			}
			switch {
			case want && err != nil:
				t.Errorf("%s as %s: refused (%v), want allowed", row.fn, c.name, err)
			case !want && err == nil:
				t.Errorf("%s as %s: allowed, want refused", row.fn, c.name)
			case !want && !errorsIsForbidden(err) && !(row.notFound && records.CodeOf(err) == records.CodeNotFound):
				t.Errorf("%s as %s: %v, want PERMISSION_DENIED", row.fn, c.name, err)
			case !want:
				if after := row.state(ctx, c); after != before {
					t.Errorf("%s as %s was refused but changed its target:\n before %s\n after  %s", row.fn, c.name, before, after)
				}
			}
			if err == nil && row.restore != nil {
				if err := row.restore(ctx); err != nil {
					t.Errorf("%s restore after %s: %v", row.fn, c.name, err)
				}
			}
		}
		if row.serial {
			for i := range callers {
				cell(i)
			}
			if row.restore != nil {
				if err := row.restore(ctx); err != nil {
					t.Errorf("%s restore: %v", row.fn, err)
				}
			}
		} else {
			var wg sync.WaitGroup
			for i := range callers {
				wg.Add(1)
				go func() { defer wg.Done(); cell(i) }()
			}
			wg.Wait()
		}
		fmt.Fprintf(&table, "%-34s", row.fn)
		for _, m := range marks {
			fmt.Fprintf(&table, " %-10s", m)
		}
		table.WriteString("\n")
	}
	// Reads are open to every member identity.
	fmt.Fprintf(&table, "%-34s", "reads (all Get/List/history)")
	for _, c := range callers {
		_, e1 := c.cl.ListNodes(ctx)
		_, e2 := c.cl.ListObjects(ctx)
		_, e3 := c.cl.ListIdentities(ctx)
		_, e4 := c.cl.NodeHistory(ctx, ownNode)
		_, e5 := c.cl.Supply(ctx)
		_, e6 := c.cl.Batches(ctx, shared.Orgs[0].MSPID)
		mark := "allowed"
		if err := errors.Join(e1, e2, e3, e4, e5, e6); err != nil {
			mark = "refused"
			t.Errorf("reads as %s: %v", c.name, err)
		}
		fmt.Fprintf(&table, " %-10s", mark)
	}
	table.WriteString("\n")
	// So are the SLA reads (the scores, their breakdowns and history,
	// the attestations and scoring of an epoch).
	fmt.Fprintf(&table, "%-34s", "sla reads (List/Get/History/...)")
	for _, c := range callers {
		_, e1 := c.cl.SLAScores(ctx)
		_, e2 := c.cl.SLAScore(ctx, spares[0])
		_, e3 := c.cl.SLAHistory(ctx, spares[0])
		if records.CodeOf(e3) == records.CodeNotFound {
			e3 = nil // read, and never scored: no breakdown yet
		}
		_, e4 := c.cl.SLAAttestations(ctx, records.EpochOf(time.Now(), records.DefaultEpochSeconds)-records.SLAAttestEpochs)
		_, e5 := c.cl.SLAEpoch(ctx, slaEpochOf(c))
		mark := "allowed"
		if err := errors.Join(e1, e2, e3, e4, e5); err != nil {
			mark = "refused"
			t.Errorf("SLA reads as %s: %v", c.name, err)
		}
		fmt.Fprintf(&table, " %-10s", mark)
	}
	table.WriteString("\n")
	t.Logf("access control matrix on the real network (A = %s, B = %s):\n%s", shared.Orgs[0].MSPID, shared.Orgs[1].MSPID, table.String())
}

func errorsIsForbidden(err error) bool { return records.CodeOf(err) == records.CodeForbidden }

// aclCallers connects as the admin, publisher, gateway, auditor and node
// identity of both organisations.
func aclCallers(t *testing.T) []*aclCaller {
	var out []*aclCaller
	for i, short := range []string{"A", "B"} {
		org := shared.Orgs[i]
		admin := &aclCaller{name: "admin" + short, org: i, cl: adminClient(t, shared, i)}
		_, admin.hash = certPEMAndHash(t, org.AdminCert)
		out = append(out, admin)
		for _, role := range []string{testnetwork.RolePublisher, testnetwork.RoleGateway, testnetwork.RoleAuditor, testnetwork.RoleNode} {
			cl, id := identityClient(t, shared, i, role)
			c := &aclCaller{name: role + short, org: i, cl: cl}
			_, c.hash = certPEMAndHash(t, id.Cert)
			out = append(out, c)
		}
	}
	return out
}

// selfSignedCert makes a certificate for a grant: the registry names
// identities by certificate hash, so any certificate will do.
func selfSignedCert(t *testing.T, mspID, cn string) (string, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn, Organization: []string{mspID}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	return p, certHashOfPEM(t, p)
}

func certHashOfPEM(t *testing.T, p string) string {
	t.Helper()
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		t.Fatalf("no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return records.CertHash(cert)
}
