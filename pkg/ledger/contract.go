package ledger

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/dct-network/dct/chaincode/records"
)

func decode[T any](fn string, raw []byte) (T, error) {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, &CallError{Function: fn, Err: fmt.Errorf("%w: decode result: %v", ErrRejected, err)}
	}
	return v, nil
}

func query[T any](ctx context.Context, c *Client, fn string, args ...string) (T, error) {
	raw, err := c.evaluate(ctx, fn, args...)
	if err != nil {
		var zero T
		return zero, err
	}
	return decode[T](fn, raw)
}

func invoke[T any](ctx context.Context, c *Client, fn string, args ...string) (T, string, error) {
	raw, txID, err := c.submit(ctx, fn, args...)
	if err != nil {
		var zero T
		return zero, txID, err
	}
	v, err := decode[T](fn, raw)
	return v, txID, err
}

func marshalArg(fn string, v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", &CallError{Function: fn, Err: records.Errorf(records.CodeInvalid, "encode argument: %v", err)}
	}
	return string(b), nil
}

// RegisterNode records a new edge node owned by the caller's organisation.
func (c *Client) RegisterNode(ctx context.Context, in records.NodeInput) (*records.Node, error) {
	arg, err := marshalArg("node:Register", in)
	if err != nil {
		return nil, err
	}
	n, _, err := invoke[*records.Node](ctx, c, "node:Register", arg)
	return n, err
}

// UpdateNode changes a node's endpoint, zone, location, capacity or key.
// Only the owning organisation may.
func (c *Client) UpdateNode(ctx context.Context, in records.NodeInput) (*records.Node, error) {
	arg, err := marshalArg("node:Update", in)
	if err != nil {
		return nil, err
	}
	n, _, err := invoke[*records.Node](ctx, c, "node:Update", arg)
	return n, err
}

// DeactivateNode takes a node out of service.
func (c *Client) DeactivateNode(ctx context.Context, id, reason string) (*records.Node, error) {
	n, _, err := invoke[*records.Node](ctx, c, "node:Deactivate", id, reason)
	return n, err
}

// ReactivateNode puts a deactivated node back into service.
func (c *Client) ReactivateNode(ctx context.Context, id string) (*records.Node, error) {
	n, _, err := invoke[*records.Node](ctx, c, "node:Reactivate", id)
	return n, err
}

// GetNode reads one node.
func (c *Client) GetNode(ctx context.Context, id string) (*records.Node, error) {
	return query[*records.Node](ctx, c, "node:Get", id)
}

// ListNodes reads every node, sorted by id.
func (c *Client) ListNodes(ctx context.Context) ([]*records.Node, error) {
	return query[[]*records.Node](ctx, c, "node:List")
}

// RecordManifest records a published object version. The returned manifest
// carries the transaction id (TxID) and the publisher set by the chaincode.
func (c *Client) RecordManifest(ctx context.Context, m *records.Manifest) (*records.Manifest, error) {
	arg, err := marshalArg("manifest:Record", m)
	if err != nil {
		return nil, err
	}
	out, _, err := invoke[*records.Manifest](ctx, c, "manifest:Record", arg)
	return out, err
}

// GetManifest reads one version of an object, purged versions included.
func (c *Client) GetManifest(ctx context.Context, name, version string) (*records.Manifest, error) {
	return query[*records.Manifest](ctx, c, "manifest:Get", name, version)
}

// LatestManifest reads the newest version of an object that is not purged.
func (c *Client) LatestManifest(ctx context.Context, name string) (*records.Manifest, error) {
	return query[*records.Manifest](ctx, c, "manifest:Latest", name)
}

// ManifestVersions reads every version of an object in publish order.
func (c *Client) ManifestVersions(ctx context.Context, name string) ([]*records.Manifest, error) {
	return query[[]*records.Manifest](ctx, c, "manifest:Versions", name)
}

// ListObjects reads the head record of every object, sorted by name.
func (c *Client) ListObjects(ctx context.Context) ([]*records.Object, error) {
	return query[[]*records.Object](ctx, c, "manifest:List")
}

// PurgeManifest tombstones one version of an object.
func (c *Client) PurgeManifest(ctx context.Context, name, version, reason string) (*records.Manifest, error) {
	m, _, err := invoke[*records.Manifest](ctx, c, "manifest:Purge", name, version, reason)
	return m, err
}

// PurgeBy purges by surrogate key (hard or soft) or soft-purges by name
// (manifest:PurgeBy): the returned record lists the versions reached.
func (c *Client) PurgeBy(ctx context.Context, req records.PurgeRequest) (*records.PurgeRecord, error) {
	arg, err := marshalArg("manifest:PurgeBy", req)
	if err != nil {
		return nil, err
	}
	rec, _, err := invoke[*records.PurgeRecord](ctx, c, "manifest:PurgeBy", arg)
	return rec, err
}

