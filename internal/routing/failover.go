package routing

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/seedgate/seedgate/internal/provider"
)

// Outcome sorts a failed create, for failover.
type Outcome int

const (
	// Rejected: the upstream refused the request itself (a 4xx about it);
	// another key would refuse it too. The task fails.
	Rejected Outcome = iota
	// KeyRefused: this key or its account cannot (401/403/404). The key is set
	// aside for a while and the next one tried.
	KeyRefused
	// Retry: nothing was created (429, the upstream's own 5xx, a request that
	// never left): the key cools down and the next one is tried.
	Retry
	// Unknown: the create may have gone through (a timeout after sending, a
	// proxy's 5xx, an answer that could not be read). The provider must
	// reconcile, never create blindly again.
	Unknown
)

// Cool-downs of a key after a failed create.
const (
	RateLimitedCoolDown = 3 * time.Second // 429, at least (or its Retry-After)
	UnavailableCoolDown = 5 * time.Second // the upstream's 5xx, or nothing sent
	KeyRefusedCoolDown  = time.Minute     // 401/403/404
)

// ClassifyStatus sorts an HTTP answer to a create. fromUpstream says the body
// was the upstream's own error (its envelope), not a proxy's page: only then
// does a 5xx prove nothing was created. retryAfter is the answer's hint.
// It returns how long to keep off the key.
func ClassifyStatus(status int, fromUpstream bool, retryAfter time.Duration) (Outcome, time.Duration) {
	switch {
	case status == http.StatusTooManyRequests:
		return Retry, max(retryAfter, RateLimitedCoolDown)
	case status >= 500 && fromUpstream:
		return Retry, max(retryAfter, UnavailableCoolDown)
	case status >= 500:
		return Unknown, 0 // a proxy's answer: the upstream may have acted
	case status == http.StatusUnauthorized, status == http.StatusForbidden, status == http.StatusNotFound:
		return KeyRefused, KeyRefusedCoolDown
	}
	return Rejected, 0
}

// ExhaustedError is Failover.Next's answer when every key that could take
// the create refused the account or model: waiting will not help.
type ExhaustedError struct {
	Last error // the last key's refusal
}

func (e *ExhaustedError) Error() string { return "every key refused: " + e.Last.Error() }
func (e *ExhaustedError) Unwrap() error { return e.Last }

// Failover walks the keys for one create: Next gives a key with room, Failed
// records that it did not work and why. It is used by one goroutine.
type Failover struct {
	r       *Router
	req     Request
	tried   map[Slot]bool
	lastErr error
	// onlyKeyErrs: every key tried refused the account or model.
	onlyKeyErrs bool
}

// Failover starts the walk for one create.
func (r *Router) Failover(req Request) *Failover {
	return &Failover{r: r, req: req, tried: map[Slot]bool{}, onlyKeyErrs: true}
}

// Next reserves the next key to try. With none it returns:
//   - a *provider.WaitError when no key has room now (the task stays queued,
//     nothing was created), with the last failure as the reason when there was one;
//   - an *ExhaustedError when every key refused for good;
//   - a *provider.WaitError of a few seconds when the load could not be read.
func (f *Failover) Next(ctx context.Context) (*Candidate, error) {
	c, wait, err := f.r.Pick(ctx, f.req, f.tried)
	if err != nil {
		return nil, provider.Wait(UnavailableCoolDown, err.Error())
	}
	if c == nil {
		if f.lastErr == nil {
			return nil, provider.Wait(wait, "every channel serving "+f.req.Model.ID+" is at its limits")
		}
		if f.onlyKeyErrs && len(f.tried) == f.r.slotCount(f.req.Model.ID, f.req.Pin) {
			return nil, &ExhaustedError{Last: f.lastErr}
		}
		return nil, provider.Wait(wait, f.lastErr.Error())
	}
	f.tried[c.Slot()] = true
	return c, nil
}

// Failed records that the create on c failed with err, sorted as o, and keeps
// the key off for coolDown; the next Next tries another key. For Rejected and
// Unknown the walk is over: Failed only releases the key (Rejected) and the
// caller acts on the outcome.
func (f *Failover) Failed(c *Candidate, o Outcome, coolDown time.Duration, err error) {
	switch o {
	case Unknown:
		return // the task may hold the key: its slot stays taken
	case Rejected:
		f.r.Release(f.req.TaskID)
		return
	case Retry:
		f.onlyKeyErrs = false
	}
	f.r.Release(f.req.TaskID)
	f.r.CoolDown(c.Slot(), coolDown)
	f.lastErr = err
}

// IsExhausted reports whether err is an *ExhaustedError, and its last refusal.
func IsExhausted(err error) (error, bool) {
	var ee *ExhaustedError
	if errors.As(err, &ee) {
		return ee.Last, true
	}
	return nil, false
}
