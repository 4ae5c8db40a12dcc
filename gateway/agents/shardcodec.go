package agents

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
)

// shardCodec is gRPC's protobuf codec, except that a GetShardResponse
// received into a *chunkInto has its chunk copied straight from gRPC's
// receive buffers into the caller's buffer: no message is allocated and the
// bytes are copied once. The wire format is GetShardResponse's (dct.v1):
// field 1 chunk (bytes), field 2 shard_size (varint); unknown fields are
// skipped as protobuf requires.
type shardCodec struct{ encoding.CodecV2 }

var agentCodec = shardCodec{encoding.GetCodecV2(proto.Name)}

// chunkInto gathers the chunks of one GetShard answer in buf, which never
// grows past max bytes.
type chunkInto struct {
	buf []byte
	max int64
	// tooMuch is set when a message would have taken buf past max.
	tooMuch bool
}

// errTooMuch reports an answer longer than asked.
var errTooMuch = errors.New("more bytes than asked")

func (c shardCodec) Unmarshal(data mem.BufferSlice, v any) error {
	dst, ok := v.(*chunkInto)
	if !ok {
		return c.CodecV2.Unmarshal(data, v)
	}
	r := data.Reader()
	defer r.Close()
	for r.Remaining() > 0 {
		tag, err := binary.ReadUvarint(r)
		if err != nil {
			return fmt.Errorf("shard message: %w", err)
		}
		num, typ := protowire.Number(tag>>3), protowire.Type(tag&7)
		switch typ {
		case protowire.VarintType:
			if _, err := binary.ReadUvarint(r); err != nil {
				return fmt.Errorf("shard message: field %d: %w", num, err)
			}
		case protowire.Fixed32Type, protowire.Fixed64Type:
			n := int64(4)
			if typ == protowire.Fixed64Type {
				n = 8
			}
			if _, err := io.CopyN(io.Discard, r, n); err != nil {
				return fmt.Errorf("shard message: field %d: %w", num, err)
			}
		case protowire.BytesType:
			l, err := binary.ReadUvarint(r)
			if err != nil || l > uint64(r.Remaining()) {
				return fmt.Errorf("shard message: field %d: bad length", num)
			}
			if num != 1 {
				if _, err := io.CopyN(io.Discard, r, int64(l)); err != nil {
					return err
				}
				continue
			}
			if uint64(len(dst.buf))+l > uint64(dst.max) {
				dst.tooMuch = true
				return errTooMuch
			}
			at := len(dst.buf)
			if cap(dst.buf) < at+int(l) {
				dst.buf = append(dst.buf[:at:at], make([]byte, int(l))...)
			} else {
				dst.buf = dst.buf[:at+int(l)]
			}
			if _, err := io.ReadFull(r, dst.buf[at:]); err != nil {
				return err
			}
		default:
			return fmt.Errorf("shard message: field %d of wire type %d", num, typ)
		}
	}
	return nil
}
