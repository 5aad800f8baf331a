package arkemu

import (
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/task"
)

// FaultKind is what an injected fault does.
type FaultKind string

const (
	// FaultHTTPError answers Status with Code (default 500 InternalServiceError;
	// a Code alone gets its usual status) and Retry-After when RetryAfter > 0.
	// The operation does not happen.
	FaultHTTPError FaultKind = "http_error"
	// FaultSlow waits Delay, then handles the call normally (callbacks: sends late).
	FaultSlow FaultKind = "slow"
	// FaultDrop closes the connection without an answer; the operation does not
	// happen (callbacks: the callback is not sent at all).
	FaultDrop FaultKind = "drop"
	// FaultDropAfter performs the operation, then closes the connection without an
	// answer: for create, the upstream task IS created (reconciliation tests).
	FaultDropAfter FaultKind = "drop_after"
	// FaultMalformedJSON performs the operation and answers its status with a body
	// that is not valid JSON.
	FaultMalformedJSON FaultKind = "malformed_json"
	// FaultTruncatedJSON performs the operation and answers with the first half of
	// the body (Content-Length matches the half, so only the JSON is broken).
	FaultTruncatedJSON FaultKind = "truncated_json"
	// FaultLieStatus (callbacks only) sends CallbackStatus instead of the task's
	// real status (default: succeeded, or failed when the task did succeed).
	FaultLieStatus FaultKind = "lie_status"
)

// Fault is one injected misbehaviour, matched against calls by Op and APIKey.
type Fault struct {
	// Op is the operation it hits; "" hits every API operation (not callbacks).
	Op   Op
	Kind FaultKind
	// APIKey restricts the fault to one key (for callbacks: the task owner's); "" = any.
	APIKey string
	// Count is how many matching calls it hits. 0 means once, or, with
	// Probability set, without limit.
	Count int
	// Probability, when in (0,1), is the chance that a matching call is hit.
	Probability float64

	// Status, Code, Message and RetryAfter shape FaultHTTPError answers.
	Status     int
	Code       string
	Message    string
	RetryAfter time.Duration
	// Delay is FaultSlow's wait.
	Delay time.Duration
	// CallbackStatus is the status FaultLieStatus claims.
	CallbackStatus task.Status
}

type faultRule struct {
	Fault
	left int // remaining hits; -1 = unlimited
}

// InjectFault adds a fault rule. Rules are tried in the order they were added;
// the first match is used. Safe for concurrent use.
func (s *Server) InjectFault(f Fault) {
	left := f.Count
	if left <= 0 {
		left = 1
		if f.Probability > 0 {
			left = -1
		}
	}
	s.mu.Lock()
	s.faults = append(s.faults, &faultRule{Fault: f, left: left})
	s.mu.Unlock()
}

// ClearFaults removes every fault rule and pending FailNext code.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	s.faults = nil
	s.failNext = nil
	s.mu.Unlock()
}

// FailNext makes the next created task fail with code (e.g.
// "OutputVideoSensitiveContentDetected") when it would have succeeded. Calls queue
// up: each applies to one task, in order.
func (s *Server) FailNext(code string) {
	s.mu.Lock()
	s.failNext = append(s.failNext, code)
	s.mu.Unlock()
}

// takeFault consumes and returns the first rule matching op and key, or nil.
func (s *Server) takeFault(op Op, key string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.takeFaultLocked(op, key)
}

func (s *Server) takeFaultLocked(op Op, key string) *Fault {
	for i, r := range s.faults {
		if r.Op != op && (r.Op != "" || op == OpCallback) {
			continue
		}
		if r.APIKey != "" && r.APIKey != key {
			continue
		}
		if r.Probability > 0 && r.Probability < 1 && s.rng.Float64() >= r.Probability {
			continue
		}
		f := r.Fault
		if r.left > 0 {
			r.left--
			if r.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &f
	}
	return nil
}

// Prompt markers: "[ark:fail=CODE]" makes the task fail with CODE when it
// finishes running; "[ark:reject=CODE]" makes the create call itself fail with
// CODE and its usual HTTP status.
const (
	failMarker   = "[ark:fail="
	rejectMarker = "[ark:reject="
)

func promptMarker(prompt, marker string) string {
	_, rest, ok := strings.Cut(prompt, marker)
	if !ok {
		return ""
	}
	code, _, ok := strings.Cut(rest, "]")
	if !ok {
		return ""
	}
	return strings.TrimSpace(code)
}
