package agents

import (
	"math/bits"
	"sync"

	"google.golang.org/grpc/mem"
)

// recvPool is the buffer pool of agent connections: gRPC's default pool
// clears every buffer it hands out (a pass over every byte received,
// 8–9 % of the gateway's CPU on large reads), although gRPC fills each one
// before anyone reads it. recvPool hands buffers out as they are: sizes
// are rounded up to a power of two between minPooled and maxPooled, and
// larger ones are made fresh and not kept.
type recvPool struct {
	classes [maxClass - minClass + 1]sync.Pool
}

const (
	minClass = 8  // 256 bytes
	maxClass = 22 // 4 MiB
)

var agentBufferPool mem.BufferPool = &recvPool{}

// class is the size class of n bytes (ok false: too large to pool).
func class(n int) (int, bool) {
	c := max(bits.Len(uint(max(n, 1)-1)), minClass)
	return c, c <= maxClass
}

// Get returns a buffer of length n; its bytes are not cleared.
func (p *recvPool) Get(n int) *[]byte {
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
func (p *recvPool) Put(bp *[]byte) {
	c, ok := class(cap(*bp))
	if !ok || cap(*bp) != 1<<c {
		return // not one of ours
	}
	p.classes[c-minClass].Put(bp)
}
