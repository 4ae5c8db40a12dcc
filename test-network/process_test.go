package testnetwork

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestAliveThroughASymlink: a process started through a symbolic link to
// its binary (a linked .cache/fabric) is recognised as the recorded one,
// so Down stops it.
func TestAliveThroughASymlink(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep binary")
	}
	link := filepath.Join(t.TempDir(), "sleep")
	if err := os.Symlink(sleep, link); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(link, "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if !alive(cmd.Process.Pid, link) {
		t.Fatalf("pid %d started as %s is not recognised", cmd.Process.Pid, link)
	}
	if alive(cmd.Process.Pid, filepath.Join(t.TempDir(), "other")) {
		t.Fatal("another binary's path matched")
	}
}
