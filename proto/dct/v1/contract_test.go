package dctv1_test

import (
	"testing"

	dctv1 "github.com/dct-network/dct/proto/dct/v1"
	"google.golang.org/protobuf/proto"
)

// TestServiceShape pins the wire contract gateways and agents rely on.
func TestServiceShape(t *testing.T) {
	desc := dctv1.ShardService_ServiceDesc
	if desc.ServiceName != "dct.v1.ShardService" {
		t.Fatalf("service %q", desc.ServiceName)
	}
	unary := map[string]bool{}
	for _, m := range desc.Methods {
		unary[m.MethodName] = true
	}
	if !unary["DeleteShard"] || !unary["Stat"] || len(unary) != 2 {
		t.Fatalf("unary methods %v", unary)
	}
	streams := map[string][2]bool{}
	for _, s := range desc.Streams {
		streams[s.StreamName] = [2]bool{s.ClientStreams, s.ServerStreams}
	}
	if streams["PutShard"] != [2]bool{true, false} || streams["GetShard"] != [2]bool{false, true} || len(streams) != 2 {
		t.Fatalf("streaming methods %v", streams)
	}
}

func TestMessagesRoundTrip(t *testing.T) {
	tests := []proto.Message{
		&dctv1.PutShardRequest{Msg: &dctv1.PutShardRequest_Header{Header: &dctv1.ShardHeader{Size: 42, Hash: "ab"}}},
		&dctv1.PutShardRequest{Msg: &dctv1.PutShardRequest_Chunk{Chunk: []byte("bytes")}},
		&dctv1.GetShardRequest{Hash: "ab", Offset: 1, Length: 2},
		&dctv1.GetShardResponse{Chunk: []byte("x"), ShardSize: 9},
		&dctv1.StatResponse{NodeId: "agent0-org1", CapacityBytes: 10, UsedBytes: 5, ShardCount: 1, UptimeSeconds: 3},
	}
	for _, m := range tests {
		b, err := proto.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got := m.ProtoReflect().New().Interface()
		if err := proto.Unmarshal(b, got); err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, m) {
			t.Fatalf("round trip of %v gave %v", m, got)
		}
	}
}
