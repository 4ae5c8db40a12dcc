package cli

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/dct-network/dct/chaincode/records"
	"github.com/dct-network/dct/pkg/ledger"
	"github.com/dct-network/dct/pkg/netdesc"
	"github.com/dct-network/dct/pkg/serviceconfig"
	"github.com/dct-network/dct/pkg/settings"
	"github.com/spf13/cobra"
)

// The node registry's writes (node:Register, node:Deactivate,
// node:Reactivate) are allowed by the chaincode to the owning
// organisation's admin or to the node's own identity only, so no gateway
// can make them on an operator's behalf: these commands sign the
// transactions themselves, as the admin identity of the global flags
// (--msp-dir or --cert/--key, DCT_ADMIN_*), and send them to a peer of the
// organisation named by the ledger flags (--connection-profile, or
// --peer-address, --peer-tls-ca and --msp-id; or --network-dir for a test
// network, whose organisation admin they then act as). The key never
// leaves the operator's machine.

// ErrPublicKey marks a --public-key file that holds no usable key.
var ErrPublicKey = errors.New("node public key")

// nodeAdmin is the ledger side of the nodes commands.
type nodeAdmin struct {
	e      *env
	ledger serviceconfig.Ledger
}

// register binds the ledger flags to cmd's persistent flags (DCT_* in the
// environment, as for the gateway and agents).
func (a *nodeAdmin) register(cmd *cobra.Command) func() error {
	set := settings.New(cmd.PersistentFlags(), "DCT_")
	a.ledger.RegisterPeer(set, "the admin's")
	return set.Apply
}

// connect resolves the ledger settings with the admin identity and dials
// the peer. The caller closes the client.
func (a *nodeAdmin) connect(ctx context.Context) (*ledger.Client, error) {
	l := a.ledger
	l.MSPDir, l.CertFile, l.KeyPath = a.e.tls.MSPDir, a.e.tls.Cert, a.e.tls.Key
	l.NetworkIdentity = func(org netdesc.OrgInfo) (netdesc.Identity, error) {
		return netdesc.Identity{Cert: org.AdminCert, KeyDir: org.AdminKeyDir, MSPDir: org.AdminMSPDir}, nil
	}
	if _, _, err := l.Resolve(); err != nil {
		return nil, err
	}
	if err := l.Settings.Validate(); err != nil {
		return nil, fmt.Errorf("%w (set --connection-profile, or --peer-address, --peer-tls-ca and --msp-id; and the admin's --msp-dir)", err)
	}
	return ledger.Connect(ctx, l.Settings)
}

