package receipts

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/dct-network/dct/chaincode/records"
)

// Batch is one epoch's receipts as the log holds them: the tree over
// their leaves, the totals, where each record is in the segment (to read
// sampled receipts back) and the groups they were sealed in.
type Batch struct {
	Epoch   int64
	Tree    *Tree
	Root    string
	Totals  []records.NodeTotal
	offsets []int64
	groups  []batchGroup
	wal     *WAL
}

// batchGroup is a group commit of the batch: its leaves [start,
// start+size) and where its seal is in the segment.
type batchGroup struct {
	start, size int64
	sealOff     int64
}

// Size is the number of receipts.
func (b *Batch) Size() int64 { return int64(b.Tree.Size()) }

// Groups is the number of group commits (seals) the receipts are in.
func (b *Batch) Groups() int { return len(b.groups) }

// Input is what delivery:Commit takes: the batch without samples.
func (b *Batch) Input() *records.BatchInput {
	return &records.BatchInput{Epoch: b.Epoch, Root: b.Root, Size: b.Size(), Totals: b.Totals}
}

// BuildBatch builds epoch's batch from the durable (sealed) records of its
// segment, in log order (nil, nil: the epoch has no receipts). Close the
// epoch first (WAL.CloseEpochs) so that no record is still on its way.
func BuildBatch(w *WAL, epoch int64) (*Batch, error) {
	type key struct{ node, publisher string }
	var (
		leaves  []byte
		offsets []int64
		groups  []batchGroup
		totals  = map[key]*records.NodeTotal{}
		pending = map[key]*records.NodeTotal{} // of the group not sealed yet
		h       = sha256.New()
		prefix  = []byte{0}
	)
	path := segmentPath(w.dir, epoch)
	_, _, err := scanGroups(path, epoch, w.Durable(epoch), func(off int64, p []byte) error {
		e, err := decodeEntry(p)
		if err != nil {
			return fmt.Errorf("epoch %d at %d: %w", epoch, off, err)
		}
		h.Reset()
		h.Write(prefix)
		h.Write(e.leaf)
		leaves = h.Sum(leaves)
		offsets = append(offsets, off)
		k := key{e.node, e.publisher}
		t := pending[k]
		if t == nil {
			t = &records.NodeTotal{Node: e.node, Publisher: e.publisher}
			pending[k] = t
		}
		t.Receipts++
		t.Bytes += e.bytes
		return nil
	}, func(off int64, _ *records.Seal, n int) error {
		groups = append(groups, batchGroup{start: int64(len(offsets) - n), size: int64(n), sealOff: off})
		for k, p := range pending {
			t := totals[k]
			if t == nil {
				totals[k] = p
			} else {
				t.Receipts += p.Receipts
				t.Bytes += p.Bytes
			}
			delete(pending, k)
		}
		return nil
	})
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	// Only sealed receipts count (the durable part of a segment ends with
	// a seal; this keeps it so for any log).
	sealed := 0
	if len(groups) > 0 {
		g := groups[len(groups)-1]
		sealed = int(g.start + g.size)
	}
	if sealed == 0 {
		return nil, nil
	}
	leaves, offsets = leaves[:sealed*sha256.Size], offsets[:sealed]
	b := &Batch{Epoch: epoch, Tree: NewTree(leaves), offsets: offsets, groups: groups, wal: w}
	root, err := b.Tree.Root()
	if err != nil {
		return nil, err
	}
	b.Root = hex.EncodeToString(root)
	for _, t := range totals {
		b.Totals = append(b.Totals, *t)
	}
	slices.SortFunc(b.Totals, func(x, y records.NodeTotal) int {
		if c := strings.Compare(x.Node, y.Node); c != 0 {
			return c
		}
		return strings.Compare(x.Publisher, y.Publisher)
	})
	return b, nil
}

// Receipt reads receipt index back from the log.
func (b *Batch) Receipt(index int64) (*records.Receipt, error) {
	if index < 0 || index >= b.Size() {
		return nil, fmt.Errorf("receipts: leaf %d outside a batch of %d", index, b.Size())
	}
	p, err := b.wal.Read(b.Epoch, b.offsets[index])
	if err != nil {
		return nil, err
	}
	if p[0] != kindReceipt {
		return nil, fmt.Errorf("receipts: leaf %d: the record is not a receipt", index)
	}
	e, err := decodeEntry(p[1:])
	if err != nil {
		return nil, err
	}
	var r records.Receipt
	if err := json.Unmarshal(e.leaf, &r); err != nil {
		return nil, fmt.Errorf("receipts: leaf %d: %w", index, err)
	}
	return &r, nil
}

// Sealed reads receipt index back from the log with the seal of its group
// and its inclusion proof in the group, and checks them (not the seal's
// signature: records.SealedReceipt.CheckGroup).
func (b *Batch) Sealed(index int64) (*records.SealedReceipt, error) {
	r, err := b.Receipt(index)
	if err != nil {
		return nil, err
	}
	gi := sort.Search(len(b.groups), func(i int) bool { return b.groups[i].start+b.groups[i].size > index })
	g := b.groups[gi]
	p, err := b.wal.Read(b.Epoch, g.sealOff)
	if err != nil {
		return nil, err
	}
	sr := &records.SealedReceipt{Receipt: *r, GroupIndex: index - g.start}
	if p[0] != kindSeal || json.Unmarshal(p[1:], &sr.Seal) != nil {
		return nil, fmt.Errorf("receipts: the seal of leaf %d is not at %d", index, g.sealOff)
	}
	leaves := b.Tree.levels[0][g.start*sha256.Size : (g.start+g.size)*sha256.Size]
	if sr.GroupProof, err = NewTree(leaves).Proof(uint64(sr.GroupIndex)); err != nil {
		return nil, err
	}
	if err := sr.CheckGroup(); err != nil {
		return nil, fmt.Errorf("receipts: leaf %d of epoch %d: %w", index, b.Epoch, err)
	}
	return sr, nil
}

// Proof is leaf index's inclusion proof in the batch.
func (b *Batch) Proof(index int64) ([][]byte, error) {
	if index < 0 || index >= b.Size() {
		return nil, fmt.Errorf("receipts: leaf %d outside a batch of %d", index, b.Size())
	}
	return b.Tree.Proof(uint64(index))
}

// Samples are the leaves records.SampleIndices(seed, size) picks, with
// their receipts, seals, group proofs and inclusion proofs.
func (b *Batch) Samples(seed string) ([]records.SampledLeaf, error) {
	idx := records.SampleIndices(seed, b.Size())
	out := make([]records.SampledLeaf, 0, len(idx))
	for _, i := range idx {
		sr, err := b.Sealed(i)
		if err != nil {
			return nil, err
		}
		p, err := b.Proof(i)
		if err != nil {
			return nil, err
		}
		out = append(out, records.SampledLeaf{Index: i, SealedReceipt: *sr, Proof: p})
	}
	return out, nil
}
