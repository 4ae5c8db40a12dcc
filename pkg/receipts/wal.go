package receipts

import (
	"bufio"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dct-network/dct/chaincode/records"
)

// Record framing: a 4-byte big-endian payload length, the payload's CRC-32C
// (4 bytes, big-endian), the payload. The payload's first byte is its
// kind: a receipt (the log entry, see encodeEntry) or the seal of the
// group of receipts before it (records.Seal as JSON).
const (
	frameHeader = 8
	maxPayload  = 1 << 20

	kindReceipt byte = 'R'
	kindSeal    byte = 'S'
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrClosed is returned by a closed log.
var ErrClosed = errors.New("receipts: log is closed")

// appendFrame appends the frame of a payload of kind to dst.
func appendFrame(dst []byte, kind byte, payload []byte) []byte {
	var h [frameHeader]byte
	binary.BigEndian.PutUint32(h[:4], uint32(1+len(payload)))
	crc := crc32.Update(crc32.Update(0, crcTable, []byte{kind}), crcTable, payload)
	binary.BigEndian.PutUint32(h[4:], crc)
	dst = append(append(dst, h[:]...), kind)
	return append(dst, payload...)
}

// scanSegment calls fn with the offset and payload of each intact record of
// the segment file, in order, and returns the offset where the intact
// records end: a torn or corrupt tail starts there.
func scanSegment(path string, fn func(off int64, payload []byte) error) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<20)
	var (
		off int64
		h   [frameHeader]byte
		buf []byte
	)
	for {
		if _, err := io.ReadFull(r, h[:]); err != nil {
			return off, nil // end, or a torn header
		}
		n := binary.BigEndian.Uint32(h[:4])
		if n == 0 || n > maxPayload {
			return off, nil
		}
		if cap(buf) < int(n) {
			buf = make([]byte, n)
		}
		buf = buf[:n]
		if _, err := io.ReadFull(r, buf); err != nil {
			return off, nil // torn payload
		}
		if crc32.Checksum(buf, crcTable) != binary.BigEndian.Uint32(h[4:]) {
			return off, nil
		}
		if fn != nil {
			if err := fn(off, buf); err != nil {
				return off, err
			}
		}
		off += frameHeader + int64(n)
	}
}

// readRecord reads the payload of the record at off.
func readRecord(f *os.File, off int64) ([]byte, error) {
	var h [frameHeader]byte
	if _, err := f.ReadAt(h[:], off); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(h[:4])
	if n == 0 || n > maxPayload {
		return nil, fmt.Errorf("receipts: bad record length %d at %d", n, off)
	}
	b := make([]byte, n)
	if _, err := f.ReadAt(b, off+frameHeader); err != nil {
		return nil, err
	}
	if crc32.Checksum(b, crcTable) != binary.BigEndian.Uint32(h[4:]) {
		return nil, fmt.Errorf("receipts: record at %d fails its CRC", off)
	}
	return b, nil
}

func segmentName(epoch int64) string { return fmt.Sprintf("epoch-%020d.wal", epoch) }

func segmentPath(dir string, epoch int64) string { return filepath.Join(dir, segmentName(epoch)) }

