package contract

import (
	"crypto/ecdsa"
	"fmt"
	"strings"
	"testing"

	"github.com/dct-network/dct/chaincode/internal/fakes"
	"github.com/dct-network/dct/chaincode/records"
)

// aclWorld is a ledger with one identity per role in each organisation,
// granted by the organisations' admins, two nodes of org A and one of org
// B, and an object of org A recorded by org A's publisher.
type aclWorld struct {
	e       *env
	ids     *IdentityContract
	members map[string]member
	keys    map[string]*ecdsa.PrivateKey
	// batch and samples are gatewayA's committed batch (commitBatchA).
	batch   string
	samples []records.SampledLeaf
	// auction is org A's open auction (openA).
	auction string
}

var (
	aclTerms   = records.BidTerms{Node: "n1-orga", StoragePerGBMonth: 1, DeliveryPerMiB: 1, CapacityBytes: 1 << 20, BandwidthBps: 1e6}
	aclSalt    = strings.Repeat("5a", records.BidSaltBytes)
	aclAuction = records.AuctionInput{Object: "obj", Shards: 2, K: 2, Replicas: 1, ShardSize: 10, TermSeconds: 60, MaxStoragePerGBMonth: 5, MaxDeliveryPerMiB: 5, RevealSeconds: 60}
)

// bidN1 places n1-orga's bid (aclTerms under aclSalt) as org A's admin.
func (w *aclWorld) bidN1() {
	h, err := records.BidHash(aclTerms, aclSalt)
	if err != nil {
		w.e.t.Fatal(err)
	}
	if err := w.asRole("adminA", func(ctx *fakes.Context) (any, error) {
		return NewAuctionContract().Bid(ctx, toJSON(w.e.t, records.BidInput{Node: "n1-orga", Hash: h}))
	}); err != nil {
		w.e.t.Fatal(err)
	}
}

// openA: n1-orga bids and gatewayA opens an auction.
func (w *aclWorld) openA() {
	w.bidN1()
	if err := w.asRole("gatewayA", func(ctx *fakes.Context) (any, error) {
		a, err := NewAuctionContract().Open(ctx, toJSON(w.e.t, aclAuction))
		if err == nil {
			w.auction = a.ID
		}
		return a, err
	}); err != nil {
		w.e.t.Fatal(err)
	}
}

// openRevealA: openA, and n1-orga's bid revealed.
func (w *aclWorld) openRevealA() {
	w.openA()
	if err := w.asRole("adminA", func(ctx *fakes.Context) (any, error) {
		return NewAuctionContract().Reveal(ctx, toJSON(w.e.t, records.RevealInput{Auction: w.auction, Terms: aclTerms, Salt: aclSalt}))
	}); err != nil {
		w.e.t.Fatal(err)
	}
}

// commitBatchA commits a one-receipt batch of gatewayA for the current
// epoch, for Prove.
func (w *aclWorld) commitBatchA() {
	t := w.e.t
	g := gateway{member: w.members["gatewayA"], key: w.keys["gatewayA"]}
	ep := records.EpochOf(w.e.ledger.Now(), records.DefaultEpochSeconds)
	b := &batch{epoch: ep, publisher: map[string]string{"obj": orgA}, gw: g}
	b.receipts = append(b.receipts, g.receipt(t, ep, "s1", manifest("obj", "v1"), 0, "n1-orga", 100))
	in := b.input()
	res, err := as(w.e, g.member, func(ctx *fakes.Context) (*records.Batch, error) {
		return NewDeliveryContract().Commit(ctx, toJSON(t, in))
	})
	if err != nil {
		t.Fatal(err)
	}
	w.batch, w.samples = res.ID, b.samples(t, res.ID)
}

// acceptBatchA commits gatewayA's batch and proves it: its payout of
// node n1-orga's delivery (org A's content) is recorded.
func (w *aclWorld) acceptBatchA() {
	w.commitBatchA()
	if err := w.asRole("gatewayA", func(ctx *fakes.Context) (any, error) {
		return NewDeliveryContract().Prove(ctx, w.batch, toJSON(w.e.t, w.samples))
	}); err != nil {
		w.e.t.Fatal(err)
	}
}

// payoutRefA is the ref of acceptBatchA's payout.
func (w *aclWorld) payoutRefA() string { return records.PayoutRef(w.batch, "n1-orga", orgA) }

