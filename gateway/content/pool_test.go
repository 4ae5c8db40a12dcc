package content_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/dct-network/dct/gateway/content"
)

// With the object cache off, reads decode into pooled buffers: reads of
// objects of other sizes, in turn and at once, each get their own bytes.
func TestPooledReads(t *testing.T) {
	tests := []struct {
		name  string
		cache int64
	}{
		{"cache off", 0},
		{"cache on", 1 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s, _, _ := newTestService(t, 6, func(c *content.Config) { c.CacheBytes = tc.cache })
			// Whole (up to CacheMaxObject 20000) and segmented (above).
			sizes := []int{20000, 777, 100003, 35000, 5}
			bodies := map[string][]byte{}
			var names []string
			for _, n := range sizes {
				name := fmt.Sprintf("pool/%d.bin", n)
				bodies[name] = payload(n)
				publishWith(t, s, name, bodies[name])
				names = append(names, name)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 4*len(names))
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for round := range 3 {
						for i := range names {
							name := names[(i+g+round)%len(names)]
							body := bodies[name]
							m, err := s.Manifest(ctx, name, "")
							if err != nil {
								errs <- err
								return
							}
							off, n := int64(0), int64(len(body))
							if round == 1 {
								off, n = n/3, n/2
							}
							got, err := s.Read(ctx, m, off, n)
							if err != nil || !bytes.Equal(got, body[off:off+n]) {
								errs <- fmt.Errorf("%s [%d+%d]: %v (equal %v)", name, off, n, err, bytes.Equal(got, body[off:off+n]))
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Error(err)
			}
		})
	}
}
