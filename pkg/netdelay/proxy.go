package netdelay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy forwards TCP and UDP on one port to a target, delaying the
// direction towards the target.
type Proxy struct {
	target string
	delay  atomic.Int64
	log    *slog.Logger
	tcp    net.Listener
	udp    *net.UDPConn
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns map[io.Closer]struct{}
	peers map[string]*net.UDPConn // client address -> socket towards the target
}

// Listen starts a proxy on listen (host:port; port 0 picks one) towards
// target with the given one-way delay.
func Listen(listen, target string, delay time.Duration, log *slog.Logger) (*Proxy, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if delay < 0 {
		return nil, fmt.Errorf("netdelay: negative delay %s", delay)
	}
	tl, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, err
	}
	ua, err := net.ResolveUDPAddr("udp", tl.Addr().String())
	if err != nil {
		tl.Close()
		return nil, err
	}
	uc, err := net.ListenUDP("udp", ua)
	if err != nil {
		tl.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &Proxy{target: target, log: log, tcp: tl, udp: uc, ctx: ctx, cancel: cancel,
		conns: map[io.Closer]struct{}{}, peers: map[string]*net.UDPConn{}}
	p.delay.Store(int64(delay))
	p.wg.Add(2)
	go p.acceptTCP()
	go p.readUDP()
	return p, nil
}

// Addr is the proxy's address (TCP and UDP).
func (p *Proxy) Addr() string { return p.tcp.Addr().String() }

// Delay is the current one-way delay.
func (p *Proxy) Delay() time.Duration { return time.Duration(p.delay.Load()) }

// SetDelay changes the delay of bytes forwarded from now on.
func (p *Proxy) SetDelay(d time.Duration) { p.delay.Store(int64(max(d, 0))) }

// Close stops the proxy and every forwarded connection.
func (p *Proxy) Close() error {
	p.cancel()
	err := errors.Join(p.tcp.Close(), p.udp.Close())
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	for _, c := range p.peers {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) track(c io.Closer) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ctx.Err() != nil {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c io.Closer) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) acceptTCP() {
	defer p.wg.Done()
	for {
		c, err := p.tcp.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serveTCP(c)
	}
}

func (p *Proxy) serveTCP(client net.Conn) {
	defer p.wg.Done()
	if !p.track(client) {
		return
	}
	defer p.untrack(client)
	var d net.Dialer
	server, err := d.DialContext(p.ctx, "tcp", p.target)
	if err != nil {
		p.log.Debug("netdelay: dial target", "target", p.target, "err", err)
		return
	}
	if !p.track(server) {
		return
	}
	defer p.untrack(server)
	done := make(chan struct{}, 2)
	go func() { p.pipeDelayed(server, client); done <- struct{}{} }()
	go func() { _, _ = io.Copy(client, server); done <- struct{}{} }()
	<-done
}

type chunk struct {
	at time.Time
	b  []byte
}

// pipeDelayed copies src to dst, releasing each chunk read at its arrival
// time plus the delay, in order.
func (p *Proxy) pipeDelayed(dst io.Writer, src io.Reader) {
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			b := make([]byte, 32<<10)
			n, err := src.Read(b)
			if n > 0 {
				select {
				case q <- chunk{time.Now().Add(p.Delay()), b[:n]}:
				case <-p.ctx.Done():
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range q {
		if !sleepUntil(p.ctx, c.at) {
			return
		}
		if _, err := dst.Write(c.b); err != nil {
			return
		}
	}
	if cw, ok := dst.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
	}
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// readUDP forwards each client's datagrams to the target after the delay,
// through a socket of its own whose replies go back to the client at once.
func (p *Proxy) readUDP() {
	defer p.wg.Done()
	buf := make([]byte, 64<<10)
	for {
		n, from, err := p.udp.ReadFromUDP(buf)
		if err != nil {
			return
		}
		out, err := p.peer(from)
		if err != nil {
			p.log.Debug("netdelay: udp peer", "err", err)
			continue
		}
		b := append([]byte(nil), buf[:n]...)
		at := time.Now().Add(p.Delay())
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			if sleepUntil(p.ctx, at) {
				_, _ = out.Write(b)
			}
		}()
	}
}

func (p *Proxy) peer(from *net.UDPAddr) (*net.UDPConn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.peers[from.String()]; ok {
		return c, nil
	}
	ta, err := net.ResolveUDPAddr("udp", p.target)
	if err != nil {
		return nil, err
	}
	c, err := net.DialUDP("udp", nil, ta)
	if err != nil {
		return nil, err
	}
	p.peers[from.String()] = c
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if err != nil {
				return
			}
			_, _ = p.udp.WriteToUDP(buf[:n], from)
		}
	}()
	return c, nil
}
