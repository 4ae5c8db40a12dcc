package serviceconfig

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/dct-network/dct/pkg/mesh"
	"github.com/dct-network/dct/pkg/settings"
)

// Mesh are the gossip mesh settings of a service.
type Mesh struct {
	// MeshListen is the gossip address host:port (UDP and TCP); empty
	// leaves the mesh off. MeshAdvertise is what other members dial
	// (default: the bound address); MeshJoin are seed members' gossip
	// addresses.
	MeshListen    string
	MeshAdvertise string
	MeshJoin      []string
	// MeshKeyring is the consortium's gossip keyring file (mesh.LoadKeyring:
	// base64 keys, one a line, the primary first), required with
	// MeshListen: gossip is encrypted and authenticated with it, and a
	// process without a key of the ring cannot join. It is read again on
	// SIGHUP (ReloadKeysOnSignal).
	MeshKeyring string
}

// ErrMesh marks inconsistent mesh settings.
var ErrMesh = errors.New("mesh settings")

// Register binds the mesh settings to s.
func (m *Mesh) Register(s *settings.Set) {
	s.String(&m.MeshListen, "mesh-listen", "gossip address host:port (UDP and TCP) of the latency mesh; empty: no mesh")
	s.String(&m.MeshAdvertise, "mesh-advertise", "gossip address host:port other mesh members reach (default: the bound --mesh-listen address)")
	s.StringList(&m.MeshJoin, "mesh-join", "gossip addresses host:port of mesh members to join (retried until one answers)")
	s.String(&m.MeshKeyring, "mesh-keyring", "consortium gossip keyring file (base64 AES keys, one a line, the primary first; required with --mesh-listen; re-read on SIGHUP)")
}

// Validate checks that the addresses are host:port, that advertise, join
// and keyring come with listen, and that listen comes with a readable,
// well-formed keyring.
func (m Mesh) Validate() error {
	if m.MeshListen == "" {
		if m.MeshAdvertise != "" || len(m.MeshJoin) > 0 || m.MeshKeyring != "" {
			return fmt.Errorf("%w: --mesh-advertise, --mesh-join and --mesh-keyring need --mesh-listen", ErrMesh)
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(m.MeshListen); err != nil {
		return fmt.Errorf("%w: mesh listen address %q: %v", ErrMesh, m.MeshListen, err)
	}
	if m.MeshKeyring == "" {
		return fmt.Errorf("%w: --mesh-listen needs --mesh-keyring (the consortium's gossip keyring): the mesh never gossips in plain text", ErrMesh)
	}
	if _, err := mesh.LoadKeyring(m.MeshKeyring); err != nil {
		return fmt.Errorf("%w: --mesh-keyring: %w", ErrMesh, err)
	}
	return nil
}

// Keys reads the keyring file.
func (m Mesh) Keys() (mesh.Keyring, error) {
	k, err := mesh.LoadKeyring(m.MeshKeyring)
	if err != nil {
		return nil, fmt.Errorf("%w: --mesh-keyring: %w", ErrMesh, err)
	}
	return k, nil
}

// KeySetter is a running mesh member whose keyring can be replaced
// (*mesh.Mesh).
type KeySetter interface {
	SetKeys(mesh.Keyring) error
}

// ReloadKeysOnSignal re-reads the keyring file on every SIGHUP and
// installs it on member, until ctx ends; the returned function stops it
// (and waits for it). A keyring that cannot be read or installed is
// logged and the running one kept.
func (m Mesh) ReloadKeysOnSignal(ctx context.Context, member KeySetter, log *slog.Logger) (stop func()) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGHUP)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.reloadKeys(ctx, member, sig, log)
	}()
	return func() {
		signal.Stop(sig)
		cancel()
		<-done
	}
}

// reloadKeys installs the keyring file on member each time trigger fires,
// until ctx ends.
func (m Mesh) reloadKeys(ctx context.Context, member KeySetter, trigger <-chan os.Signal, log *slog.Logger) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-trigger:
		}
		if err := m.ReloadKeys(member); err != nil {
			log.Error("mesh keyring not reloaded; keeping the running one", "file", m.MeshKeyring, "err", err)
			continue
		}
		log.Info("mesh keyring reloaded", "file", m.MeshKeyring)
	}
}

// ReloadKeys reads the keyring file and installs it on member.
func (m Mesh) ReloadKeys(member KeySetter) error {
	k, err := m.Keys()
	if err != nil {
		return err
	}
	if err := member.SetKeys(k); err != nil {
		return fmt.Errorf("%w: %w", ErrMesh, err)
	}
	return nil
}
