package gateway

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/gateway/content"
	"github.com/dct-network/dct/pkg/api"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/mesh"
	"github.com/dct-network/dct/pkg/metrics"
	"github.com/dct-network/dct/pkg/sla"
)

// maxDashboardEvents bounds the recent ledger events the dashboard keeps.
const maxDashboardEvents = 50

// maxDashboardRepairs bounds the recent repairs the dashboard shows.
const maxDashboardRepairs = 20

// dashboard assembles api.DashboardView and keeps what it needs between
// polls: the recent ledger events and this gateway's batch outcomes.
type dashboard struct {
	self   api.DashboardGateway
	svc    *content.Service
	m      *mesh.Mesh
	topo   content.Topology
	rep    *content.Repairer
	scores *sla.Table
	gm     *metrics.Gateway
	log    *slog.Logger

	mu        sync.Mutex
	events    []api.DashboardEvent // newest last
	block     uint64
	live      map[string]bool
	delivered map[string]*records.NodeTotal // node -> accepted totals
	payouts   map[string][2]int64           // payee org -> count, amount
}

func newDashboard(self api.DashboardGateway, svc *content.Service, m *mesh.Mesh, topo content.Topology, rep *content.Repairer,
	scores *sla.Table, gm *metrics.Gateway, log *slog.Logger) *dashboard {
	return &dashboard{self: self, svc: svc, m: m, topo: topo, rep: rep, scores: scores, gm: gm, log: log,
		live: map[string]bool{}, delivered: map[string]*records.NodeTotal{}, payouts: map[string][2]int64{}}
}

// record adds an event, keeping the last maxDashboardEvents.
func (d *dashboard) record(ev api.DashboardEvent) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.events = append(d.events, ev)
	if len(d.events) > maxDashboardEvents {
		d.events = slices.Delete(d.events, 0, len(d.events)-maxDashboardEvents)
	}
	d.block = max(d.block, ev.Block)
}

// batchCommitted and batchProved record this gateway's receipt batches.
func (d *dashboard) batchCommitted(b *records.Batch) {
	if d == nil {
		return
	}
	d.record(api.DashboardEvent{At: time.Now().UTC(), Kind: "batch", TxID: b.ID,
		Detail: "batch " + b.ID + " committed: epoch " + itoa(b.Epoch) + ", " + itoa(b.Size) + " receipts"})
}

