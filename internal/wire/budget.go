package wire

import (
	"context"
	"io"
	"net/http"
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
// done releases both; call it when the request is answered. A request without
// a body passes as it is.
func (b *BodyBudget) Admit(r *http.Request) (_ *http.Request, done func(), err error) {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return r, func() {}, nil
	}
	var held int64
	release := func() {
		if b != nil && b.sem != nil && held > 0 {
			b.sem.Release(held)
		}
	}
	if b != nil && b.sem != nil {
		if r.ContentLength > 0 {
			n := min(r.ContentLength, b.total)
			if err := b.acquire(r.Context(), n); err != nil {
				return r, func() {}, err
			}
			held = n
		} else {
			cr := &chargedBody{ReadCloser: r.Body, b: b, ctx: r.Context()}
			r.Body = cr
			release = func() { cr.release() }
		}
	}
	sp := &Spool{}
	r = r.WithContext(WithSpool(r.Context(), sp))
	return r, func() { sp.Close(); release() }, nil
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

// chargedBody reserves a chunked body's bytes in the budget as they are read.
type chargedBody struct {
	io.ReadCloser
	b    *BodyBudget
	ctx  context.Context
	held int64
}

func (c *chargedBody) Read(p []byte) (int, error) {
	if left := c.b.total - c.held; int64(len(p)) > left {
		p = p[:left] // never ask for more than the whole budget
	}
	if len(p) == 0 {
		return 0, task.Errorf(task.CodeBodyTooLarge, "", "the request body is larger than the gateway's body budget of %d bytes", c.b.total)
	}
	n, err := c.ReadCloser.Read(p)
	if n > 0 {
		if aerr := c.b.acquire(c.ctx, int64(n)); aerr != nil {
			return 0, aerr
		}
		c.held += int64(n)
	}
	return n, err
}

func (c *chargedBody) release() {
	if c.held > 0 {
		c.b.sem.Release(c.held)
		c.held = 0
	}
}
