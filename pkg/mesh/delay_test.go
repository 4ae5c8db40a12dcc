package mesh

import (
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// delayTransport puts its member delay away (one way) from everyone: every
// UDP packet it sends leaves delay late and every packet it receives is
// delivered delay late (stamped with the delivery time, which memberlist
// uses for RTTs), so each probe to or from it takes 2×delay longer. TCP
// streams pass untouched. It wraps the real transport, like memberlist's
// own in-package mock transport stands in for the network.
type delayTransport struct {
	memberlist.NodeAwareTransport
	delay time.Duration
	out   chan outPacket
	in    chan inPacket
	recv  chan *memberlist.Packet
	stop  chan struct{}
	wg    sync.WaitGroup
	once  sync.Once
}

type outPacket struct {
	due  time.Time
	buf  []byte
	addr memberlist.Address
}

type inPacket struct {
	due time.Time
	p   *memberlist.Packet
}

func newDelayTransport(inner memberlist.NodeAwareTransport, delay time.Duration) *delayTransport {
	t := &delayTransport{NodeAwareTransport: inner, delay: delay,
		out: make(chan outPacket, 1024), in: make(chan inPacket, 1024),
		recv: make(chan *memberlist.Packet), stop: make(chan struct{})}
	t.wg.Add(3)
	go t.send()
	go t.receive()
	go t.deliver()
	return t
}

// sleepUntil waits for due; false when the transport shuts down first.
func (t *delayTransport) sleepUntil(due time.Time) bool {
	timer := time.NewTimer(time.Until(due))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-t.stop:
		return false
	}
}

func (t *delayTransport) send() {
	defer t.wg.Done()
	for {
		select {
		case o := <-t.out:
			if !t.sleepUntil(o.due) {
				return
			}
			t.NodeAwareTransport.WriteToAddress(o.buf, o.addr)
		case <-t.stop:
			return
		}
	}
}

func (t *delayTransport) receive() {
	defer t.wg.Done()
	for {
		select {
		case p := <-t.NodeAwareTransport.PacketCh():
			select {
			case t.in <- inPacket{due: time.Now().Add(t.delay), p: p}:
			default: // queue full: lost, as on a congested link
			}
		case <-t.stop:
			return
		}
	}
}

func (t *delayTransport) deliver() {
	defer t.wg.Done()
	for {
		select {
		case i := <-t.in:
			if !t.sleepUntil(i.due) {
				return
			}
			i.p.Timestamp = time.Now()
			select {
			case t.recv <- i.p:
			case <-t.stop:
				return
			}
		case <-t.stop:
			return
		}
	}
}

func (t *delayTransport) WriteTo(b []byte, addr string) (time.Time, error) {
	return t.WriteToAddress(b, memberlist.Address{Addr: addr})
}

func (t *delayTransport) WriteToAddress(b []byte, addr memberlist.Address) (time.Time, error) {
	select {
	case t.out <- outPacket{due: time.Now().Add(t.delay), buf: append([]byte(nil), b...), addr: addr}:
	default: // queue full: lost
	}
	return time.Now(), nil
}

func (t *delayTransport) PacketCh() <-chan *memberlist.Packet { return t.recv }

func (t *delayTransport) Shutdown() error {
	var err error
	t.once.Do(func() {
		close(t.stop)
		err = t.NodeAwareTransport.Shutdown()
		t.wg.Wait()
	})
	return err
}
