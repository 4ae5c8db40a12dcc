package records

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// mth and path are RFC 6962 section 2.1 written literally: the Merkle tree
// hash of leaves, and the audit path of leaf m.
func mth(leaves [][]byte) []byte {
	if len(leaves) == 1 {
		return LeafHash(leaves[0])
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	return nodeHash(mth(leaves[:k]), mth(leaves[k:]))
}

func path(m int, leaves [][]byte) [][]byte {
	if len(leaves) == 1 {
		return nil
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	if m < k {
		return append(path(m, leaves[:k]), mth(leaves[k:]))
	}
	return append(path(m-k, leaves[k:]), mth(leaves[:k]))
}

func TestVerifyInclusion(t *testing.T) {
	for size := 1; size <= 33; size++ {
		var leaves [][]byte
		for i := range size {
			leaves = append(leaves, []byte(fmt.Sprintf("receipt %d", i)))
		}
		root := hex.EncodeToString(mth(leaves))
		for m := range size {
			p := path(m, leaves)
			if err := VerifyInclusion(LeafHash(leaves[m]), int64(m), int64(size), p, root); err != nil {
				t.Fatalf("size %d leaf %d: %v", size, m, err)
			}
			if err := VerifyInclusion(LeafHash([]byte("forged")), int64(m), int64(size), p, root); err == nil {
				t.Fatalf("size %d leaf %d: a forged leaf verifies", size, m)
			}
			if size > 1 {
				if err := VerifyInclusion(LeafHash(leaves[m]), int64((m+1)%size), int64(size), p, root); err == nil {
					t.Fatalf("size %d leaf %d: verifies at another index", size, m)
				}
				if err := VerifyInclusion(LeafHash(leaves[m]), int64(m), int64(size), p[:len(p)-1], root); err == nil {
					t.Fatalf("size %d leaf %d: a short proof verifies", size, m)
				}
			}
		}
	}
	if err := VerifyInclusion(LeafHash(nil), 3, 3, nil, hex.EncodeToString(LeafHash(nil))); err == nil {
		t.Fatal("index outside the tree verifies")
	}
}

func TestSampleIndices(t *testing.T) {
	for _, size := range []int64{1, 5, 16, 17, 1000, 1 << 30} {
		idx := SampleIndices("tx-a", size)
		if len(idx) != Samples(size) || len(idx) > MaxSampledLeaves {
			t.Fatalf("size %d: %d samples, want %d", size, len(idx), Samples(size))
		}
		seen := map[int64]bool{}
		for _, i := range idx {
			if i < 0 || i >= size || seen[i] {
				t.Fatalf("size %d: index %d repeated or outside", size, i)
			}
			seen[i] = true
		}
		again := SampleIndices("tx-a", size)
		other := SampleIndices("tx-b", size)
		if fmt.Sprint(again) != fmt.Sprint(idx) {
			t.Fatalf("size %d: not deterministic", size)
		}
		if size > 100 && fmt.Sprint(other) == fmt.Sprint(idx) {
			t.Fatalf("size %d: another transaction picks the same leaves", size)
		}
	}
}

func TestReceiptAndBatchValidate(t *testing.T) {
	good := Receipt{Serial: "gw1-7-42", GatewayMSP: "Org1MSP", Gateway: hexOf("gw"), Epoch: 7, Object: "portal/app.js",
		Version: "1", Shard: 2, ShardHash: hexOf("shard"), Node: "agent0-org1", Offset: 0, Bytes: 4096, Request: "9f2c1a"}
	if err := good.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*Receipt){
		"serial":  func(r *Receipt) { r.Serial = "a b" },
		"gateway": func(r *Receipt) { r.Gateway = "x" },
		"object":  func(r *Receipt) { r.Object = "../x" },
		"node":    func(r *Receipt) { r.Node = "N" },
		"bytes":   func(r *Receipt) { r.Bytes = 0 },
		"range":   func(r *Receipt) { r.Offset = -1 },
		"request": func(r *Receipt) { r.Request = "" },
		"shard":   func(r *Receipt) { r.Shard = MaxShards },
	} {
		r := good
		mutate(&r)
		if err := r.Validate(); CodeOf(err) != CodeInvalid {
			t.Errorf("%s: %v, want INVALID_ARGUMENT", name, err)
		}
	}
	if string(good.LeafData()) != `{"serial":"gw1-7-42","gatewayMsp":"Org1MSP","gateway":"`+good.Gateway+`","epoch":7,"object":"portal/app.js","version":"1","shard":2,"shardHash":"`+good.ShardHash+`","node":"agent0-org1","offset":0,"bytes":4096,"request":"9f2c1a"}` {
		t.Fatalf("leaf data %s", good.LeafData())
	}
	b := BatchInput{Epoch: 7, Root: hexOf("root"), Size: 3, Totals: []NodeTotal{{"a-org1", "Org1MSP", 2, 10}, {"b-org2", "Org1MSP", 1, 5}}}
	if err := b.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*BatchInput){
		"size mismatch": func(b *BatchInput) { b.Size = 4 },
		"unsorted":      func(b *BatchInput) { b.Totals[0], b.Totals[1] = b.Totals[1], b.Totals[0] },
		"root":          func(b *BatchInput) { b.Root = "zz" },
		"no totals":     func(b *BatchInput) { b.Totals = nil },
	} {
		c := b
		c.Totals = append([]NodeTotal(nil), b.Totals...)
		mutate(&c)
		if err := c.Validate(); CodeOf(err) != CodeInvalid {
			t.Errorf("%s: %v, want INVALID_ARGUMENT", name, err)
		}
	}
}

