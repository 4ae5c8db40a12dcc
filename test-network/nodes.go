package testnetwork

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// fabricNode is how an orderer or a peer of the network runs: its
// arguments, directory, operations address and service listeners.
type fabricNode struct {
	args      []string
	ops       string
	listeners []string
	orderer   bool
}

func (d *Description) fabricNode(name string) (fabricNode, error) {
	for _, o := range d.Orderers {
		if o.Name == name {
			return fabricNode{ops: o.OperationsAddress, listeners: []string{o.Address, o.AdminAddress}, orderer: true}, nil
		}
	}
	for _, org := range d.Orgs {
		for _, p := range org.Peers {
			if p.Name == name {
				return fabricNode{args: []string{"node", "start"}, ops: p.OperationsAddress, listeners: []string{p.Address, p.ChaincodeAddress}}, nil
			}
		}
	}
	return fabricNode{}, fmt.Errorf("no orderer or peer %q", name)
}

// stopGrace is how long StopNode waits after SIGTERM before SIGKILL.
const stopGrace = 10 * time.Second

// StopNode stops an orderer or a peer of the network (by its Name): SIGTERM,
// SIGKILL if it is still alive after a grace period; it returns once the
// process is gone and its ports are free. Its data stays, and so does its pid
// file, which names its binary for StartNode.
func (d *Description) StopNode(ctx context.Context, name string) error {
	node, err := d.fabricNode(name)
	if err != nil {
		return err
	}
	pid, err := d.PID(name)
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		return err
	}
	term := time.Now()
	for alive(pid, "") {
		if time.Since(term) > stopGrace {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s (pid %d) still alive: %w", name, pid, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
	return waitPortsFree(ctx, append([]string{node.ops}, node.listeners...))
}

// StartNode starts an orderer or a peer that StopNode stopped, with the
// configuration and data it had, and waits until its operations endpoint
// reports healthy and its listeners accept connections; for an orderer, also
// until the channel has a Raft leader again.
func (d *Description) StartNode(ctx context.Context, name string) error {
	node, err := d.fabricNode(name)
	if err != nil {
		return err
	}
	if _, err := d.PID(name); err == nil {
		return fmt.Errorf("%s is running", name)
	}
	b, err := os.ReadFile(filepath.Join(d.RunDir, "pids", name+".pid"))
	if err != nil {
		return fmt.Errorf("%s: no pid file naming its binary: %w", name, err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) < 2 || lines[1] == "" {
		return fmt.Errorf("%s: its pid file names no binary", name)
	}
	dir := filepath.Join(d.RunDir, "nodes", name)
	if err := startProcess(d.RunDir, slog.New(slog.DiscardHandler), process{
		name: name, bin: lines[1], args: node.args, dir: dir,
		env: append(baseEnv(), "FABRIC_CFG_PATH="+filepath.Join(dir, "config"), "FABRIC_LOGGING_SPEC=info"),
	}); err != nil {
		return err
	}
	if err := waitHealthy(ctx, node.ops, name, d.LogFile(name)); err != nil {
		return err
	}
	for _, l := range node.listeners {
		if err := waitDial(ctx, l); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if node.orderer {
		return d.WaitRaftLeader(ctx)
	}
	return nil
}

// WaitRaftLeader polls the orderers' metrics until one of them reports that
// it leads the channel.
func (d *Description) WaitRaftLeader(ctx context.Context) error {
	want := fmt.Sprintf(`consensus_etcdraft_is_leader{channel="%s"} 1`, d.Channel)
	hc := &http.Client{Timeout: time.Second}
	for {
		for _, o := range d.Orderers {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+o.OperationsAddress+"/metrics", nil)
			resp, err := hc.Do(req)
			if err != nil {
				continue
			}
			sc := bufio.NewScanner(resp.Body)
			sc.Buffer(make([]byte, 64*1024), 1024*1024)
			found := false
			for sc.Scan() {
				if strings.TrimSpace(sc.Text()) == want {
					found = true
					break
				}
			}
			resp.Body.Close()
			if found {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("no Raft leader for channel %s: %w", d.Channel, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}