// GetPurge reads the record of the purge made by transaction txID.
func (c *Client) GetPurge(ctx context.Context, txID string) (*records.PurgeRecord, error) {
	return query[*records.PurgeRecord](ctx, c, "manifest:GetPurge", txID)
}

// UpdateShardHolders replaces the holders of shard index of name@version
// with holders, provided they are still expected (compared as a set, in any
// order); this is how a repair is recorded. Every holder must be a
// registered, active node, and no node the update adds may end up holding k
// or more of the version's shards. The returned manifest carries the
// update's UpdatedAt, UpdatedBy and UpdateTxID.
//
// A caller that lost the race to another repair of the same shard gets
// either records.ErrConflict (the holders had already changed when its
// transaction was endorsed) or ErrConflict (both were endorsed against the
// same state and the other committed first); in both cases it should re-read
// the manifest rather than retry blindly.
func (c *Client) UpdateShardHolders(ctx context.Context, name, version string, index int, expected, holders []string) (*records.Manifest, error) {
	const fn = "manifest:UpdateHolders"
	exp, err := marshalArg(fn, expected)
	if err != nil {
		return nil, err
	}
	hold, err := marshalArg(fn, holders)
	if err != nil {
		return nil, err
	}
	m, _, err := invoke[*records.Manifest](ctx, c, fn, name, version, strconv.Itoa(index), exp, hold)
	return m, err
}

// NodeHistory is every committed write of a node record, oldest first.
func (c *Client) NodeHistory(ctx context.Context, id string) ([]*records.HistoryEntry, error) {
	return query[[]*records.HistoryEntry](ctx, c, "history:Node", id)
}

// ManifestHistory is every committed write of a manifest, oldest first.
func (c *Client) ManifestHistory(ctx context.Context, name, version string) ([]*records.HistoryEntry, error) {
	return query[[]*records.HistoryEntry](ctx, c, "history:Manifest", name, version)
}

// ObjectHistory is every committed write of an object head, oldest first.
func (c *Client) ObjectHistory(ctx context.Context, name string) ([]*records.HistoryEntry, error) {
	return query[[]*records.HistoryEntry](ctx, c, "history:Object", name)
}

// Object reads the head record of an object name: owner, versions, latest.
func (c *Client) Object(ctx context.Context, name string) (*records.Object, error) {
	return query[*records.Object](ctx, c, "manifest:Object", name)
}

// GrantIdentity gives a member certificate of the caller's organisation
// roles (replacing any it had); the caller must be one of its admins.
func (c *Client) GrantIdentity(ctx context.Context, in records.GrantInput) (*records.Identity, error) {
	arg, err := marshalArg("identity:Grant", in)
	if err != nil {
		return nil, err
	}
	id, _, err := invoke[*records.Identity](ctx, c, "identity:Grant", arg)
	return id, err
}

// RevokeIdentity removes every role of a certificate (by its hash) of the
// caller's organisation; the caller must be one of its admins.
func (c *Client) RevokeIdentity(ctx context.Context, certHash string) (*records.Identity, error) {
	id, _, err := invoke[*records.Identity](ctx, c, "identity:Revoke", certHash)
	return id, err
}

// GetIdentity reads the grant of a certificate of an organisation.
func (c *Client) GetIdentity(ctx context.Context, mspID, certHash string) (*records.Identity, error) {
	return query[*records.Identity](ctx, c, "identity:Get", mspID, certHash)
}

// ListIdentities reads every grant.
func (c *Client) ListIdentities(ctx context.Context) ([]*records.Identity, error) {
	return query[[]*records.Identity](ctx, c, "identity:List")
}

// Whoami returns the client's identity as the chaincode sees it: its
// organisation, certificate hash and roles.
func (c *Client) Whoami(ctx context.Context) (*records.Caller, error) {
	return query[*records.Caller](ctx, c, "identity:Whoami")
}

// IdentityHistory is every grant and revocation of a certificate's roles,
// oldest first.
func (c *Client) IdentityHistory(ctx context.Context, mspID, certHash string) ([]*records.HistoryEntry, error) {
	return query[[]*records.HistoryEntry](ctx, c, "history:Identity", mspID, certHash)
}

// Roles returns the roles the registry grants a certificate of an
// organisation: none (nil, nil) without a grant. It is the role source of
// pkg/memberauth.
func (c *Client) Roles(ctx context.Context, mspID, certHash string) ([]records.Role, error) {
	id, err := c.GetIdentity(ctx, mspID, certHash)
	if errors.Is(err, records.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return id.Roles, nil
}
