package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Sentinels that an *APIError matches with errors.Is.
var (
	// ErrNotFound: the job, file, model or route does not exist (HTTP 404).
	ErrNotFound = errors.New("seedgate: not found")
	// ErrUnauthorized: the API key is missing or not valid (HTTP 401).
	ErrUnauthorized = errors.New("seedgate: unauthorized")
	// ErrRateLimited: too many requests or a quota is exhausted (HTTP 429);
	// APIError.RetryAfter says when to try again if the gateway said.
	ErrRateLimited = errors.New("seedgate: rate limited")
	// ErrConflict: the job's state does not allow the call, e.g. cancelling a
	// running job (HTTP 409).
	ErrConflict = errors.New("seedgate: conflict")
)

// APIError is an error answer from the gateway:
// {"error":{"code","message","field","upstream_code","request_id"}}.
type APIError struct {
	Status       int    // HTTP status
	Code         string // stable code: invalid_parameter, not_found, rate_limited, …
	Message      string
	Field        string // the request field at fault, e.g. "input.duration"
	UpstreamCode string // the upstream's own code, when the upstream failed the call
	RequestID    string // quote it when reporting a problem
	// RetryAfter is the server's Retry-After, when it sent one.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seedgate: %d %s", e.Status, e.Code)
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	if e.Field != "" {
		b.WriteString(" (field " + e.Field + ")")
	}
	if e.RequestID != "" {
		b.WriteString(" [request " + e.RequestID + "]")
	}
	return b.String()
}

// Is matches the package's sentinels by status or code.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound || e.Code == "not_found"
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Code == "unauthorized"
	case ErrRateLimited:
		return e.Status == http.StatusTooManyRequests || e.Code == "rate_limited"
	case ErrConflict:
		return e.Status == http.StatusConflict || e.Code == "conflict"
	}
	return false
}

// Temporary reports whether the same call may succeed later (429, 502, 503, 504).
func (e *APIError) Temporary() bool {
	switch e.Status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// decodeError turns a non-2xx answer into an *APIError, whatever its body.
func decodeError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	e := &APIError{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	var env struct {
		Error struct {
			Code         string `json:"code"`
			Message      string `json:"message"`
			Field        string `json:"field"`
			UpstreamCode string `json:"upstream_code"`
			RequestID    string `json:"request_id"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &env) == nil && env.Error.Code != "" {
		e.Code, e.Message, e.Field, e.UpstreamCode = env.Error.Code, env.Error.Message, env.Error.Field, env.Error.UpstreamCode
		if env.Error.RequestID != "" {
			e.RequestID = env.Error.RequestID
		}
	} else {
		e.Code = codeForStatus(resp.StatusCode)
		e.Message = strings.TrimSpace(string(body))
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
	}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
		e.RetryAfter = time.Duration(min(s, 86400)) * time.Second // a day at most: larger would overflow
	}
	return e
}

// codeForStatus names a status for answers without a JSON error (a proxy's page, say).
func codeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_parameter"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return "unavailable"
	}
	return "http_" + strconv.Itoa(status)
}
