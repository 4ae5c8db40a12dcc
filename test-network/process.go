package testnetwork

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is one long-running node of the network.
type process struct {
	name string
	bin  string
	args []string
	env  []string
	dir  string
}

func (n *Network) pidDir() string { return filepath.Join(n.cfg.RunDir, "pids") }
func (n *Network) logDir() string { return filepath.Join(n.cfg.RunDir, "logs") }

func (n *Network) start(p process) error { return startProcess(n.cfg.RunDir, n.log, p) }

// startProcess launches p in its own session so that it outlives the caller,
// with output to runDir/logs/<name>.log and its pid in runDir/pids/<name>.pid.
func startProcess(runDir string, log *slog.Logger, p process) error {
	pidDir, logDir := filepath.Join(runDir, "pids"), filepath.Join(runDir, "logs")
	for _, d := range []string{pidDir, logDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	logf, err := os.OpenFile(filepath.Join(logDir, p.name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = p.env
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	// Reap the child if it exits while this process lives (tests); when the
	// CLI exits, init adopts it.
	go func() { _ = cmd.Wait() }()
	pidFile := filepath.Join(pidDir, p.name+".pid")
	if err := writeFileAtomic(pidFile, []byte(fmt.Sprintf("%d\n%s\n", cmd.Process.Pid, p.bin)), 0o644); err != nil {
		_ = cmd.Process.Kill()
		return err
	}
	log.Debug("started", "process", p.name, "pid", cmd.Process.Pid)
	return nil
}

// running lists the processes recorded in the pid directory that are still
// alive and still run the binary they were started with.
func running(pidDir string) (map[string]int, error) {
	entries, err := os.ReadDir(pidDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".pid") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(pidDir, e.Name()))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		pid, err := strconv.Atoi(strings.TrimSpace(lines[0]))
		if err != nil || pid <= 0 {
			continue
		}
		bin := ""
		if len(lines) > 1 {
			bin = lines[1]
		}
		if alive(pid, bin) {
			out[strings.TrimSuffix(e.Name(), ".pid")] = pid
		}
	}
	return out, nil
}

// alive reports whether pid is a live (non-zombie) process running bin.
func alive(pid int, bin string) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	if bin == "" {
		return true
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return true // cannot tell; assume ours
	}
	exe = strings.TrimSuffix(exe, " (deleted)")
	if exe == bin {
		return true
	}
	// /proc gives the resolved path: a binary started through a symlinked
	// directory (a .cache/fabric linked to another checkout's) is ours too.
	real, err := filepath.EvalSymlinks(bin)
	return err == nil && exe == real
}

// stopAll terminates every recorded process: SIGTERM to its process group,
// then SIGKILL for what is still alive after grace.
func stopAll(pidDir string, grace time.Duration) error {
	procs, err := running(pidDir)
	if err != nil {
		return err
	}
	for _, pid := range procs {
		_ = syscall.Kill(-pid, syscall.SIGTERM)
		_ = syscall.Kill(pid, syscall.SIGTERM)
	}
	deadline := time.Now().Add(grace)
	for time.Now().Before(deadline) {
		left, _ := running(pidDir)
		if len(left) == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	left, _ := running(pidDir)
	for _, pid := range left {
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	deadline = time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if left, _ = running(pidDir); len(left) == 0 {
			return os.RemoveAll(pidDir)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("processes still alive after SIGKILL: %v", left)
}

// ErrPortInUse is returned by Up when a port of the network is taken.
var ErrPortInUse = errors.New("port in use")

// portsFree fails on the first address that cannot be listened on.
func portsFree(addrs []string) error {
	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if err != nil {
			return fmt.Errorf("%w: %s (another network or a leftover process? pick another --base-port): %v", ErrPortInUse, a, err)
		}
		l.Close()
	}
	return nil
}

// waitPortsFree waits until every address can be listened on again.
func waitPortsFree(ctx context.Context, addrs []string) error {
	for _, a := range addrs {
		for {
			l, err := net.Listen("tcp", a)
			if err == nil {
				l.Close()
				break
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("port %s still in use: %w", a, err)
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return nil
}

// waitHealthy polls a Fabric operations endpoint until /healthz answers 200.
func waitHealthy(ctx context.Context, opsAddr, name string, logFile string) error {
	url := "http://" + opsAddr + "/healthz"
	hc := &http.Client{Timeout: time.Second}
	backoff := 20 * time.Millisecond
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s not healthy at %s (see %s): %w", name, url, logFile, ctx.Err())
		case <-time.After(backoff):
		}
		if backoff < 200*time.Millisecond {
			backoff *= 2
		}
	}
}

// waitDial polls until a TCP connection to addr succeeds.
func waitDial(ctx context.Context, addr string) error {
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("nothing listens on %s: %w", addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
