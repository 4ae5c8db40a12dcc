package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func encodeSidecar(t testing.TB, b []byte, blockSize int) []byte {
	t.Helper()
	h := newBlockHasher(blockSize, int64(len(b)))
	h.Write(b)
	enc, err := h.sidecar().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

// reseal recomputes the checksum of a sidecar edited by a test.
func reseal(b []byte) []byte {
	body := b[:len(b)-sha256.Size]
	s := sha256.Sum256(body)
	return append(append([]byte(nil), body...), s[:]...)
}

func TestSidecarRoundTrip(t *testing.T) {
	for _, size := range []int{0, 1, MinBlockSize, MinBlockSize + 1, 10 * MinBlockSize} {
		b := payload(size, 1)
		enc := encodeSidecar(t, b, MinBlockSize)
		sc, err := ParseSidecar(enc)
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if sc.Size != int64(size) || sc.BlockSize != MinBlockSize || sc.Hash != sha256.Sum256(b) {
			t.Fatalf("size %d: parsed %+v", size, sc)
		}
		for i := int64(0); i < sc.Blocks(); i++ {
			blk := b[i*MinBlockSize : min(int64(size), (i+1)*MinBlockSize)]
			if s := sha256.Sum256(blk); !bytes.Equal(sc.BlockHash(i), s[:]) {
				t.Fatalf("size %d: block %d hash", size, i)
			}
		}
		again, _ := sc.MarshalBinary()
		if !bytes.Equal(again, enc) {
			t.Fatalf("size %d: re-encoding differs", size)
		}
	}
}

func TestParseSidecarRejects(t *testing.T) {
	good := encodeSidecar(t, payload(3*MinBlockSize+1, 2), MinBlockSize)
	edit := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	tests := map[string][]byte{
		"empty":             nil,
		"short":             good[:sidecarMin-1],
		"truncated":         good[:len(good)-1],
		"extended":          append(append([]byte(nil), good...), 0),
		"magic":             reseal(edit(func(b []byte) []byte { b[0] = 'X'; return b })),
		"version":           reseal(edit(func(b []byte) []byte { b[7] = 2; return b })),
		"checksum":          edit(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }),
		"block hash":        edit(func(b []byte) []byte { b[sidecarHeader] ^= 1; return b }),
		"block size zero":   reseal(edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[8:], 0); return b })),
		"block size odd":    reseal(edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[8:], 1000); return b })),
		"block size huge":   reseal(edit(func(b []byte) []byte { binary.BigEndian.PutUint32(b[8:], 1<<31); return b })),
		"size too large":    reseal(edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[12:], 1<<63); return b })),
		"size vs blocks":    reseal(edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[12:], 10*MinBlockSize); return b })),
		"fewer blocks":      reseal(edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[12:], 2*MinBlockSize); return b })),
		"size max, no room": reseal(edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[12:], MaxShardSize); return b })),
	}
	for name, b := range tests {
		t.Run(name, func(t *testing.T) {
			if _, err := ParseSidecar(b); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("ParseSidecar: %v, want ErrCorrupt", err)
			}
		})
	}
}

// FuzzParseSidecar feeds arbitrary bytes to the sidecar decoder: it must
// never panic, and whatever it accepts must re-encode to the same bytes.
func FuzzParseSidecar(f *testing.F) {
	f.Add(encodeSidecar(f, nil, MinBlockSize))
	f.Add(encodeSidecar(f, payload(3*MinBlockSize+7, 1), MinBlockSize))
	f.Add(encodeSidecar(f, payload(100, 1), DefaultBlockSize))
	f.Add([]byte(sidecarMagic))
	f.Fuzz(func(t *testing.T, b []byte) {
		sc, err := ParseSidecar(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if sc.Size < 0 || sc.Size > MaxShardSize || !validBlockSize(sc.BlockSize) {
			t.Fatalf("accepted %+v", sc)
		}
		for i := int64(0); i < sc.Blocks(); i++ {
			_ = sc.BlockHash(i)
		}
		enc, err := sc.MarshalBinary()
		if err != nil || !bytes.Equal(enc, b) {
			t.Fatalf("re-encoding: %v", err)
		}
	})
}

// TestSeedCorpus keeps the committed seeds meaningful: "valid-" seeds
// parse, the others do not.
func TestSeedCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/fuzz/FuzzParseSidecar/*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no seed corpus: %v", err)
	}
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(string(raw)), "\n")
		if len(lines) != 2 || lines[0] != "go test fuzz v1" || !strings.HasPrefix(lines[1], "[]byte(") {
			t.Fatalf("%s: not a fuzz corpus file", path)
		}
		b, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		_, err = ParseSidecar([]byte(b))
		if valid := strings.HasPrefix(filepath.Base(path), "valid-"); valid != (err == nil) {
			t.Errorf("%s: ParseSidecar: %v", path, err)
		}
	}
}
