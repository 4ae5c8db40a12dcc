package receipts

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/dct-network/dct/chaincode/records"
)

// Logged is one receipt of a log with the publisher organisation it was
// logged for, the seal of its group commit and its inclusion proof in the
// group (records.SealedReceipt: check it with VerifySealed).
type Logged struct {
	Publisher string
	records.SealedReceipt
}

// ReadDir reads every sealed receipt of the log in dir, epoch by epoch in
// log order, without changing anything: a log a running gateway writes
// can be read (its last group may still be on its way, without its seal:
// it is left out). A group whose seal does not match its receipts is an
// error.
func ReadDir(dir string, fn func(Logged) error) error {
	w := &WAL{dir: dir}
	epochs, err := w.Epochs()
	if err != nil {
		return err
	}
	for _, e := range epochs {
		var (
			group  []Logged
			hashes []byte
		)
		_, _, err := scanGroups(segmentPath(dir, e), e, -1, func(off int64, p []byte) error {
			en, err := decodeEntry(p)
			if err != nil {
				return fmt.Errorf("epoch %d at %d: %w", e, off, err)
			}
			l := Logged{Publisher: en.publisher}
			if err := json.Unmarshal(en.leaf, &l.Receipt); err != nil {
				return fmt.Errorf("epoch %d at %d: %w", e, off, err)
			}
			group = append(group, l)
			hashes = append(hashes, leafHash(en.leaf)...)
			return nil
		}, func(off int64, s *records.Seal, n int) error {
			first := len(group) - n
			t := NewTree(hashes[first*sha256.Size:])
			root, err := t.Root()
			if err != nil {
				return err
			}
			if want, _ := hex.DecodeString(s.Root); !bytes.Equal(root, want) {
				return fmt.Errorf("receipts: epoch %d: the %s at %d does not match its %d receipts", e, s, off, n)
			}
			for i := range group[first:] {
				l := group[first+i]
				l.Seal, l.GroupIndex = *s, int64(i)
				if l.GroupProof, err = t.Proof(uint64(i)); err != nil {
					return err
				}
				if err := fn(l); err != nil {
					return err
				}
			}
			group, hashes = group[:0], hashes[:0]
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
