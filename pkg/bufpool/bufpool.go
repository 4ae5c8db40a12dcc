package bufpool

import (
	"math/bits"
	"sync"

	"google.golang.org/grpc/mem"
)

// Pool hands buffers out as they are (gRPC's default pool clears every
// one, 5–9 % of the gateway's CPU on large reads): sizes are rounded up to
// a power of two from 256 bytes to 4 MiB; larger ones are made fresh and
// not kept. The zero value is ready to use.
type Pool struct {
	classes [maxClass - minClass + 1]sync.Pool
}

const (
	minClass = 8  // 256 bytes
	maxClass = 22 // 4 MiB
)

// Shared is the pool of agent connections and the agents' server.
var Shared mem.BufferPool = &Pool{}

// class is the size class of n bytes (ok false: too large to pool).
func class(n int) (int, bool) {
	c := max(bits.Len(uint(max(n, 1)-1)), minClass)
	return c, c <= maxClass
}

// Get returns a buffer of length n; its bytes are not cleared.
func (p *Pool) Get(n int) *[]byte {
	c, ok := class(n)
	if !ok {
		b := make([]byte, n)
		return &b
	}
	if bp, _ := p.classes[c-minClass].Get().(*[]byte); bp != nil {
		*bp = (*bp)[:n]
		return bp
	}
	b := make([]byte, n, 1<<c)
	return &b
}

// Put keeps a buffer Get made for a later Get of its class.
func (p *Pool) Put(bp *[]byte) {
	c, ok := class(cap(*bp))
	if !ok || cap(*bp) != 1<<c {
		return // not one of ours
	}
	p.classes[c-minClass].Put(bp)
}
