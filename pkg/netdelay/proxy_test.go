package netdelay

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// echo serves TCP and UDP echo on one port.
func echo(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ua, _ := net.ResolveUDPAddr("udp", l.Addr().String())
	u, err := net.ListenUDP("udp", ua)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(); u.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					line, err := r.ReadBytes('\n')
					if err != nil {
						return
					}
					c.Write(line)
				}
			}()
		}
	}()
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := u.ReadFromUDP(buf)
			if err != nil {
				return
			}
			u.WriteToUDP(buf[:n], from)
		}
	}()
	return l.Addr().String()
}

func TestDelays(t *testing.T) {
	target := echo(t)
	const delay = 30 * time.Millisecond
	p, err := Listen("127.0.0.1:0", target, delay, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	tests := []struct {
		name    string
		network string
	}{{"tcp", "tcp"}, {"udp", "udp"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial(tt.network, p.Addr())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			r := bufio.NewReader(c)
			for i := 0; i < 3; i++ {
				start := time.Now()
				if _, err := c.Write([]byte("ping\n")); err != nil {
					t.Fatal(err)
				}
				line, err := r.ReadString('\n')
				rtt := time.Since(start)
				if err != nil || line != "ping\n" {
					t.Fatalf("echo %q: %v", line, err)
				}
				if rtt < delay {
					t.Fatalf("round trip %s shorter than the %s delay", rtt, delay)
				}
			}
		})
	}
	// Changing the delay applies to later bytes.
	roundTrip := func() time.Duration {
		c, err := net.Dial("tcp", p.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		start := time.Now()
		c.Write([]byte("x\n"))
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		return time.Since(start)
	}
	const long = 300 * time.Millisecond
	p.SetDelay(long)
	if rtt := roundTrip(); rtt < long {
		t.Fatalf("round trip %s after SetDelay(%s)", rtt, long)
	}
	p.SetDelay(0)
	if rtt := roundTrip(); rtt >= long {
		t.Fatalf("round trip %s after SetDelay(0)", rtt)
	}
}