func newACLWorld(t *testing.T) *aclWorld {
	w := &aclWorld{e: newEnv(t), ids: NewIdentityContract(), members: map[string]member{}, keys: map[string]*ecdsa.PrivateKey{}}
	for _, org := range []struct{ msp, short string }{{orgA, "A"}, {orgB, "B"}} {
		admin := member{msp: org.msp, cert: w.e.ledger.AdminCert(org.msp)}
		w.members["admin"+org.short] = admin
		for _, role := range []records.Role{records.RolePublisher, records.RoleGateway, records.RoleAuditor, records.RoleNode} {
			cert, p, key, err := fakes.NewCertKey(org.msp, fmt.Sprintf("%s@%s", role, org.msp), "client")
			if err != nil {
				t.Fatal(err)
			}
			m := member{msp: org.msp, cert: cert, pem: p}
			w.keys[string(role)+org.short] = key
			in := records.GrantInput{Certificate: m.pem, Roles: []records.Role{role}}
			if role == records.RoleNode {
				in.NodeID = "n1-" + records.OrgSlug(org.msp)
			}
			if _, err := as(w.e, admin, func(ctx *fakes.Context) (*records.Identity, error) { return w.ids.Grant(ctx, toJSON(t, in)) }); err != nil {
				t.Fatal(err)
			}
			w.members[string(role)+org.short] = m
		}
	}
	w.e.registerNodes(orgA, "n1-orga", "n2-orga", "n3-orga")
	w.e.registerNodes(orgB, "n1-orgb", "n4-orgb")
	w.asRole("publisherA", func(ctx *fakes.Context) (any, error) { return w.e.man.Record(ctx, manifestJSON(t, "obj", "v1")) })
	tok := NewTokenContract()
	for _, org := range []string{orgA, orgB} {
		must(w.e, org, func(ctx *fakes.Context) (*records.Account, error) { return tok.Issue(ctx, 100) })
		must(w.e, org, func(ctx *fakes.Context) (*records.Account, error) { return tok.Deposit(ctx, 50) })
	}
	return w
}

func (w *aclWorld) asRole(who string, fn func(*fakes.Context) (any, error)) error {
	w.e.t.Helper()
	m, ok := w.members[who]
	if !ok {
		w.e.t.Fatalf("no member %s", who)
	}
	_, err := as(w.e, m, fn)
	return err
}

