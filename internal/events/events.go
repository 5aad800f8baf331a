// Package events fans task changes out to whoever waits on them in this process:
// Prefer: wait, the seedance dialect's blocking create, SSE streams.
// Changes made by other instances reach it through a Feed (PostgreSQL's
// LISTEN/NOTIFY); waiters also re-read the store now and then, as a fallback.
package events

import (
	"sync"

	"github.com/seedgate/seedgate/internal/task"
)

// Hub delivers each published task to the subscribers of its id. Slow
// subscribers never block publishers: each keeps only the newest change.
type Hub struct {
	mu   sync.Mutex
	subs map[string]map[*sub]struct{}
	all  map[*sub]struct{} // SubscribeAll
}

type sub struct{ ch chan *task.Task }

// NewHub returns an empty Hub.
func NewHub() *Hub { return &Hub{subs: map[string]map[*sub]struct{}{}} }

// Subscribe returns a channel that receives the task's newest state after each change,
// and a function to stop. The channel has room for one value: a reader that falls
// behind sees the latest state, not every intermediate one.
func (h *Hub) Subscribe(id string) (<-chan *task.Task, func()) {
	s := &sub{ch: make(chan *task.Task, 1)}
	h.mu.Lock()
	if h.subs[id] == nil {
		h.subs[id] = map[*sub]struct{}{}
	}
	h.subs[id][s] = struct{}{}
	h.mu.Unlock()
	return s.ch, func() {
		h.mu.Lock()
		delete(h.subs[id], s)
		if len(h.subs[id]) == 0 {
			delete(h.subs, id)
		}
		h.mu.Unlock()
	}
}

// SubscribeAll is Subscribe for the changes of every task (the webhook
// dispatcher uses it as a wake-up: a change may have queued a message).
func (h *Hub) SubscribeAll() (<-chan *task.Task, func()) {
	s := &sub{ch: make(chan *task.Task, 1)}
	h.mu.Lock()
	if h.all == nil {
		h.all = map[*sub]struct{}{}
	}
	h.all[s] = struct{}{}
	h.mu.Unlock()
	return s.ch, func() {
		h.mu.Lock()
		delete(h.all, s)
		h.mu.Unlock()
	}
}

// Subscribers is how many wait on task id (not counting SubscribeAll).
func (h *Hub) Subscribers(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs[id])
}

// SubscribedIDs returns the ids of the tasks someone waits on.
func (h *Hub) SubscribedIDs() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]string, 0, len(h.subs))
	for id := range h.subs {
		ids = append(ids, id)
	}
	return ids
}

// Publish hands t to every subscriber of t.ID, replacing an unread older value.
func (h *Hub) Publish(t *task.Task) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.all {
		s.offer(t)
	}
	for s := range h.subs[t.ID] {
		select {
		case s.ch <- t:
		default:
			select { // drop the stale value, keep the newest
			case <-s.ch:
			default:
			}
			s.ch <- t
		}
	}
}

// offer sends t, replacing an unread older value (the caller holds h.mu).
func (s *sub) offer(t *task.Task) {
	select {
	case s.ch <- t:
	default:
		select {
		case <-s.ch:
		default:
		}
		s.ch <- t
	}
}
