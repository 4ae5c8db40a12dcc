//go:build bench

package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dct-network/dct/gateway"
	"github.com/dct-network/dct/test/internal/testenv"
)

// nginxBinary is Debian's nginx (make bench installs it).
func nginxBinary() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx", nil
	}
	return "", errors.New("nginx not found: install Debian's nginx (make bench does: scripts/install-apt.sh nginx nginx)")
}

// startNginx runs Debian's nginx on loopback in the foreground with a
// generated configuration in a temporary directory, serving root's files
// with the headers a CDN answer carries (ETag, Cache-Control, Content-Type,
// Content-Length, Accept-Ranges, CORS). As root, its workers run as nobody
// (nginx's default), so the files are made world-readable.
func startNginx(t *testing.T, files map[string][]byte) string {
	t.Helper()
	bin, err := nginxBinary()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "dct-bench-nginx-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	root := filepath.Join(dir, "www")
	for name, b := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			err = os.Chmod(p, 0o755)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	conf := fmt.Sprintf(`worker_processes auto;
daemon off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  types { text/javascript js; application/octet-stream bin; }
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  server {
    listen %[2]s;
    root %[1]s/www;
    location / {
      etag on;
      add_header Cache-Control "public, max-age=31536000, immutable";
      add_header Access-Control-Allow-Origin "*";
      add_header X-Content-Type-Options nosniff;
    }
  }
}
`, dir, addr)
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-p", dir, "-c", confPath, "-e", filepath.Join(dir, "error.log"))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt) // nginx: fast shutdown
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return "http://" + addr
		}
		select {
		case <-exited:
			t.Fatalf("nginx exited: %s", out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx not listening on %s: %s", addr, out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestServeWarm measures the gateway's warm path (decoded-object cache)
// against Debian's nginx serving the same bytes from a file and Go's
// net/http serving them from memory, for 1 KiB, 100 KiB and 1 MiB objects:
// wrk with the same parameters against the three, alternating, in the same
// run. Targets (issue 10): DCT ≥ 0.9× nginx's req/s and p99 ≤ 2× nginx's.
// DCT_BENCH_WARM_ROUNDS, DCT_BENCH_WARM_CONNS and DCT_BENCH_DURATION
// change the shape.
func TestServeWarm(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	desc := testenv.Start(t, suite).Desc
	gw := startGateway(t, ctx, desc, func(c *gateway.Config) {
		c.Content.CacheBytes = 64 << 20
		c.AllowOrigin = "*"
	})
	sizes := []struct {
		label string
		n     int
	}{{"1 KiB", 1 << 10}, {"100 KiB", 100 << 10}, {"1 MiB", 1 << 20}}
	type target struct{ dct, nginx, nethttp string }
	urls := make([]target, len(sizes))
	files := map[string][]byte{}
	bodies := make([][]byte, len(sizes))
	for i, s := range sizes {
		body := make([]byte, s.n)
		rand.New(rand.NewSource(int64(s.n))).Read(body)
		bodies[i] = body
		name := fmt.Sprintf("bench/warm-%d.js", s.n)
		res, err := testenv.Publisher(desc, gw).Publish(ctx, name, "", int64(len(body)), bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		files[strings.TrimPrefix(res.VersionedURL, "/")] = body
		urls[i].dct = gw.URL + res.VersionedURL
		urls[i].nethttp = res.VersionedURL
		urls[i].nginx = res.VersionedURL
	}
	ngx := startNginx(t, files)

	// net/http from memory, with the same validators and cache headers.
	byPath := map[string][]byte{}
	for i := range sizes {
		byPath[urls[i].nethttp] = bodies[i]
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ref := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := byPath[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		h.Set("ETag", `"`+strconv.Itoa(len(b))+`"`)
		h.Set("Content-Type", "text/javascript")
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	})}
	go ref.Serve(ln)
	defer ref.Close()
	for i := range sizes {
		urls[i].nethttp = "http://" + ln.Addr().String() + urls[i].nethttp
		urls[i].nginx = ngx + urls[i].nginx
		for _, u := range []string{urls[i].dct, urls[i].nginx, urls[i].nethttp} {
			if got := get(t, u); !bytes.Equal(got, bodies[i]) {
				t.Fatalf("%s serves other bytes", u)
			}
		}
	}
	checkHeaders(t, urls[0].dct)

	d := envDuration("DCT_BENCH_DURATION", 10*time.Second) / 2
	rounds := envInt("DCT_BENCH_WARM_ROUNDS", 3)
	conns := envInt("DCT_BENCH_WARM_CONNS", 32)
	fmt.Printf("\nWarm serving: wrk -t2 -c%d -d%s, %d rounds alternating nginx, net/http, DCT per size, on loopback (2 shared cores; load average %s):\n",
		conns, d, rounds, loadAvg())
	for i, s := range sizes {
		// A warm-up of each, then the rounds.
		for _, u := range []string{urls[i].nginx, urls[i].nethttp, urls[i].dct} {
			if _, err := runWrk(ctx, u, conns, time.Second); err != nil {
				t.Fatal(err)
			}
		}
		var sum [3]wrkResult
		for r := 0; r < rounds; r++ {
			for j, u := range []string{urls[i].nginx, urls[i].nethttp, urls[i].dct} {
				res, err := runWrk(ctx, u, conns, d)
				if err != nil {
					t.Fatal(err)
				}
				if res.Errors != "" {
					t.Errorf("%s: %s", u, res.Errors)
				}
				fmt.Printf("  %-7s round %d %-8s: %s\n", s.label, r+1, []string{"nginx", "net/http", "DCT"}[j], res)
				sum[j].RPS += res.RPS
				sum[j].P50 += res.P50
				sum[j].P99 += res.P99
			}
		}
		for j := range sum {
			sum[j].RPS /= float64(rounds)
			sum[j].P50 /= time.Duration(rounds)
			sum[j].P99 /= time.Duration(rounds)
		}
		ngxR, goR, dctR := sum[0], sum[1], sum[2]
		rps := func(r wrkResult) string {
			return fmt.Sprintf("%.0f req/s, p50 %s, p99 %s", r.RPS, r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond))
		}
		report(t, "warm "+s.label+": nginx (Debian), mean of "+strconv.Itoa(rounds), "", rps(ngxR), Info)
		report(t, "warm "+s.label+": Go net/http from memory", "", rps(goR), Info)
		report(t, "warm "+s.label+": DCT req/s vs nginx", "≥ 0.90× nginx", fmt.Sprintf("%.0f req/s = %.2f×", dctR.RPS, dctR.RPS/ngxR.RPS), VerdictOf(dctR.RPS >= 0.9*ngxR.RPS))
		report(t, "warm "+s.label+": DCT p99 vs nginx", "≤ 2× nginx", fmt.Sprintf("%s = %.2f×", dctR.P99.Round(10*time.Microsecond), float64(dctR.P99)/float64(ngxR.P99)), VerdictOf(dctR.P99 <= 2*ngxR.P99))
	}
}

// checkHeaders fails unless a warm answer carries the headers the CDN's
// semantics need.
func checkHeaders(t *testing.T, url string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for _, h := range []string{"ETag", "Cache-Control", "Content-Type", "Content-Length", "Accept-Ranges", "X-DCT-Version", "X-Request-Id", "Access-Control-Allow-Origin", "Last-Modified", "X-Content-Type-Options"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("warm answer without %s: %v", h, resp.Header)
		}
	}
}
