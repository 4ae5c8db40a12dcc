package testnetwork

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestAliveThroughASymlink: a process started from a binary under a
// symlinked directory is recognised as the recorded binary's (stopAll
// would otherwise leave it running), and another binary's is not.
func TestAliveThroughASymlink(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep:", err)
	}
	real, err := filepath.EvalSymlinks(sleep)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "bin")
	if err := os.Symlink(filepath.Dir(real), link); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(link, filepath.Base(real))
	cmd := exec.Command(bin, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pid := cmd.Process.Pid
	if !alive(pid, bin) {
		t.Fatalf("pid %d started as %s: not recognised", pid, bin)
	}
	if !alive(pid, real) {
		t.Fatalf("pid %d: not recognised by its resolved path %s", pid, real)
	}
	if alive(pid, filepath.Join(link, "no-such-binary")) {
		t.Fatalf("pid %d taken for another binary", pid)
	}
}