// readPublicKey returns the PEM "PUBLIC KEY" of the node signing key in
// path: a public key, a certificate, or the agent's PKCS #8 private key
// file (node-key.pem in its data directory), of which only the public half
// is kept.
func readPublicKey(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrPublicKey, err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		return "", fmt.Errorf("%w: %s holds no PEM block", ErrPublicKey, path)
	}
	var pub any
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "CERTIFICATE":
		var c *x509.Certificate
		if c, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = c.PublicKey
		}
	case "PRIVATE KEY":
		var k any
		if k, err = x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
			s, ok := k.(crypto.Signer)
			if !ok {
				return "", fmt.Errorf("%w: %s: unsupported private key type %T", ErrPublicKey, path, k)
			}
			pub = s.Public()
		}
	default:
		return "", fmt.Errorf("%w: %s: PEM block %q is not a public key, certificate or PKCS #8 private key", ErrPublicKey, path, block.Type)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrPublicKey, path, err)
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %w", ErrPublicKey, path, err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// printNode writes a node record as JSON or as one table row.
func printNode(w io.Writer, o output, n *records.Node) error {
	return o.print(w, n, func(tw io.Writer) {
		fmt.Fprintln(tw, "ID\tORG\tZONE\tSTATUS\tENDPOINT\tUPDATED")
		status := string(n.Status)
		if n.DeactivationReason != "" {
			status += " (" + n.DeactivationReason + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", n.ID, n.Org, n.Zone, status, n.Endpoint, n.UpdatedAt)
	})
}

// nodeWriteCommands are nodes register, deactivate and reactivate.
func nodeWriteCommands(a *nodeAdmin) []*cobra.Command {
	var in records.NodeInput
	var keyFile string
	var regOut output
	reg := &cobra.Command{
		Use:   "register",
		Short: "Register an edge node of the admin's organisation on the ledger (as the organisation's admin)",
		Long: "register records a node owned by the admin's organisation. --public-key is the node's signing key: its\n" +
			"PEM public key, a certificate, or the agent's node-key.pem (only the public half is sent). The agent started\n" +
			"with --register on the same node id finds the record and keeps it up to date.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := regOut.check(); err != nil {
				return err
			}
			pub, err := readPublicKey(keyFile)
			if err != nil {
				return err
			}
			in.PublicKey = pub
			if err := in.Validate(); err != nil {
				return err
			}
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			n, err := c.RegisterNode(cmd.Context(), in)
			if err != nil {
				return err
			}
			return printNode(a.e.stdout, regOut, n)
		},
	}
	f := reg.Flags()
	f.StringVar(&in.ID, "id", "", "node id (the organisation's namespace, as the chaincode checks it)")
	f.StringVar(&in.Endpoint, "endpoint", "", "the node's gRPC endpoint host:port, as gateways reach it")
	f.StringVar(&in.Zone, "zone", "", "zone of the node")
	f.Float64Var(&in.Latitude, "latitude", 0, "latitude of the node's site (-90..90)")
	f.Float64Var(&in.Longitude, "longitude", 0, "longitude of the node's site (-180..180)")
	f.Int64Var(&in.StorageBytes, "storage-bytes", 0, "storage the node offers, in bytes")
	f.Int64Var(&in.BandwidthBps, "bandwidth-bps", 0, "bandwidth the node offers, in bits per second")
	f.StringVar(&keyFile, "public-key", "", "PEM file with the node's signing key: public key, certificate or the agent's node-key.pem")
	for _, name := range []string{"id", "endpoint", "zone", "storage-bytes", "bandwidth-bps", "public-key"} {
		_ = reg.MarkFlagRequired(name)
	}
	regOut.flag(reg)

	var reason string
	deactivate := nodeStatusCommand(a, "deactivate NODE",
		"Take a node of the admin's organisation out of service (its contracts are re-auctioned, its shards moved)",
		func() error { return records.ValidateDeactivationReason(reason) },
		func(ctx context.Context, c *ledger.Client, id string) (*records.Node, error) {
			return c.DeactivateNode(ctx, id, reason)
		})
	deactivate.Flags().StringVar(&reason, "reason", "", "why the node leaves (recorded on the ledger)")
	reactivate := nodeStatusCommand(a, "reactivate NODE", "Put a deactivated node of the admin's organisation back into service", nil,
		func(ctx context.Context, c *ledger.Client, id string) (*records.Node, error) {
			return c.ReactivateNode(ctx, id)
		})
	return []*cobra.Command{reg, deactivate, reactivate}
}

// nodeStatusCommand is nodes deactivate or reactivate: it checks the node
// id and its flags (check, when set) before connecting as the admin, and
// prints the node call returns.
func nodeStatusCommand(a *nodeAdmin, use, short string, check func() error,
	call func(ctx context.Context, c *ledger.Client, id string) (*records.Node, error)) *cobra.Command {
	var o output
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.check(); err != nil {
				return err
			}
			if err := records.ValidateNodeID(args[0]); err != nil {
				return err
			}
			if check != nil {
				if err := check(); err != nil {
					return err
				}
			}
			c, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			defer c.Close()
			n, err := call(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			return printNode(a.e.stdout, o, n)
		},
	}
	o.flag(cmd)
	return cmd
}