// scanGroups reads the segment of epoch at path up to limit bytes (all of
// it when limit < 0), group by group: onReceipt (when set) gets each
// receipt record's offset and entry (valid during the call only), onSeal
// (when set) each group's seal once its receipts have been passed, with
// the number of them. It returns where the last sealed group ends and the
// number of sealed groups: what follows (a group without its seal, a torn
// or corrupt record, a seal that does not match its group) is a torn
// tail. The caller must drop the receipts passed after the last seal.
func scanGroups(path string, epoch, limit int64, onReceipt func(off int64, entry []byte) error,
	onSeal func(off int64, s *records.Seal, n int) error) (end, groups int64, err error) {
	n := 0
	errStop := errors.New("stop")
	_, err = scanSegment(path, func(off int64, p []byte) error {
		if limit >= 0 && off >= limit {
			return errStop
		}
		switch p[0] {
		case kindReceipt:
			n++
			if n > records.MaxGroupReceipts {
				return errStop
			}
			if onReceipt != nil {
				return onReceipt(off, p[1:])
			}
			return nil
		case kindSeal:
			var s records.Seal
			if json.Unmarshal(p[1:], &s) != nil || s.Validate() != nil || s.Size != int64(n) || s.Group != groups || s.Epoch != epoch {
				return errStop
			}
			if onSeal != nil {
				if err := onSeal(off, &s, n); err != nil {
					return err
				}
			}
			n = 0
			groups++
			end = off + frameHeader + int64(len(p))
			return nil
		}
		return errStop
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return end, groups, err
}

// WALOptions tunes the group commit.
type WALOptions struct {
	// Sealer signs the seal of every group commit (required): the
	// gateway's identity, the one its receipts name.
	Sealer Identity
	// FlushInterval is the longest a record waits for its group commit
	// (default 50ms); FlushRecords records waiting trigger one at once
	// (default 4096). Every group commit signs a seal and fsyncs: a few
	// tenths of a millisecond of CPU, mostly whatever its size
	// (BenchmarkGroupCommit).
	FlushInterval time.Duration
	FlushRecords  int
	// MaxPending bounds the records waiting for a flush (default 64
	// FlushRecords): beyond it Append waits for the disk (backpressure
	// when fsync cannot keep up).
	MaxPending int
	// Ticker drives the periodic flush; tests pass a channel they
	// control. By default there is no ticker: the first record appended
	// after a flush arms a FlushInterval timer, so an idle log wakes up
	// for nothing.
	Ticker func(time.Duration) (<-chan time.Time, func())
}

// pendingEpoch is what was appended to an epoch and not yet written: the
// receipt frames, their leaf hashes (32 bytes each), and where in frames
// each full group of records.MaxGroupReceipts ends.
type pendingEpoch struct {
	frames []byte
	hashes []byte
	n      int
	cuts   []int
}

// WAL is the write-ahead log of receipts: one segment file per epoch,
// records framed with their length and CRC. Append does not wait for the
// disk: a flusher writes what was appended at most every FlushInterval or
// FlushRecords records (group commit), in groups of at most
// records.MaxGroupReceipts receipts each followed by its seal (the
// Sealer's signature over the group's Merkle root), and fsyncs. A receipt
// counts once its group's seal is durable: only sealed, fsynced records
// are read back (Durable, Records), and on open a group without its seal
// is cut off as a torn tail.
type WAL struct {
	dir                 string
	opts                WALOptions
	gatewayMSP, gateway string // the Sealer's

	mu      sync.Mutex
	pending map[int64]*pendingEpoch // appended and not yet written, per epoch
	count   int                     // records pending
	closedE int64                   // epochs <= closedE take no more records
	durable map[int64]int64         // fsynced bytes per epoch segment, up to a seal
	synced  chan struct{}           // closed at the end of the next flush
	err     error                   // a failed write: the log is unusable
	closed  bool

	flushMu sync.Mutex
	files   map[int64]*os.File // open segments (flusher only)
	groups  map[int64]int64    // sealed groups per epoch segment (flusher only)
	kick    chan struct{}
	first   chan struct{} // the first record since a flush (no Ticker)
	done    chan struct{}
	wg      sync.WaitGroup
}

// OpenWAL opens (creating) the log in dir: every segment is scanned and a
// torn tail (a group without its seal, a torn or corrupt record) is cut
// off, so that new records follow the last sealed group.
func OpenWAL(dir string, opts WALOptions) (*WAL, error) {
	if opts.Sealer.Cert == nil || opts.Sealer.Sign == nil || opts.Sealer.MSPID == "" {
		return nil, errors.New("receipts: the log needs a sealer: an identity with an MSP id, a certificate and a signer")
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 50 * time.Millisecond
	}
	if opts.FlushRecords <= 0 {
		opts.FlushRecords = 4096
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = 64 * opts.FlushRecords
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	w := &WAL{
		dir: dir, opts: opts, gatewayMSP: opts.Sealer.MSPID, gateway: records.CertHash(opts.Sealer.Cert),
		pending: map[int64]*pendingEpoch{}, closedE: -1,
		durable: map[int64]int64{}, synced: make(chan struct{}), groups: map[int64]int64{},
		files: map[int64]*os.File{}, kick: make(chan struct{}, 1), done: make(chan struct{}),
	}
	epochs, err := w.Epochs()
	if err != nil {
		return nil, err
	}
	for _, e := range epochs {
		path := filepath.Join(dir, segmentName(e))
		end, groups, err := scanGroups(path, e, -1, nil, nil)
		if err != nil {
			return nil, err
		}
		if st, err := os.Stat(path); err == nil && st.Size() > end {
			if err := os.Truncate(path, end); err != nil {
				return nil, fmt.Errorf("receipts: cut the torn tail of %s: %w", path, err)
			}
		}
		w.durable[e], w.groups[e] = end, groups
	}
	var (
		tick <-chan time.Time
		stop = func() {}
	)
	if opts.Ticker != nil {
		tick, stop = opts.Ticker(opts.FlushInterval)
	} else {
		w.first = make(chan struct{}, 1)
	}
	w.wg.Add(1)
	go w.run(tick, stop)
	return w, nil
}

// Dir is the log's directory.
func (w *WAL) Dir() string { return w.dir }

func (w *WAL) run(tick <-chan time.Time, stop func()) {
	defer w.wg.Done()
	defer stop()
	for {
		select {
		case <-w.done:
			return
		case <-tick:
		case <-w.kick:
		case <-w.first:
			// The first record since the last flush: its group commit
			// is due within FlushInterval, or sooner when kicked.
			t := time.NewTimer(w.opts.FlushInterval)
			select {
			case <-w.done:
				t.Stop()
				return
			case <-t.C:
			case <-w.kick:
				t.Stop()
			}
		}
		_ = w.Flush()
	}
}

// errEpochClosed: the record's epoch is being batched; re-issue it in a
// later one.
var errEpochClosed = errors.New("receipts: epoch is closed")

// Append queues a receipt record of epoch (its log entry and its Merkle
// leaf hash); it is durable once the group it falls in is sealed and
// written by the next flush.
func (w *WAL) Append(epoch int64, entry, leafHash []byte) error {
	if len(entry) == 0 || len(entry) >= maxPayload {
		return fmt.Errorf("receipts: record of %d bytes", len(entry))
	}
	if len(leafHash) != sha256.Size {
		return fmt.Errorf("receipts: leaf hash of %d bytes", len(leafHash))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for w.count >= w.opts.MaxPending && !w.closed && w.err == nil {
		synced := w.synced
		select {
		case w.kick <- struct{}{}:
		default:
		}
		w.mu.Unlock()
		<-synced
		w.mu.Lock()
	}
	switch {
	case w.closed:
		return ErrClosed
	case w.err != nil:
		return w.err
	case epoch <= w.closedE:
		return errEpochClosed
	}
	pe := w.pending[epoch]
	if pe == nil {
		pe = &pendingEpoch{}
		w.pending[epoch] = pe
	}
	if pe.n > 0 && pe.n%records.MaxGroupReceipts == 0 {
		pe.cuts = append(pe.cuts, len(pe.frames))
	}
	pe.frames = appendFrame(pe.frames, kindReceipt, entry)
	pe.hashes = append(pe.hashes, leafHash...)
	pe.n++
	w.count++
	if w.count == 1 && w.first != nil {
		select {
		case w.first <- struct{}{}:
		default:
		}
	}
	if w.count >= w.opts.FlushRecords {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// Closed is the last epoch that takes no more records (-1: none).
func (w *WAL) Closed() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.closedE
}

// CloseEpochs closes the epochs up to epoch to new records and flushes:
// after it the segments of those epochs are complete on disk.
func (w *WAL) CloseEpochs(epoch int64) error {
	w.mu.Lock()
	if epoch > w.closedE {
		w.closedE = epoch
	}
	w.mu.Unlock()
	return w.Flush()
}

// Synced returns a channel closed when the next flush has ended.
func (w *WAL) Synced() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.synced
}

// Flush seals, writes and fsyncs every record appended so far: per epoch
// one write of its groups, each followed by its seal, then one fsync.
func (w *WAL) Flush() error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	pending, synced := w.pending, w.synced
	w.pending, w.count, w.synced = map[int64]*pendingEpoch{}, 0, make(chan struct{})
	err := w.err
	w.mu.Unlock()
	defer close(synced)
	if err != nil {
		return err
	}
	written := map[int64]int64{}
	for epoch, pe := range pending {
		b, groups, err := w.sealGroups(epoch, pe)
		var f *os.File
		if err == nil {
			f, err = w.segment(epoch)
		}
		if err == nil {
			_, err = f.Write(b)
		}
		if err == nil {
			err = f.Sync()
		}
		if err != nil {
			err = fmt.Errorf("receipts: write segment of epoch %d: %w", epoch, err)
			w.mu.Lock()
			w.err = err
			w.mu.Unlock()
			return err
		}
		w.groups[epoch] += groups
		written[epoch] = int64(len(b))
	}
	w.mu.Lock()
	for e, n := range written {
		w.durable[e] += n
	}
	closedE := w.closedE
	w.mu.Unlock()
	// Segments of closed epochs are complete: close them.
	for e, f := range w.files {
		if e <= closedE {
			f.Close()
			delete(w.files, e)
		}
	}
	return nil
}

// sealGroups returns the bytes to write for pe: each group's receipt
// frames followed by the frame of its seal (flusher only).
func (w *WAL) sealGroups(epoch int64, pe *pendingEpoch) ([]byte, int64, error) {
	ends := append(pe.cuts, len(pe.frames))
	var out []byte
	if len(ends) == 1 {
		out = pe.frames // one group: its seal is appended in place
	} else {
		out = make([]byte, 0, len(pe.frames)+len(ends)*512)
	}
	start := 0
	for g, end := range ends {
		first := g * records.MaxGroupReceipts
		n := min(records.MaxGroupReceipts, pe.n-first)
		root, err := NewTree(pe.hashes[first*sha256.Size : (first+n)*sha256.Size]).Root()
		if err != nil {
			return nil, 0, err
		}
		s := records.Seal{GatewayMSP: w.gatewayMSP, Gateway: w.gateway, Epoch: epoch, Group: w.groups[epoch] + int64(g),
			Root: hex.EncodeToString(root), Size: int64(n)}
		if s.Signature, err = w.opts.Sealer.Sign(s.SealDigest()); err != nil {
			return nil, 0, fmt.Errorf("sign the seal of group %d: %w", s.Group, err)
		}
		js, err := json.Marshal(&s)
		if err != nil {
			return nil, 0, err
		}
		if len(ends) > 1 {
			out = append(out, pe.frames[start:end]...)
		}
		out = appendFrame(out, kindSeal, js)
		start = end
	}
	return out, int64(len(ends)), nil
}

// segment opens epoch's segment for appending (flusher only).
func (w *WAL) segment(epoch int64) (*os.File, error) {
	if f := w.files[epoch]; f != nil {
		return f, nil
	}
	path := filepath.Join(w.dir, segmentName(epoch))
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	if os.IsNotExist(statErr) {
		if err := syncDir(w.dir); err != nil {
			f.Close()
			return nil, err
		}
	}
	w.files[epoch] = f
	return f, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Durable is the fsynced length in bytes of epoch's segment (it always
// ends with a seal).
func (w *WAL) Durable(epoch int64) int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.durable[epoch]
}

// Epochs lists the epochs that have a segment, oldest first.
func (w *WAL) Epochs() ([]int64, error) {
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, "epoch-") || !strings.HasSuffix(name, ".wal") {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(name, "epoch-"), ".wal"), 10, 64)
		if err == nil {
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// Records calls fn with every durable (sealed and fsynced) receipt record
// of epoch's segment, in log order, with its offset; the entry is valid
// during the call only.
func (w *WAL) Records(epoch int64, fn func(off int64, entry []byte) error) error {
	_, _, err := scanGroups(segmentPath(w.dir, epoch), epoch, w.Durable(epoch), fn, nil)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Read returns the payload (kind byte first) of the record of epoch's
// segment at off.
func (w *WAL) Read(epoch int64, off int64) ([]byte, error) {
	f, err := os.Open(filepath.Join(w.dir, segmentName(epoch)))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readRecord(f, off)
}

// Close flushes and closes the log.
func (w *WAL) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true // no more appends; those queued are flushed below
	w.mu.Unlock()
	close(w.done)
	w.wg.Wait()
	err := w.Flush()
	w.flushMu.Lock()
	for e, f := range w.files {
		f.Close()
		delete(w.files, e)
	}
	w.flushMu.Unlock()
	return err
}
