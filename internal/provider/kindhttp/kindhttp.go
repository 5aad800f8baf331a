// Package kindhttp is the HTTP call the channel kinds that speak one of the
// gateway's own JSON dialects make (jobs, videos, seedance): the channel's key
// as a bearer token, a JSON body, and every failure as an *upstream.CallError
// that says whether the request may have reached the upstream.
package kindhttp

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/tracing"
)

const (
	// CreateTimeout bounds a create when the channel sets no timeout (a body
	// may carry images inline).
	CreateTimeout = 60 * time.Second
	// ReadTimeout bounds status, lookup and cancel calls.
	ReadTimeout = 20 * time.Second
	// maxAnswerBytes bounds an answer read into memory.
	maxAnswerBytes = 8 << 20
)

// ErrorDecoder reads a dialect's error answer; ok is false when the body is
// not that dialect's error shape (a proxy's page, say). param is the request
// field at fault, as the task's request names it.
type ErrorDecoder func(data []byte) (code, param, message string, ok bool)

// Client calls channels of one kind.
type Client struct {
	HTTP      *http.Client // nil: http.DefaultClient's transport, no overall timeout
	UserAgent string
	// DecodeError reads the kind's error answers.
	DecodeError ErrorDecoder
	// Observe, when set, hears of every call: channel, key id, operation,
	// HTTP status (0: no answer) and duration.
	Observe func(channel, key, op string, status int, d time.Duration)
}

// Request is one call.
type Request struct {
	// Op names the call for Observe (create, get, list, cancel, lookup).
	Op           string
	Method, Path string
	Body         any // JSON-encoded when not nil
	// Marker, when set, is sent as Idempotency-Key and X-Client-Request-Id:
	// an upstream that honours them answers a repeat with the first answer
	// and files the task under that request id.
	Marker string
	// Create: the call's timeout is the channel's (else CreateTimeout);
	// other calls get ReadTimeout.
	Create bool
}

// Do sends r to the call's channel with the call's key and returns a 2xx
// answer's status and body. Any other outcome is an *upstream.CallError.
func (c *Client) Do(ctx context.Context, call upstream.Call, r Request) (int, []byte, error) {
	timeout := ReadTimeout
	if r.Create {
		timeout = CreateTimeout
		if call.Channel != nil && call.Channel.Timeout > 0 {
			timeout = call.Channel.Timeout // the channels file's timeout is per create
		}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if r.Body != nil {
		data, err := json.Marshal(r.Body)
		if err != nil {
			return 0, nil, &upstream.CallError{Err: fmt.Errorf("encode %s %s: %w", r.Method, r.Path, err)}
		}
		body = bytes.NewReader(data)
	}
	// Sent once the headers are out: from then on the upstream may act on the
	// request even if the answer never comes.
	var sent atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteHeaders: func() { sent.Store(true) }})
	base := ""
	if call.Channel != nil {
		base = strings.TrimRight(call.Channel.BaseURL, "/")
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, base+r.Path, body)
	if err != nil {
		return 0, nil, &upstream.CallError{Err: err}
	}
	if call.Key != nil {
		req.Header.Set("Authorization", "Bearer "+call.Key.Secret)
	}
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.Marker != "" {
		req.Header.Set("Idempotency-Key", r.Marker)
		req.Header.Set("X-Client-Request-Id", r.Marker)
	}
	tracing.Inject(ctx, req.Header)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		c.observe(call, r.Op, 0, start)
		return 0, nil, &upstream.CallError{Sent: sent.Load(), Err: redact(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	c.observe(call, r.Op, resp.StatusCode, start)
	if err == nil && len(data) > maxAnswerBytes {
		err = errors.New("answer larger than 8 MB")
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if err != nil {
			return 0, nil, &upstream.CallError{Status: resp.StatusCode, Sent: true, Err: redact(err)}
		}
		return resp.StatusCode, data, nil
	}
	e := &upstream.CallError{Status: resp.StatusCode, Sent: true, RetryAfter: RetryAfter(resp.Header.Get("Retry-After"))}
	if c.DecodeError != nil {
		if code, param, msg, ok := c.DecodeError(data); ok {
			e.FromUpstream, e.Code, e.Param, e.Message = true, code, param, msg
		}
	}
	if r.Marker != "" && e.Status == http.StatusConflict && e.Param == "Idempotency-Key" {
		// The first create under this marker is still being processed
		// upstream: its outcome is not known yet, which is no refusal.
		e.Status, e.FromUpstream = 0, false
		e.Err = errors.New("the upstream is still processing an earlier create of this task")
	}
	return 0, nil, e
}

func (c *Client) observe(call upstream.Call, op string, status int, start time.Time) {
	if c.Observe == nil || call.Channel == nil || call.Key == nil {
		return
	}
	c.Observe(call.Channel.Name, call.Key.ID, op, status, time.Since(start))
}

// Malformed is a 2xx answer the kind cannot believe: the call went through,
// what it did is unknown.
func Malformed(status int, err error) *upstream.CallError {
	return &upstream.CallError{Status: status, Sent: true, Err: err}
}

// Marker is the request id and idempotency key of a task's create: derived
// from the task id alone, so every instance and every retry sends the same.
func Marker(taskID string) string {
	if len(taskID) > 60 {
		sum := sha256.Sum256([]byte(taskID))
		taskID = base64.RawURLEncoding.EncodeToString(sum[:24])
	}
	return "sg-" + taskID
}

// RetryAfter parses a Retry-After header: seconds or an HTTP date, capped at
// ten minutes.
func RetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.Atoi(v); err == nil {
		d = time.Duration(n) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = time.Until(at)
	}
	return min(max(d, 0), 10*time.Minute)
}

// redact drops the URL from a *url.Error (it may carry query strings).
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// PathID escapes an upstream id for a URL path.
func PathID(id string) string { return url.PathEscape(id) }

// Options configure a kind that speaks one of the gateway's own dialects.
type Options struct {
	HTTP *http.Client // nil: a default client
	// Callbacks are the gateway's callback URLs for the kind (their Base is
	// "" without a public gateway URL: status is then polled).
	Callbacks Callbacks
	Observe   func(channel, key, op string, status int, d time.Duration)
}

// NewClient is the client of a kind named kind, reading errors with
// decodeError; it fills o.Callbacks.Kind.
func NewClient(kind string, o *Options, decodeError ErrorDecoder) Client {
	o.Callbacks.Kind = kind
	return Client{HTTP: o.HTTP, UserAgent: "seedgate", DecodeError: decodeError, Observe: o.Observe}
}

// Create posts a task's create body to path under the task's marker and
// reads the upstream's id from the answer with decodeID.
func (c Client) Create(ctx context.Context, call upstream.Call, taskID, path string, body any,
	decodeID func([]byte) (string, error)) (string, error) {
	status, data, err := c.Do(ctx, call, Request{Op: "create", Method: http.MethodPost, Path: path, Body: body,
		Marker: Marker(taskID), Create: true})
	if err != nil {
		return "", err
	}
	id, err := decodeID(data)
	if err != nil {
		return "", Malformed(status, err)
	}
	return id, nil
}

// FoundByResend is Lookup for a kind whose upstream honours Idempotency-Key:
// the create sent again under the same marker answers with the task the first
// made, or makes it now if the first never arrived. Either way there is one
// task, so a create that succeeds has found it.
func FoundByResend(id string, err error) (string, bool, error) {
	if err != nil {
		return "", false, err
	}
	return id, true, nil
}
