package sandbox

import (
	"context"
	"sync"
)

// slots shares the render slots fairly between tenants. A freed slot goes to
// the waiting tenant whose last render started longest ago (one that never
// rendered first), so a tenant with a long queue takes turns with the others
// instead of going before them. Each tenant has at most one waiter: its other
// due renders are told to come back (acquire's busy), so they do not hold the
// scheduler's workers while they wait, and the other tenants' renders reach
// the queue at all.
type slots struct {
	mu      sync.Mutex
	size    int
	free    int
	waiting []*slotWaiter          // in arrival order
	tenants map[string]*slotWaiter // each tenant's waiter
	last    map[string]uint64      // each tenant's latest grant, as a sequence number
	seq     uint64
}

type slotWaiter struct {
	tenant  string
	granted chan struct{} // closed when the slot is handed over
}

func newSlots(n int) *slots {
	return &slots{size: n, free: n, tenants: map[string]*slotWaiter{}, last: map[string]uint64{}}
}

// acquire takes a slot for tenant, waiting its turn if none is free. busy
// means the tenant already has a render waiting: try again later. An error
// means ctx ended first.
func (s *slots) acquire(ctx context.Context, tenant string) (release func(), busy bool, err error) {
	s.mu.Lock()
	if s.free > 0 && len(s.waiting) == 0 {
		s.free--
		s.grantLocked(tenant)
		s.mu.Unlock()
		return s.releaser(), false, nil
	}
	if s.tenants[tenant] != nil {
		s.mu.Unlock()
		return nil, true, nil
	}
	w := &slotWaiter{tenant: tenant, granted: make(chan struct{})}
	s.waiting = append(s.waiting, w)
	s.tenants[tenant] = w
	s.mu.Unlock()

	select {
	case <-w.granted:
		return s.releaser(), false, nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	select {
	case <-w.granted: // handed over just now: pass it on
		s.mu.Unlock()
		s.release()
	default:
		s.removeLocked(w)
		s.mu.Unlock()
	}
	return nil, false, ctx.Err()
}

// releaser returns a release function that works once.
func (s *slots) releaser() func() {
	var once sync.Once
	return func() { once.Do(s.release) }
}

// release hands the slot to the next waiter, or frees it.
func (s *slots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.waiting) == 0 {
		if s.free++; s.free == s.size {
			clear(s.last) // idle: no turns to remember
		}
		return
	}
	next := s.waiting[0]
	for _, w := range s.waiting[1:] {
		if s.last[w.tenant] < s.last[next.tenant] {
			next = w
		}
	}
	s.removeLocked(next)
	s.grantLocked(next.tenant)
	close(next.granted)
}

func (s *slots) grantLocked(tenant string) {
	s.seq++
	s.last[tenant] = s.seq
}

func (s *slots) removeLocked(w *slotWaiter) {
	for i, o := range s.waiting {
		if o == w {
			s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
			break
		}
	}
	delete(s.tenants, w.tenant)
}
