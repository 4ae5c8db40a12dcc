//go:build integration

package e2e

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"github.com/dct-network/dct/pkg/ledger"
	dctv1 "github.com/dct-network/dct/proto/dct/v1"
	testnetwork "github.com/dct-network/dct/test-network"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// agentClient dials agent a presenting the TLS client pair certFile and
// keyPath (a key file or keystore directory).
func agentClient(t *testing.T, a testnetwork.AgentInfo, certFile, keyPath string) dctv1.ShardServiceClient {
	t.Helper()
	key, err := ledger.KeyFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.LoadX509KeyPair(certFile, key)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := os.ReadFile(env.TLSRootBundle)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(bundle)
	conn, err := grpc.NewClient(a.Address, grpc.WithTransportCredentials(credentials.NewTLS(
		&tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return dctv1.NewShardServiceClient(conn)
}

// readShard reads a whole shard from an agent.
func readShard(ctx context.Context, c dctv1.ShardServiceClient, hash string) ([]byte, error) {
	stream, err := c.GetShard(ctx, &dctv1.GetShardRequest{Hash: hash})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for {
		msg, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		buf.Write(msg.GetChunk())
	}
}

// putShard stores b on an agent.
func putShard(ctx context.Context, c dctv1.ShardServiceClient, b []byte) error {
	stream, err := c.PutShard(ctx)
	if err != nil {
		return err
	}
	msgs := []*dctv1.PutShardRequest{
		{Msg: &dctv1.PutShardRequest_Header{Header: &dctv1.ShardHeader{Size: int64(len(b))}}},
		{Msg: &dctv1.PutShardRequest_Chunk{Chunk: b}},
		{Msg: &dctv1.PutShardRequest_Header{Header: &dctv1.ShardHeader{Size: int64(len(b)), Hash: sha256Hex(b)}}},
	}
	for _, m := range msgs {
		if err := stream.Send(m); err != nil {
			break // the status comes with CloseAndRecv
		}
	}
	_, err = stream.CloseAndRecv()
	return err
}

// TestAgentsServeOnlyGateways: an agent admits only identities the
// ledger's registry grants the gateway role. The publisher's enrollment
// certificate (a member identity, granted publisher) is refused on every
// call; the gateway identity is served but may not delete a live shard.
func TestAgentsServeOnlyGateways(t *testing.T) {
	body := payload(20000, 81)
	res := publish(t, "e2e/auth/app.js", "", body)
	mf := manifest(t, res.Name, res.Version)
	sh := mf.Shards[0]
	holder := agentByNode(t, sh.Nodes[0])
	ctx := ctxT(t, 2*time.Minute)

	t.Run("publisher identity", func(t *testing.T) {
		pub := identity(t, env.Orgs[0].MSPID, testnetwork.RolePublisher)
		c := agentClient(t, holder, pub.Cert, pub.KeyDir)
		calls := map[string]error{}
		_, calls["Stat"] = c.Stat(ctx, &dctv1.StatRequest{})
		_, calls["GetShard"] = readShard(ctx, c, sh.Hash)
		calls["PutShard"] = putShard(ctx, c, payload(100, 82))
		_, calls["DeleteShard"] = c.DeleteShard(ctx, &dctv1.DeleteShardRequest{Hash: sh.Hash, Name: mf.Name, Version: mf.Version, Index: int32(sh.Index)})
		for call, err := range calls {
			if status.Code(err) != codes.PermissionDenied {
				t.Errorf("%s as the publisher: %v, want PermissionDenied", call, err)
			}
		}
	})

	t.Run("gateway identity deleting a live shard", func(t *testing.T) {
		gw := identity(t, env.Orgs[0].MSPID, testnetwork.RoleGateway)
		c := agentClient(t, holder, gw.Cert, gw.KeyDir)
		got, err := readShard(ctx, c, sh.Hash)
		if err != nil || sha256Hex(got) != sh.Hash {
			t.Fatalf("gateway reading shard %d from %s: %v", sh.Index, holder.Name, err)
		}
		for name, req := range map[string]*dctv1.DeleteShardRequest{
			"its manifest shard":     {Hash: sh.Hash, Name: mf.Name, Version: mf.Version, Index: int32(sh.Index)},
			"another index":          {Hash: sh.Hash, Name: mf.Name, Version: mf.Version, Index: int32(sh.Index + 1)},
			"no version":             {Hash: sh.Hash, Name: mf.Name},
			"a version not recorded": {Hash: sh.Hash, Name: mf.Name, Version: "999"},
		} {
			if _, err := c.DeleteShard(ctx, req); status.Code(err) != codes.PermissionDenied {
				t.Errorf("delete naming %s: %v, want PermissionDenied", name, err)
			}
		}
		if _, err := os.Stat(shardPath(holder, sh.Hash)); err != nil {
			t.Fatalf("shard %d gone from %s: %v", sh.Index, holder.Name, err)
		}
		resp, got := do(t, "GET", "/cdn/"+res.Name+"@"+res.Version, nil)
		if resp.StatusCode != 200 || !bytes.Equal(got, body) {
			t.Fatalf("object after refused deletes: %s, %d bytes, identical %v", resp.Status, len(got), bytes.Equal(got, body))
		}
	})

	t.Run("TLS client pair of the TLS CA", func(t *testing.T) {
		gw := identity(t, env.Orgs[0].MSPID, testnetwork.RoleGateway)
		c := agentClient(t, holder, gw.TLSCert, gw.TLSKey)
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if _, err := c.Stat(sctx, &dctv1.StatRequest{}); status.Code(err) != codes.Unavailable {
			t.Fatalf("Stat with a TLS CA client pair: %v, want the handshake refused (Unavailable)", err)
		}
	})
}
