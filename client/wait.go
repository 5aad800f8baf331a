package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// WaitOptions tunes Wait. The zero value is ready to use.
type WaitOptions struct {
	// Progress, when set, is called with the job each time its status or
	// progress changes, and once more with the final job.
	Progress func(*Job)
	// PollInterval is the first delay between polls (default 500ms); it grows
	// by half while nothing changes, up to MaxPollInterval (default 5s), and
	// drops back when something does.
	PollInterval    time.Duration
	MaxPollInterval time.Duration
	// NoEvents makes Wait poll even when the gateway has an event stream.
	NoEvents bool
}

const (
	defaultPollInterval    = 500 * time.Millisecond
	defaultMaxPollInterval = 5 * time.Second
	// streamReconnects bounds how often a dropped event stream is reopened
	// before Wait falls back to polling.
	streamReconnects = 5
)

var (
	// errNoEvents: the gateway has no event stream for jobs.
	errNoEvents = errors.New("seedgate: the gateway has no job event stream")
	// errStreamOver: the stream has nothing more to send (HTTP 204).
	errStreamOver = errors.New("seedgate: the event stream is over")
)

// Wait blocks until job id has ended (succeeded, failed, cancelled or expired)
// or ctx is done, and returns the final job. A job that ended badly is not an
// error of Wait: check job.Err(). Wait follows GET /v1/jobs/{id}/events
// (Server-Sent Events) when the gateway serves it, and otherwise polls
// GET /v1/jobs/{id} with backoff, honouring Retry-After.
func (c *Client) Wait(ctx context.Context, id string, o WaitOptions) (*Job, error) {
	if o.PollInterval <= 0 {
		o.PollInterval = defaultPollInterval
	}
	if o.MaxPollInterval < o.PollInterval {
		o.MaxPollInterval = max(defaultMaxPollInterval, o.PollInterval)
	}
	w := &waiter{c: c, id: id, o: o}
	j, err := c.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	if w.report(j) {
		return j, nil
	}
	if !o.NoEvents {
		j, err := w.follow(ctx)
		if err == nil {
			return j, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// No stream, or it kept failing: polling finds the job's state (or the real error).
	}
	return w.poll(ctx)
}

type waiter struct {
	c       *Client
	id      string
	o       WaitOptions
	last    *Job
	eventID string // the last event id seen, sent as Last-Event-ID on reconnect
}

// report passes j to the callback when it differs from the last one seen, and
// reports whether j has ended.
func (w *waiter) report(j *Job) bool {
	changed := w.last == nil || w.last.Status != j.Status || w.last.Output.Status != j.Output.Status ||
		w.last.Progress != j.Progress
	w.last = j
	if changed && w.o.Progress != nil {
		w.o.Progress(j)
	}
	return j.Done()
}

func (w *waiter) poll(ctx context.Context) (*Job, error) {
	interval := w.o.PollInterval
	for {
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
		prev := w.last
		j, err := w.c.GetJob(ctx, w.id)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			var ae *APIError
			if errors.As(err, &ae) && !ae.Temporary() {
				return nil, err
			}
			// A network failure or an overloaded gateway: back off and try again.
			interval = min(interval*2, w.o.MaxPollInterval)
			if ae != nil && ae.RetryAfter > interval {
				interval = ae.RetryAfter
			}
			continue
		}
		if w.report(j) {
			return j, nil
		}
		if prev != nil && prev.Progress == j.Progress && prev.Output.Status == j.Output.Status {
			interval = min(interval*3/2, w.o.MaxPollInterval)
		} else {
			interval = w.o.PollInterval
		}
	}
}

// follow reads the job's event stream until the job ends. errNoEvents (or an
// *APIError) means the stream is not available and the caller should poll.
func (w *waiter) follow(ctx context.Context) (*Job, error) {
	var lastErr error
	for attempt := 0; attempt < streamReconnects; attempt++ {
		if attempt > 0 {
			t := time.NewTimer(min(w.o.PollInterval*time.Duration(attempt), w.o.MaxPollInterval))
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
		j, err := w.stream(ctx)
		if err == nil {
			return j, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var ae *APIError
		if errors.Is(err, errNoEvents) || errors.As(err, &ae) && !ae.Temporary() {
			return nil, err
		}
		lastErr = err
		// The stream ended or broke: the job may have ended in between.
		j, err = w.c.GetJob(ctx, w.id)
		if err != nil {
			return nil, err
		}
		if w.report(j) {
			return j, nil
		}
	}
	return nil, fmt.Errorf("seedgate: event stream kept breaking: %w", lastErr)
}

// stream opens the event stream once and reads it. It returns the final job,
// or an error when the stream is unavailable, ends or breaks first.
func (w *waiter) stream(ctx context.Context) (*Job, error) {
	u, err := w.c.endpoint("/v1/jobs/"+url.PathEscape(w.id)+"/events", nil)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req, err := w.c.newRequest(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	if w.eventID != "" {
		req.Header.Set("Last-Event-ID", w.eventID)
	}
	resp, err := w.c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed:
		return nil, errNoEvents // an older gateway (the job itself was found just before)
	case resp.StatusCode == http.StatusNoContent:
		return nil, errStreamOver // nothing more to send: the job has ended
	case resp.StatusCode != http.StatusOK:
		return nil, decodeError(resp)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return nil, errNoEvents
	}
	var final *Job
	err = readEvents(resp.Body, func(id, data string) (bool, error) {
		if id != "" {
			w.eventID = id
		}
		j, err := w.event(ctx, data)
		if err != nil {
			return false, err
		}
		if w.report(j) {
			final = j
			return true, nil
		}
		return false, nil
	})
	if err != nil || final != nil {
		return final, err
	}
	return nil, errors.New("seedgate: the event stream ended before the job did")
}

// readEvents reads a Server-Sent Events stream and calls fn with each event's
// id (the last one given so far in the stream) and data, until fn says stop,
// fails, or the stream ends. Comments and unknown fields are skipped.
func readEvents(r io.Reader, fn func(id, data string) (stop bool, err error)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	var data strings.Builder
	var id string
	hasData := false
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch {
		case line == "":
			if !hasData {
				continue
			}
			stop, err := fn(id, data.String())
			data.Reset()
			hasData = false
			if err != nil || stop {
				return err
			}
		case field == "": // a comment: keep-alive
		case field == "id":
			id = value
		case field == "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.WriteString(value)
			hasData = true
		}
	}
	return sc.Err()
}

// event turns one event's data into the job it describes. An event that
// carries the job (the jobs API object, bare or under "job") is used as is;
// any other event is a hint that something changed, and the job is fetched.
func (w *waiter) event(ctx context.Context, data string) (*Job, error) {
	var j Job
	if json.Unmarshal([]byte(data), &j) == nil && j.ID == w.id && j.Status != "" {
		return &j, nil
	}
	var wrapped struct {
		Job *Job `json:"job"`
	}
	if json.Unmarshal([]byte(data), &wrapped) == nil && wrapped.Job != nil && wrapped.Job.ID == w.id && wrapped.Job.Status != "" {
		return wrapped.Job, nil
	}
	return w.c.GetJob(ctx, w.id)
}
