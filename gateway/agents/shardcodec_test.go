package agents

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dct-network/dct/gateway/content"
	dctv1 "github.com/dct-network/dct/proto/dct/v1"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// split cuts b into a BufferSlice of pieces of at most n bytes, as gRPC
// hands over a message received in several frames.
func split(b []byte, n int) mem.BufferSlice {
	var out mem.BufferSlice
	for len(b) > 0 {
		k := min(n, len(b))
		out = append(out, mem.SliceBuffer(b[:k]))
		b = b[k:]
	}
	return out
}

func TestShardCodec(t *testing.T) {
	chunk := []byte("shard bytes, more than a piece")
	msg := func(fields ...func([]byte) []byte) []byte {
		var b []byte
		for _, f := range fields {
			b = f(b)
		}
		return b
	}
	data := func(b []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(b, 1, protowire.BytesType), chunk)
	}
	size := func(b []byte) []byte {
		return protowire.AppendVarint(protowire.AppendTag(b, 2, protowire.VarintType), 12345)
	}
	unknown := func(b []byte) []byte {
		b = protowire.AppendVarint(protowire.AppendTag(b, 7, protowire.VarintType), 1<<40)
		b = protowire.AppendBytes(protowire.AppendTag(b, 8, protowire.BytesType), []byte("skip me"))
		b = protowire.AppendFixed32(protowire.AppendTag(b, 9, protowire.Fixed32Type), 1)
		return protowire.AppendFixed64(protowire.AppendTag(b, 10, protowire.Fixed64Type), 2)
	}
	tests := []struct {
		name    string
		wire    []byte
		have    string // already gathered
		max     int64
		want    string
		wantErr bool
		tooMuch bool
	}{
		{"chunk and size", msg(data, size), "", 100, string(chunk), false, false},
		{"size first", msg(size, data), "", 100, string(chunk), false, false},
		{"unknown fields skipped", msg(unknown, data, unknown), "", 100, string(chunk), false, false},
		{"appended to earlier chunks", msg(data), "abc", 100, "abc" + string(chunk), false, false},
		{"size only", msg(size), "", 100, "", false, false},
		{"empty message", nil, "", 100, "", false, false},
		{"exactly max", msg(data), "ab", int64(len(chunk) + 2), "ab" + string(chunk), false, false},
		{"over max", msg(data), "ab", int64(len(chunk) + 1), "", true, true},
		{"truncated chunk", msg(data)[:10], "", 100, "", true, false},
		{"length beyond the message", []byte{0x0a, 0x7f, 'x'}, "", 1000, "", true, false},
		{"bad varint", []byte{0x10, 0xff}, "", 100, "", true, false},
		{"group wire type", []byte{0x0b}, "", 100, "", true, false},
	}
	for _, tc := range tests {
		for _, piece := range []int{1, 5, 1 << 20} {
			in := &chunkInto{buf: append(make([]byte, 0, 8), tc.have...), max: tc.max}
			err := agentCodec.Unmarshal(split(tc.wire, piece), in)
			if (err != nil) != tc.wantErr || in.tooMuch != tc.tooMuch {
				t.Fatalf("%s (pieces of %d): err %v, too much %v", tc.name, piece, err, in.tooMuch)
			}
			if err == nil && string(in.buf) != tc.want {
				t.Fatalf("%s (pieces of %d): got %q, want %q", tc.name, piece, in.buf, tc.want)
			}
		}
	}
	// Other destinations go to the protobuf codec.
	var resp dctv1.GetShardResponse
	if err := agentCodec.Unmarshal(split(msg(size, data), 3), &resp); err != nil || resp.GetShardSize() != 12345 || !bytes.Equal(resp.GetChunk(), chunk) {
		t.Fatalf("GetShardResponse: %v, %v", &resp, err)
	}
}

// GetShardInto reads into the caller's buffer when it has room.
func TestGetShardInto(t *testing.T) {
	ctx := context.Background()
	hash := strings.Repeat("f", 64)
	c := serve(t, &store{shards: map[string][]byte{hash: []byte("0123456789")}})
	tests := []struct {
		name      string
		dst       []byte
		wantInDst bool
	}{
		{"room", make([]byte, 3, 16), true},
		{"exact room", make([]byte, 0, 7), true},
		{"short", make([]byte, 0, 6), false},
		{"none", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := c.GetShardInto(ctx, hash, 2, 7, tc.dst)
			if err != nil || string(b) != "2345678" {
				t.Fatalf("got %q, %v", b, err)
			}
			inDst := cap(tc.dst) > 0 && &tc.dst[:1][0] == &b[:1][0]
			if inDst != tc.wantInDst {
				t.Fatalf("in dst: %v, want %v", inDst, tc.wantInDst)
			}
		})
	}
	if _, err := c.GetShardInto(ctx, strings.Repeat("0", 64), 0, 3, make([]byte, 0, 3)); !errors.Is(err, content.ErrShardNotFound) {
		t.Fatalf("absent shard: %v", err)
	}
}
