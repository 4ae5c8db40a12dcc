package receipts

import (
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/dct-network/dct/chaincode/records"
)

// Logged is one receipt of a log with the publisher organisation it was
// logged for.
type Logged struct {
	Publisher string
	Receipt   records.Receipt
}

// ReadDir reads every intact receipt of the log in dir, epoch by epoch in
// log order, without changing anything: a log a running gateway writes
// can be read (its last record may still be on its way).
func ReadDir(dir string, fn func(Logged) error) error {
	w := &WAL{dir: dir}
	epochs, err := w.Epochs()
	if err != nil {
		return err
	}
	for _, e := range epochs {
		_, err := scanSegment(filepath.Join(dir, segmentName(e)), func(off int64, p []byte) error {
			en, err := decodeEntry(p)
			if err != nil {
				return fmt.Errorf("epoch %d at %d: %w", e, off, err)
			}
			var l Logged
			l.Publisher = en.publisher
			if err := json.Unmarshal(en.leaf, &l.Receipt); err != nil {
				return fmt.Errorf("epoch %d at %d: %w", e, off, err)
			}
			return fn(l)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
