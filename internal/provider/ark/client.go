package ark

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
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

	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/tracing"
)

const (
	tasksPath = "/contents/generations/tasks"
	// maxPageSize is the list endpoint's page_size limit.
	maxPageSize = 500
	// defaultCreateTimeout bounds one create call (a body may carry 64 MB of images).
	defaultCreateTimeout = 60 * time.Second
	// readTimeout bounds get, list and delete calls.
	readTimeout = 20 * time.Second
)

// APIError is an error answer of the upstream API.
type APIError struct {
	Status     int
	Code       string // Ark's code, e.g. "InvalidParameter"; "" when the body was not Ark's envelope
	Message    string
	Param      string
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	if e.Code == "" {
		return fmt.Sprintf("upstream answered HTTP %d", e.Status)
	}
	return fmt.Sprintf("upstream answered HTTP %d %s: %s", e.Status, e.Code, e.Message)
}

// TransportError is a call that got no usable answer: it failed on the network,
// timed out, or the answer was malformed. Sent reports whether the request had
// been written completely, so the upstream may have acted on it.
type TransportError struct {
	Op   string
	Err  error
	Sent bool
}

func (e *TransportError) Error() string { return fmt.Sprintf("upstream %s: %v", e.Op, e.Err) }
func (e *TransportError) Unwrap() error { return e.Err }

// client calls one channel's API. Keys are passed per call.
type client struct {
	http          *http.Client
	base          string
	createTimeout time.Duration
	userAgent     string
	channel       string
	observe       func(channel, key, op string, status int, d time.Duration) // nil: none
}

// listQuery is the list endpoint's parameters.
type listQuery struct {
	PageNum, PageSize int
	Status            string
	TaskIDs           []string
	Model             string
	ServiceTier       string
}

func (q listQuery) encode() string {
	v := url.Values{}
	if q.PageNum > 0 {
		v.Set("page_num", strconv.Itoa(q.PageNum))
	}
	if q.PageSize > 0 {
		v.Set("page_size", strconv.Itoa(q.PageSize))
	}
	if q.Status != "" {
		v.Set("filter.status", q.Status)
	}
	for _, id := range q.TaskIDs {
		v.Add("filter.task_ids", id)
	}
	if q.Model != "" {
		v.Set("filter.model", q.Model)
	}
	if q.ServiceTier != "" {
		v.Set("filter.service_tier", q.ServiceTier)
	}
	return v.Encode()
}

func (c *client) create(ctx context.Context, key *routing.Key, body []byte) (string, error) {
	data, err := c.do(ctx, "create", http.MethodPost, tasksPath, key, body, c.createTimeout)
	if err != nil {
		return "", err
	}
	id, err := decodeCreated(data)
	if err != nil {
		// The upstream answered 200: the task exists, only its id is unknown.
		return "", &TransportError{Op: "create", Err: err, Sent: true}
	}
	return id, nil
}

func (c *client) get(ctx context.Context, key *routing.Key, id string) (*Task, error) {
	data, err := c.do(ctx, "get", http.MethodGet, tasksPath+"/"+url.PathEscape(id), key, nil, readTimeout)
	if err != nil {
		return nil, err
	}
	t, err := DecodeTask(data)
	if err != nil {
		return nil, &TransportError{Op: "get", Err: err, Sent: true}
	}
	return t, nil
}

func (c *client) list(ctx context.Context, key *routing.Key, q listQuery) ([]*Task, int, error) {
	data, err := c.do(ctx, "list", http.MethodGet, tasksPath+"?"+q.encode(), key, nil, readTimeout)
	if err != nil {
		return nil, 0, err
	}
	items, total, err := DecodeList(data)
	if err != nil {
		return nil, 0, &TransportError{Op: "list", Err: err, Sent: true}
	}
	return items, total, nil
}

func (c *client) delete(ctx context.Context, key *routing.Key, id string) error {
	_, err := c.do(ctx, "delete", http.MethodDelete, tasksPath+"/"+url.PathEscape(id), key, nil, readTimeout)
	return err
}

// do sends one call and returns a 2xx answer's body; anything else is an
// *APIError or a *TransportError.
func (c *client) do(ctx context.Context, op, method, path string, key *routing.Key, body []byte, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var sent atomic.Bool // written by the transport's goroutine
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(i httptrace.WroteRequestInfo) {
			if i.Err == nil {
				sent.Store(true)
			}
		},
	})
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, &TransportError{Op: op, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+key.Secret)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	req.Header.Set("X-Client-Request-Id", newRequestID())
	tracing.Inject(ctx, req.Header) // the step's span: the upstream may join the task's trace
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.observed(key, op, 0, start)
		return nil, &TransportError{Op: op, Err: redact(err), Sent: sent.Load()}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	c.observed(key, op, resp.StatusCode, start)
	if err == nil && len(data) > maxAnswerBytes {
		err = errors.New("answer larger than 8 MB")
	}
	if resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		if err != nil {
			return nil, &TransportError{Op: op, Err: err, Sent: true}
		}
		return data, nil
	}
	e := &APIError{Status: resp.StatusCode, RetryAfter: retryAfter(resp.Header.Get("Retry-After"))}
	if code, msg, param, ok := decodeAPIError(data); ok {
		e.Code, e.Message, e.Param = code, msg, param
	}
	return nil, e
}

// observed reports a call that ended now (status 0: no answer).
func (c *client) observed(key *routing.Key, op string, status int, start time.Time) {
	if c.observe != nil {
		c.observe(c.channel, key.ID, op, status, time.Since(start))
	}
}

// redact drops the URL from a *url.Error (it repeats query strings).
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", strings.ToLower(ue.Op), ue.Err)
	}
	return err
}

// retryAfter parses a Retry-After header in seconds (dates are rare from APIs).
func retryAfter(v string) time.Duration {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, 10*time.Minute)
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "seedgate-" + hex.EncodeToString(b[:])
}
