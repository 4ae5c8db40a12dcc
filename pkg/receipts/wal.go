package receipts

import (
	"bufio"
	"encoding/binary"
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
)

// Record framing: a 4-byte big-endian payload length, the payload's CRC-32C
// (4 bytes, big-endian), the payload.
const (
	frameHeader = 8
	maxPayload  = 1 << 20
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrClosed is returned by a closed log.
var ErrClosed = errors.New("receipts: log is closed")

// appendFrame appends payload's frame to dst.
func appendFrame(dst, payload []byte) []byte {
	var h [frameHeader]byte
	binary.BigEndian.PutUint32(h[:4], uint32(len(payload)))
	binary.BigEndian.PutUint32(h[4:], crc32.Checksum(payload, crcTable))
	return append(append(dst, h[:]...), payload...)
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

// WALOptions tunes the group commit.
type WALOptions struct {
	// FlushInterval is the longest a record waits for its fsync
	// (default 5ms); FlushRecords records waiting trigger one at once
	// (default 4096).
	FlushInterval time.Duration
	FlushRecords  int
	// MaxPending bounds the records waiting for a flush (default 64
	// FlushRecords): beyond it Append waits for the disk (backpressure
	// when fsync cannot keep up).
	MaxPending int
	// Ticker drives the periodic flush (default time.NewTicker); tests
	// pass a channel they control.
	Ticker func(time.Duration) (<-chan time.Time, func())
}

// WAL is the write-ahead log of receipts: one segment file per epoch,
// records framed with their length and CRC. Append does not wait for the
// disk: a flusher writes and fsyncs what was appended at most every
// FlushInterval or FlushRecords records (group commit). Only fsynced
// records are read back (Durable, Records).
type WAL struct {
	dir  string
	opts WALOptions

	mu      sync.Mutex
	pending map[int64][]byte // frames appended and not yet written, per epoch
	count   int              // records pending
	sealed  int64            // epochs <= sealed take no more records
	durable map[int64]int64  // fsynced bytes per epoch segment
	synced  chan struct{}    // closed at the end of the next flush
	err     error            // a failed write: the log is unusable
	closed  bool

	flushMu sync.Mutex
	files   map[int64]*os.File // open segments (flusher only)
	kick    chan struct{}
	done    chan struct{}
	wg      sync.WaitGroup
}

// OpenWAL opens (creating) the log in dir: every segment is scanned and a
// torn or corrupt tail is cut off, so that new records follow the last
// intact one.
func OpenWAL(dir string, opts WALOptions) (*WAL, error) {
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = 5 * time.Millisecond
	}
	if opts.FlushRecords <= 0 {
		opts.FlushRecords = 4096
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = 64 * opts.FlushRecords
	}
	if opts.Ticker == nil {
		opts.Ticker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	w := &WAL{
		dir: dir, opts: opts, pending: map[int64][]byte{}, sealed: -1,
		durable: map[int64]int64{}, synced: make(chan struct{}),
		files: map[int64]*os.File{}, kick: make(chan struct{}, 1), done: make(chan struct{}),
	}
	epochs, err := w.Epochs()
	if err != nil {
		return nil, err
	}
	for _, e := range epochs {
		path := filepath.Join(dir, segmentName(e))
		end, err := scanSegment(path, nil)
		if err != nil {
			return nil, err
		}
		if st, err := os.Stat(path); err == nil && st.Size() > end {
			if err := os.Truncate(path, end); err != nil {
				return nil, fmt.Errorf("receipts: cut the torn tail of %s: %w", path, err)
			}
		}
		w.durable[e] = end
	}
	tick, stop := opts.Ticker(opts.FlushInterval)
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
		}
		_ = w.Flush()
	}
}

// errSealed: the record's epoch is being batched; re-issue it in a later one.
var errSealed = errors.New("receipts: epoch is sealed")

// Append queues a record of epoch; it is durable after the next flush.
func (w *WAL) Append(epoch int64, payload []byte) error {
	if len(payload) == 0 || len(payload) > maxPayload {
		return fmt.Errorf("receipts: record of %d bytes", len(payload))
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
	case epoch <= w.sealed:
		return errSealed
	}
	w.pending[epoch] = appendFrame(w.pending[epoch], payload)
	w.count++
	if w.count >= w.opts.FlushRecords {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// Sealed is the last epoch that takes no more records (-1: none).
func (w *WAL) Sealed() int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.sealed
}

// Seal closes the epochs up to epoch to new records and flushes: after it
// the segments of those epochs are complete on disk.
func (w *WAL) Seal(epoch int64) error {
	w.mu.Lock()
	if epoch > w.sealed {
		w.sealed = epoch
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

// Flush writes and fsyncs every record appended so far.
func (w *WAL) Flush() error {
	w.flushMu.Lock()
	defer w.flushMu.Unlock()
	w.mu.Lock()
	pending, synced := w.pending, w.synced
	w.pending, w.count, w.synced = map[int64][]byte{}, 0, make(chan struct{})
	err := w.err
	w.mu.Unlock()
	defer close(synced)
	if err != nil {
		return err
	}
	written := map[int64]int64{}
	for epoch, b := range pending {
		f, err := w.segment(epoch)
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
		written[epoch] = int64(len(b))
	}
	w.mu.Lock()
	for e, n := range written {
		w.durable[e] += n
	}
	w.mu.Unlock()
	// Segments of sealed epochs are complete: close them.
	for e, f := range w.files {
		if e <= w.Sealed() {
			f.Close()
			delete(w.files, e)
		}
	}
	return nil
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

// Durable is the fsynced length in bytes of epoch's segment.
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

// Records calls fn with every durable record of epoch's segment, in log
// order, with its offset.
func (w *WAL) Records(epoch int64, fn func(off int64, payload []byte) error) error {
	limit := w.Durable(epoch)
	_, err := scanSegment(filepath.Join(w.dir, segmentName(epoch)), func(off int64, p []byte) error {
		if off >= limit {
			return io.EOF
		}
		return fn(off, p)
	})
	if errors.Is(err, io.EOF) || errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Read returns the payload of the record of epoch's segment at off.
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
