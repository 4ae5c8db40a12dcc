package receipts

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/dct-network/dct/chaincode/records"
)

// Batch is one epoch's receipts as the log holds them: the tree over
// their leaves, the totals, and where each record is in the segment (to
// read sampled receipts back).
type Batch struct {
	Epoch   int64
	Tree    *Tree
	Root    string
	Totals  []records.NodeTotal
	offsets []int64
	wal     *WAL
}

// Size is the number of receipts.
func (b *Batch) Size() int64 { return int64(b.Tree.Size()) }

// Input is what delivery:Commit takes: the batch without samples.
func (b *Batch) Input() *records.BatchInput {
	return &records.BatchInput{Epoch: b.Epoch, Root: b.Root, Size: b.Size(), Totals: b.Totals}
}

// BuildBatch builds epoch's batch from the durable records of its segment,
// in log order (nil, nil: the epoch has no receipts). Seal the epoch first
// so that no record is still on its way.
func BuildBatch(w *WAL, epoch int64) (*Batch, error) {
	type key struct{ node, publisher string }
	var (
		leaves  []byte
		offsets []int64
		totals  = map[key]*records.NodeTotal{}
		h       = sha256.New()
		prefix  = []byte{0}
	)
	err := w.Records(epoch, func(off int64, p []byte) error {
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
		t := totals[k]
		if t == nil {
			t = &records.NodeTotal{Node: e.node, Publisher: e.publisher}
			totals[k] = t
		}
		t.Receipts++
		t.Bytes += e.bytes
		return nil
	})
	if err != nil || len(offsets) == 0 {
		return nil, err
	}
	b := &Batch{Epoch: epoch, Tree: NewTree(leaves), offsets: offsets, wal: w}
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
	e, err := decodeEntry(p)
	if err != nil {
		return nil, err
	}
	var r records.Receipt
	if err := json.Unmarshal(e.leaf, &r); err != nil {
		return nil, fmt.Errorf("receipts: leaf %d: %w", index, err)
	}
	return &r, nil
}

// Samples are the leaves records.SampleIndices(seed, size) picks, with
// their receipts and inclusion proofs.
func (b *Batch) Samples(seed string) ([]records.SampledLeaf, error) {
	idx := records.SampleIndices(seed, b.Size())
	out := make([]records.SampledLeaf, 0, len(idx))
	for _, i := range idx {
		r, err := b.Receipt(i)
		if err != nil {
			return nil, err
		}
		p, err := b.Tree.Proof(uint64(i))
		if err != nil {
			return nil, err
		}
		out = append(out, records.SampledLeaf{Index: i, Receipt: *r, Proof: p})
	}
	return out, nil
}