func TestEpochs(t *testing.T) {
	at := func(s int64) time.Time { return time.Unix(s, 0) }
	for _, c := range []struct{ s, e int64 }{{0, 0}, {59, 0}, {60, 1}, {-1, -1}, {-60, -1}, {-61, -2}} {
		if got := EpochOf(at(c.s), DefaultEpochSeconds); got != c.e {
			t.Errorf("EpochOf(%d, DefaultEpochSeconds) = %d, want %d", c.s, got, c.e)
		}
	}
	if EpochStart(3, DefaultEpochSeconds).Unix() != 180 || EpochPad(7) != "00000000000000000007" {
		t.Fatal("EpochStart or EpochPad")
	}
	if _, err := DecodeBatchInput([]byte(`{"epoch":1,"root":"` + hexOf("r") + `","size":1,"totals":[{"node":"a-org1","publisher":"Org1MSP","receipts":1,"bytes":1}],"x":1}`)); CodeOf(err) != CodeInvalid {
		t.Fatalf("unknown field: %v", err)
	}
	if _, err := DecodeSamples([]byte(`[{"index":0,"receipt":{},"proof":[],"more":1}]`)); CodeOf(err) != CodeInvalid {
		t.Fatalf("unknown sample field: %v", err)
	}
}

// LeafData is encoding/json's encoding of the receipt, whatever its
// strings hold.
func TestLeafDataIsJSON(t *testing.T) {
	odd := []string{"", "a b", `q"uote`, `back\slash`, "<tag>&amp;", "é/ü", "\x01ctl", "\x7f", "\xff bad utf8", "\u2028", "plain-1.2_3:4"}
	for i, s := range odd {
		for field := range 8 {
			r := Receipt{Serial: "s", GatewayMSP: "Org1MSP", Gateway: hexOf("g"), Epoch: int64(i) - 3, Object: "o", Version: "1",
				Shard: i, ShardHash: hexOf("h"), Node: "n", Offset: -int64(i), Bytes: 1 << 40, Request: "r"}
			*[]*string{&r.Serial, &r.GatewayMSP, &r.Gateway, &r.Object, &r.Version, &r.ShardHash, &r.Node, &r.Request}[field] = s
			want, err := json.Marshal(&r)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.LeafData(); string(got) != string(want) {
				t.Fatalf("field %d = %q: LeafData %s, encoding/json %s", field, s, got, want)
			}
		}
	}
}
