package wire

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/seedgate/seedgate/internal/task"
)

// BodyBudget bounds the request body bytes the gateway takes in at once
// (SEEDGATE_MAX_INFLIGHT_BODY_BYTES): a request reserves its Content-Length
// (a chunked one, its bytes as they are read) before its body is read, waits
// up to Wait when the budget is spent, and is refused with unavailable and
// Retry-After after that. Ten clients each sending a big body thus cannot
// make the gateway hold ten big bodies.
type BodyBudget struct {
	sem   *semaphore.Weighted // nil: no limit
	total int64
	// Wait is how long a request waits for budget before it is refused.
	Wait time.Duration
}

// NewBodyBudget returns a budget of total bytes; total <= 0 means no limit.
func NewBodyBudget(total int64) *BodyBudget {
	b := &BodyBudget{total: total, Wait: 10 * time.Second}
	if total > 0 {
		b.sem = semaphore.NewWeighted(total)
	}
	return b
}

// Admit reserves r's body in the budget and gives r a Spool (see DecodeJSON).
// The reservation ends when the body has been read to its end, or at done,
// which also removes the Spool's files: call it when the request is answered.
// A request without a body passes as it is.
func (b *BodyBudget) Admit(r *http.Request) (_ *http.Request, done func(), err error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return r, func() {}, nil
	}
	var body *budgetBody
	if b != nil && b.sem != nil {
		body = &budgetBody{ReadCloser: r.Body, b: b, ctx: r.Context(), chunked: r.ContentLength < 0}
		if !body.chunked {
			n := min(r.ContentLength, b.total)
			if err := b.acquire(r.Context(), n); err != nil {
				return r, func() {}, err
			}
			body.held = n
		}
		r.Body = body
	}
	sp := &Spool{}
	r = r.WithContext(WithSpool(r.Context(), sp))
	return r, func() {
		sp.Close()
		if body != nil {
			body.release()
		}
	}, nil
}

func (b *BodyBudget) acquire(ctx context.Context, n int64) error {
	if b.sem.TryAcquire(n) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, b.Wait)
	defer cancel()
	if b.sem.Acquire(ctx, n) != nil {
		e := task.Errorf(task.CodeUnavailable, "", "the gateway is taking in as many request bodies as it may hold at once; retry in a moment")
		e.RetryAfter = 2
		return e
	}
	return nil
}

// budgetBody holds a body's reservation until the body is read to its end; a
// chunked body reserves its bytes as they are read.
type budgetBody struct {
	io.ReadCloser
	b       *BodyBudget
	ctx     context.Context
	chunked bool
	mu      sync.Mutex
	held    int64
	read    int64 // what a chunked body has reserved so far, released or not
}

func (c *budgetBody) Read(p []byte) (int, error) {
	if c.chunked {
		if left := c.b.total - c.read; int64(len(p)) > left {
			p = p[:left] // never ask for more than the whole budget
		}
		if len(p) == 0 {
			return 0, task.Errorf(task.CodeBodyTooLarge, "", "the request body is larger than the gateway's body budget of %d bytes", c.b.total)
		}
	}
	n, err := c.ReadCloser.Read(p)
	if c.chunked && n > 0 {
		if aerr := c.b.acquire(c.ctx, int64(n)); aerr != nil {
			return 0, aerr
		}
		c.mu.Lock()
		c.held += int64(n)
		c.mu.Unlock()
		c.read += int64(n)
	}
	if errors.Is(err, io.EOF) {
		c.release() // read whole: whatever the handler does next, it holds no more of it
	}
	return n, err
}

func (c *budgetBody) release() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.held > 0 {
		c.b.sem.Release(c.held)
		c.held = 0
	}
}