// TestAccessControlMatrix calls every write function as every role of both
// organisations, each on a fresh ledger, and checks it is allowed or
// refused (PERMISSION_DENIED, nothing written) as the Writers table and the
// record rules say. Targets are org A's records.
func TestAccessControlMatrix(t *testing.T) {
	t.Parallel()
	callers := []string{"adminA", "publisherA", "gatewayA", "auditorA", "nodeA", "adminB", "publisherB", "gatewayB", "auditorB", "nodeB"}
	// Reads of org A's money figures: its members and every auditor.
	const orgAOrAuditor = "adminA publisherA gatewayA auditorA nodeA auditorB"
	const everyone = "adminA publisherA gatewayA auditorA nodeA adminB publisherB gatewayB auditorB nodeB"
	calls := []struct {
		fn      string
		run     func(w *aclWorld, ctx *fakes.Context) (any, error)
		allowed string // callers allowed, space-separated
		prepare func(w *aclWorld)
	}{
		{"node:Register", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.node.Register(ctx, nodeJSON(w.e.t, "n9-orga"))
		}, "adminA", nil},
		{"node:Update", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.node.Update(ctx, nodeJSON(w.e.t, "n1-orga", func(in *records.NodeInput) { in.Zone = "moved" }))
		}, "adminA nodeA", nil},
		{"node:Deactivate", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.node.Deactivate(ctx, "n1-orga", "maintenance")
		}, "adminA nodeA", nil},
		{"manifest:Record", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.man.Record(ctx, manifestJSON(w.e.t, "new", "v1"))
		}, "adminA publisherA adminB publisherB", nil}, // each for its own org's publisher; B owns "new" then
		{"manifest:Record for org A's publisher", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.man.Record(ctx, manifestJSON(w.e.t, "new", "v1", func(m *records.Manifest) {
				m.PublishedBy = records.CertHash(w.members["publisherA"].cert)
			}))
		}, "adminA publisherA gatewayA", nil},
		{"manifest:Record of org A's name", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.man.Record(ctx, manifestJSON(w.e.t, "obj", "v2"))
		}, "adminA publisherA", nil},
		{"manifest:Purge", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.man.Purge(ctx, "obj", "v1", "withdrawn")
		}, "adminA publisherA gatewayA", nil},
		{"manifest:PurgeBy (soft, by name)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.man.PurgeBy(ctx, toJSON(w.e.t, records.PurgeRequest{Name: "obj", Mode: records.PurgeSoft, Reason: "stale"}))
		}, "adminA publisherA gatewayA", nil},
		{"manifest:UpdateHolders", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.man.UpdateHolders(ctx, "obj", "v1", "1", idsJSON("n2-orga"), idsJSON("n4-orgb"))
		}, "adminA gatewayA", nil},
		{"identity:Grant", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			m := newMember(w.e.t, orgA, "new@A", "client")
			return w.ids.Grant(ctx, toJSON(w.e.t, records.GrantInput{Certificate: m.pem, Roles: []records.Role{records.RoleAuditor}}))
		}, "adminA adminB", nil}, // B's grant lands in B's namespace
		{"identity:Revoke", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.ids.Revoke(ctx, records.CertHash(w.members["auditorA"].cert))
		}, "adminA", nil},
		{"token:Issue (into its own org)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewTokenContract().Issue(ctx, 10)
		}, "adminA adminB", nil},
		{"token:Transfer (to the other org)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			to := orgB
			if msp, _ := ctx.Identity.GetMSPID(); msp == orgB {
				to = orgA
			}
			return NewTokenContract().Transfer(ctx, to, 10)
		}, "adminA publisherA adminB publisherB", nil},
		{"token:Deposit", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewTokenContract().Deposit(ctx, 10)
		}, "adminA publisherA adminB publisherB", nil},
		{"token:Withdraw", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewTokenContract().Withdraw(ctx, 10)
		}, "adminA publisherA adminB publisherB", nil},
		{"token:SetPrice", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewTokenContract().SetPrice(ctx, 5)
		}, "adminA adminB", nil},
		{"delivery:SetEpochLength", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewDeliveryContract().SetEpochLength(ctx, 5)
		}, "adminA adminB", nil},
		{"token:SetBudget (its own org's)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewTokenContract().SetBudget(ctx, 100)
		}, "adminA adminB", nil},
		{"token:SettleQueued", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewTokenContract().SettleQueued(ctx)
		}, everyone, nil},
		{"delivery:Commit", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			ep := records.EpochOf(ctx.Stub.TxTime(), records.DefaultEpochSeconds)
			in := records.BatchInput{Epoch: ep, Root: digest("root"), Size: 1, Totals: []records.NodeTotal{{Node: "n1-orga", Publisher: orgA, Receipts: 1, Bytes: 100}}}
			return NewDeliveryContract().Commit(ctx, toJSON(w.e.t, in))
		}, "gatewayA gatewayB", nil},
		{"delivery:Prove (gatewayA's batch)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewDeliveryContract().Prove(ctx, w.batch, toJSON(w.e.t, w.samples))
		}, "gatewayA", (*aclWorld).commitBatchA},
		{"auction:Bid (for n1-orga)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewAuctionContract().Bid(ctx, toJSON(w.e.t, records.BidInput{Node: "n1-orga", Hash: digest("bid")}))
		}, "adminA nodeA", nil},
		{"auction:Withdraw (n1-orga's bid)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewAuctionContract().Withdraw(ctx, "n1-orga")
		}, "adminA nodeA", (*aclWorld).bidN1},
		{"auction:Open", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewAuctionContract().Open(ctx, toJSON(w.e.t, aclAuction))
		}, "adminA publisherA gatewayA adminB publisherB gatewayB", (*aclWorld).bidN1},
		{"auction:Reveal (n1-orga's bid)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewAuctionContract().Reveal(ctx, toJSON(w.e.t, records.RevealInput{Auction: w.auction, Terms: aclTerms, Salt: aclSalt}))
		}, "adminA gatewayA nodeA", (*aclWorld).openA},
		{"auction:Clear (org A's auction)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewAuctionContract().Clear(ctx, w.auction)
		}, "adminA publisherA gatewayA", (*aclWorld).openRevealA},
		// Reads: private money figures (AuditContract's rule), and the
		// evidence every member reads.
		{"sla:Attest", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			in := records.SLAAttestationInput{Epoch: records.EpochOf(w.e.ledger.Now(), records.DefaultEpochSeconds), Observations: []records.SLAObservation{{Node: "n1-orgb", ProbesSent: 4, ProbesAnswered: 4}}}
			return NewSLAContract().Attest(ctx, toJSON(w.e.t, in))
		}, "gatewayA nodeA gatewayB nodeB", nil},
		{"sla:Score", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewSLAContract().Score(ctx, records.EpochOf(w.e.ledger.Now(), records.DefaultEpochSeconds)-1)
		}, everyone, nil},
		{"token:Account (org A's)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewTokenContract().Account(ctx, orgA)
		}, orgAOrAuditor, nil},
		{"token:Accounts", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewTokenContract().Accounts(ctx)
		}, "auditorA auditorB", nil},
		{"token:Payouts (to org A)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewTokenContract().Payouts(ctx, orgA)
		}, orgAOrAuditor, nil},
		{"token:Supply", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewTokenContract().Supply(ctx)
		}, everyone, nil},
		{"history:Account (org A's)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.hist.Account(ctx, orgA)
		}, orgAOrAuditor, nil},
		{"history:Payout (A pays A)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.hist.Payout(ctx, w.payoutRefA())
		}, orgAOrAuditor, (*aclWorld).acceptBatchA},
		{"history:Node", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return w.e.hist.Node(ctx, "n1-orga")
		}, everyone, nil},
		{"audit:NodePayments (n1-orga)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewAuditContract().NodePayments(ctx, "n1-orga", "", "")
		}, orgAOrAuditor, (*aclWorld).acceptBatchA},
		{"audit:History account (org A's)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewAuditContract().History(ctx, records.HistoryAccount, orgA, "", "", "")
		}, orgAOrAuditor, nil},
		{"audit:History batch", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewAuditContract().History(ctx, records.HistoryBatch, w.batch, "", "", "")
		}, everyone, (*aclWorld).acceptBatchA},
		{"audit:Account for auditorB (asCert)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewAuditContract().Account(ctx, orgA, orgB, records.CertHash(w.members["auditorB"].cert))
		}, "gatewayA gatewayB", nil}, // only a gateway acts for a member
		{"audit:Account for publisherB (asCert)", func(w *aclWorld, ctx *fakes.Context) (any, error) {
			return NewAuditContract().Account(ctx, orgA, orgB, records.CertHash(w.members["publisherB"].cert))
		}, "", nil},
	}
	var table strings.Builder
	fmt.Fprintf(&table, "%-40s", "function \\ caller")
	for _, c := range callers {
		fmt.Fprintf(&table, " %-10s", c)
	}
	table.WriteString("\n")
	for _, c := range calls {
		fmt.Fprintf(&table, "%-40s", c.fn)
		for _, who := range callers {
			w := newACLWorld(t)
			if c.prepare != nil {
				c.prepare(w)
			}
			err := w.asRole(who, func(ctx *fakes.Context) (any, error) { return c.run(w, ctx) })
			want := strings.Contains(" "+c.allowed+" ", " "+who+" ")
			got := err == nil
			mark := "refused"
			if got {
				mark = "allowed"
			}
			fmt.Fprintf(&table, " %-10s", mark)
			switch {
			case want && !got:
				t.Errorf("%s as %s: refused (%v), want allowed", c.fn, who, err)
			case !want && got:
				t.Errorf("%s as %s: allowed, want refused", c.fn, who)
			case !want && records.CodeOf(err) != records.CodeForbidden && records.CodeOf(err) != records.CodeNotFound:
				t.Errorf("%s as %s: %v, want PERMISSION_DENIED", c.fn, who, err)
			}
		}
		table.WriteString("\n")
	}
	t.Logf("access control matrix (fakes):\n%s", table.String())
}

