//go:build integration

package compose

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	testnetwork "github.com/dct-network/dct/test-network"
)

// GuideEnv set to 0 skips TestConsortiumGuide (about two minutes on two
// cores, its images built; DCT_GUIDE_GO_PACKAGE=1, as make
// consortium-guide sets, adds BankD's build of the standard Go package).
const GuideEnv = "DCT_CONSORTIUM_GUIDE"

// TestConsortiumGuide runs scripts/consortium-guide.sh, which follows
// docs/consortium.md step by step on a compose consortium of its own:
// CCaaS install, a fourth bank added (channel config update, peer, chaincode
// definition, agents and a gateway from its connection profile and MSP
// folders, bids, mesh, earlier objects read through its gateway) and removed (nodes deactivated until no shard is left on them,
// definition and channel config without it), every object read back.
func TestConsortiumGuide(t *testing.T) {
	if os.Getenv(GuideEnv) == "0" {
		t.Skipf("%s=0", GuideEnv)
	}
	if _, err := composeCommand(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI needs Docker with Compose for the compose tests: %v", err)
		}
		t.Skipf("no Docker with Compose: %v", err)
	}
	if _, err := exec.LookPath("jq"); err != nil {
		t.Fatalf("the guide's script needs jq (make deps installs it): %v", err)
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	buildImages(t, root)
	base := 26100
	if v := os.Getenv("DCT_COMPOSE_BASE_PORT"); v != "" {
		if base, err = strconv.Atoi(v); err != nil {
			t.Fatalf("DCT_COMPOSE_BASE_PORT: %v", err)
		}
	}
	cache := testnetwork.CacheDir(filepath.Join(root, ".cache"))
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(root, "scripts", "consortium-guide.sh"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		fmt.Sprintf("COMPOSE_PROJECT_NAME=dctguide%d", os.Getpid()),
		// Ports of its own, clear of TestConsortium's.
		fmt.Sprintf("DCT_COMPOSE_BASE_PORT=%d", base+10),
		"DCT_GUIDE_WORK="+t.TempDir(),
		"DCT_BIN_DIR="+filepath.Join(cache, "bin"),
		"DCT_GUIDE_KEEP=",
		// make test keeps BankD on CCaaS (its Go build would add minutes);
		// make consortium-guide sets 1: BankD's peer builds the standard
		// Go package.
		"DCT_GUIDE_GO_PACKAGE="+cmp.Or(os.Getenv("DCT_GUIDE_GO_PACKAGE"), "0"))
	if os.Getenv("DCT_FABRIC_DIR") == "" {
		cmd.Env = append(cmd.Env, "DCT_FABRIC_DIR="+filepath.Join(cache, "fabric"))
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		t.Log(sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("consortium guide: %v", err)
	}
}
