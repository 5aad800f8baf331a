package events

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/task"
)

// fakeSource stands for the database: each Listen call is one connection.
type fakeSource struct {
	conns chan chan string // each connection's announcements
	fail  chan error
}

func (s *fakeSource) listen(ctx context.Context, ready func(), changed func(string)) error {
	ch := make(chan string, 10)
	ready()
	s.conns <- ch
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-s.fail:
			return err
		case id := <-ch:
			changed(id)
		}
	}
}

func TestFeed(t *testing.T) {
	t.Parallel()
	hub := NewHub()
	src := &fakeSource{conns: make(chan chan string, 4), fail: make(chan error, 1)}
	var (
		mu    sync.Mutex
		store = map[string]*task.Task{}
		reads atomic.Int32
	)
	set := func(id string, st task.Status) {
		mu.Lock()
		store[id] = &task.Task{ID: id, Status: st}
		mu.Unlock()
	}
	f := &Feed{Hub: hub, Listen: src.listen, Retry: 10 * time.Millisecond,
		Get: func(_ context.Context, id string) (*task.Task, error) {
			reads.Add(1)
			mu.Lock()
			defer mu.Unlock()
			if tk := store[id]; tk != nil {
				c := *tk
				return &c, nil
			}
			return nil, errors.New("not found")
		}}
	f.Start(t.Context())
	f.Start(t.Context()) // a second Start does nothing: one connection
	defer func() {
		require.NoError(t, f.Stop(context.Background()))
		require.NoError(t, f.Stop(context.Background()), "a second Stop does nothing")
	}()

	conn := <-src.conns // listening (and caught up: nobody waited yet)
	ch, stop := hub.Subscribe("watched")
	defer stop()

	set("watched", task.StatusRunning)
	set("unwatched", task.StatusRunning)
	conn <- "unwatched"
	conn <- "watched"
	select {
	case tk := <-ch:
		require.Equal(t, task.StatusRunning, tk.Status)
	case <-time.After(5 * time.Second):
		t.Fatal("a change announced by another instance was not published")
	}
	// Reads happen in order: once a later change of the watched task is
	// published, a read of the unwatched one would have happened before it.
	set("watched", task.StatusQueued)
	conn <- "watched"
	select {
	case tk := <-ch:
		require.Equal(t, task.StatusQueued, tk.Status)
	case <-time.After(5 * time.Second):
		t.Fatal("the second change was not published")
	}
	require.EqualValues(t, 2, reads.Load(), "tasks nobody here waits on are not read")
	select {
	case <-src.conns:
		t.Fatal("a second Start opened a second connection")
	default:
	}

	// The connection drops; a change made meanwhile is caught up on reconnect.
	src.fail <- errors.New("connection reset")
	set("watched", task.StatusSucceeded)
	conn = <-src.conns
	select {
	case tk := <-ch:
		require.Equal(t, task.StatusSucceeded, tk.Status)
	case <-time.After(5 * time.Second):
		t.Fatal("no catch-up after reconnecting")
	}
	_ = conn
}