// TestOwnerEndorsement checks that the records an organisation owns carry a
// key-level endorsement policy naming it.
func TestOwnerEndorsement(t *testing.T) {
	w := newACLWorld(t)
	for _, key := range []struct{ typ, a, b string }{
		{records.NodeKeyType, "n1-orga", ""}, {records.ManifestKeyType, "obj", "v1"}, {records.ObjectKeyType, "obj", ""},
	} {
		attrs := []string{key.a}
		if key.b != "" {
			attrs = append(attrs, key.b)
		}
		k, _ := records.CompositeKey(key.typ, attrs...)
		ep := w.e.ledger.ValidationParameter(k)
		if len(ep) == 0 || !strings.Contains(string(ep), orgA) || strings.Contains(string(ep), orgB) {
			t.Errorf("%s %v: endorsement policy %q, want org A's peers", key.typ, attrs, ep)
		}
	}
}

// TestRecordPlacementRule: Record refuses a manifest where a node holds k
// or more shards.
func TestRecordPlacementRule(t *testing.T) {
	e := newEnv(t)
	e.registerNodes(orgA, "n1-orga", "n2-orga")
	_, err := call(e, orgA, func(ctx *fakes.Context) (*records.Manifest, error) {
		return e.man.Record(ctx, toJSON(t, manifest("obj", "v1", "n1-orga", "n1-orga", "n2-orga")))
	})
	wantCode(t, err, records.CodeInvalid, "a node may hold at most 1 (k = 2)")
}