func (d *dashboard) batchProved(b *records.Batch) {
	if d == nil {
		return
	}
	d.mu.Lock()
	for _, t := range b.Accepted {
		n := d.delivered[t.Node]
		if n == nil {
			n = &records.NodeTotal{Node: t.Node}
			d.delivered[t.Node] = n
		}
		n.Bytes += t.Bytes
		n.Receipts += t.Receipts
	}
	var amount int64
	for _, p := range b.Payouts {
		v := d.payouts[p.Payee]
		v[0]++
		v[1] += p.Amount
		d.payouts[p.Payee] = v
		amount += p.Amount
	}
	d.mu.Unlock()
	d.record(api.DashboardEvent{At: time.Now().UTC(), Kind: "batch", TxID: b.ProveTxID,
		Detail: "batch " + b.ID + " proved: " + itoa(int64(len(b.Payouts))) + " payouts, " + itoa(amount) + " tokens"})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// follow subscribes to the chaincode's events (manifest, sla, auction)
// until ctx ends, resubscribing after a broken stream, and records each
// in the recent events and the ledger_events metric.
func (d *dashboard) follow(ctx context.Context, lc *ledger.Client) {
	var wg sync.WaitGroup
	wg.Add(3)
	go func() {
		defer wg.Done()
		followEvents(ctx, d, "manifest", func(ctx context.Context, after ledger.Checkpoint) (<-chan ledger.ManifestEvent, error) {
			return lc.ManifestEvents(ctx, ledger.ResumeAfter(after))
		}, func(ev ledger.ManifestEvent) (api.DashboardEvent, ledger.Checkpoint) {
			return api.DashboardEvent{Block: ev.Block, Kind: "manifest", TxID: ev.TxID, Detail: ev.ManifestEvent.String()}, ev.After()
		})
	}()
	go func() {
		defer wg.Done()
		followEvents(ctx, d, "sla", func(ctx context.Context, after ledger.Checkpoint) (<-chan ledger.SLAEvent, error) {
			return lc.SLAEvents(ctx, ledger.ResumeAfter(after))
		}, func(ev ledger.SLAEvent) (api.DashboardEvent, ledger.Checkpoint) {
			return api.DashboardEvent{Block: ev.Block, Kind: "sla", TxID: ev.TxID, Detail: ev.SLAEpoch.String()}, ev.After()
		})
	}()
	go func() {
		defer wg.Done()
		followEvents(ctx, d, "auction", func(ctx context.Context, _ ledger.Checkpoint) (<-chan ledger.AuctionEvent, error) {
			return lc.AuctionEvents(ctx)
		}, func(ev ledger.AuctionEvent) (api.DashboardEvent, ledger.Checkpoint) {
			detail := "auction " + ev.Auction + " " + string(ev.Status)
			if ev.Object != "" {
				detail += " for " + ev.Object
			}
			return api.DashboardEvent{Block: ev.Block, Kind: "auction", TxID: ev.TxID, Detail: detail}, ledger.Checkpoint{Block: ev.Block, TxID: ev.TxID}
		})
	}()
	wg.Wait()
}

// followEvents runs one subscription, resubscribing after its last event
// with a backoff of 1 s to 30 s while the peer cannot be reached.
func followEvents[T any](ctx context.Context, d *dashboard, name string, subscribe func(context.Context, ledger.Checkpoint) (<-chan T, error),
	conv func(T) (api.DashboardEvent, ledger.Checkpoint)) {
	var after ledger.Checkpoint
	backoff := time.Second
	for ctx.Err() == nil {
		ch, err := subscribe(ctx, after)
		if err == nil {
			d.setLive(name, true)
			for ev := range ch {
				de, cp := conv(ev)
				de.At = time.Now().UTC()
				d.record(de)
				d.gm.LedgerEvent(name)
				after = cp
				backoff = time.Second
			}
			d.setLive(name, false)
		} else {
			d.log.Debug("dashboard: cannot follow ledger events", "events", name, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

func (d *dashboard) setLive(name string, live bool) {
	d.mu.Lock()
	d.live[name] = live
	d.mu.Unlock()
}

// view assembles the dashboard's JSON: the ledger's node list (cached by
// the content service, refreshed at most every NodesTTL), the mesh's view
// and this gateway's counters.
// build assembles the view.
func (d *dashboard) build(ctx context.Context) api.DashboardView {
	out := api.DashboardView{Gateway: d.self, At: time.Now().UTC(), Nodes: []api.DashboardNode{}, Gateways: []api.DashboardMember{},
		Orgs: []api.DashboardOrg{}, Events: []api.DashboardEvent{}, Repairs: api.DashboardRepairs{Recent: []api.DashboardRepair{}}}
	t := d.gm.Totals()
	out.Requests = api.DashboardRequests{Requests: t.Requests, Errors: t.Errors, LatencyNanos: t.LatencyNanos, SentBytes: t.SentBytes}
	fs := d.svc.FetchStats()
	out.Fetch = api.DashboardFetch{Reads: fs.Reads, Launched: fs.Launched, Hedges: fs.Hedges, HedgeDelayM: ms(fs.HedgeAt)}
	nodes, err := d.svc.Nodes(ctx)
	if err != nil {
		d.log.Debug("dashboard: node list", "err", err)
	}
	d.mu.Lock()
	orgs := map[string]*api.DashboardOrg{}
	org := func(id string) *api.DashboardOrg {
		o := orgs[id]
		if o == nil {
			o = &api.DashboardOrg{MSPID: id}
			orgs[id] = o
		}
		return o
	}
	for _, n := range nodes {
		dn := api.DashboardNode{ID: n.ID, Org: n.Org, Zone: n.Zone, Latitude: n.Latitude, Longitude: n.Longitude,
			Active: n.Active(), Health: content.HealthUnknown.String()}
		if d.topo != nil {
			h, rtt, ok := d.topo.Node(n.ID)
			dn.Health = h.String()
			if ok {
				v := ms(rtt)
				dn.RTTMs = &v
			}
		}
		if d.scores != nil {
			if sc, ok := d.scores.Score(n.ID); ok {
				dn.SLAScore, dn.SLAState = &sc.Score, string(sc.State)
			}
		}
		if st, ok := fs.Nodes[n.ID]; ok {
			dn.Fetches, dn.Failures, dn.Hedges, dn.LatencyMs = st.Fetches, st.Failures, st.Hedges, ms(st.LatencyEWMA)
		}
		if t := d.delivered[n.ID]; t != nil {
			dn.DeliveredBytes, dn.Receipts = t.Bytes, t.Receipts
		}
		o := org(n.Org)
		o.Nodes++
		if dn.Health == content.HealthAlive.String() {
			o.Alive++
		}
		o.DeliveredBytes += dn.DeliveredBytes
		out.Nodes = append(out.Nodes, dn)
	}
	for payee, v := range d.payouts {
		o := org(payee)
		o.Payouts, o.PayoutAmount = v[0], v[1]
	}
	out.Events = append(out.Events, d.events...)
	slices.Reverse(out.Events) // newest first
	out.Block = d.block
	out.Live = maps.Clone(d.live)
	d.mu.Unlock()
	for _, o := range orgs {
		out.Orgs = append(out.Orgs, *o)
	}
	slices.SortFunc(out.Orgs, func(a, b api.DashboardOrg) int { return strings.Compare(a.MSPID, b.MSPID) })
	slices.SortFunc(out.Nodes, func(a, b api.DashboardNode) int { return strings.Compare(a.ID, b.ID) })
	if d.m != nil {
		for _, mb := range d.m.Members() {
			if mb.Role != mesh.RoleGateway {
				continue
			}
			gm := api.DashboardMember{Name: mb.Name, Health: string(mb.Status), URL: mb.Tags[mesh.TagPublicURL]}
			if mb.HasRTT {
				v := ms(mb.RTT)
				gm.RTTMs = &v
			}
			out.Gateways = append(out.Gateways, gm)
		}
	}
	if d.rep != nil {
		all := d.rep.Repaired()
		out.Repairs.Count = len(all)
		for i := len(all) - 1; i >= max(0, len(all)-maxDashboardRepairs); i-- {
			r := all[i]
			out.Repairs.Recent = append(out.Repairs.Recent, api.DashboardRepair{Name: r.Name, Version: r.Version, Shard: r.Shard,
				Lost: r.Lost, NewHolder: r.NewHolder, TxID: r.TxID})
		}
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
