// Package client is the Go client for a seedgate gateway's native API
// (/v1/jobs, /v1/files, /v1/models).
//
// Every call takes a context; failures the gateway reports come back as an
// *APIError carrying its status, stable code, message, the field at fault and
// the request id, and match the sentinels ErrNotFound, ErrUnauthorized and
// ErrRateLimited with errors.Is. Wait follows a job to its end, over the
// gateway's Server-Sent Events stream when it has one and by polling with
// backoff otherwise, reporting progress to a callback.
//
//	c := client.New(client.WithBaseURL("http://localhost:8000"), client.WithAPIKey(os.Getenv("SEEDGATE_KEY")))
//	job, err := c.CreateJob(ctx, client.CreateJobRequest{
//		Model: "seedance-1-5-pro",
//		Input: client.Input{Prompt: "a red fox running through snow", Duration: client.Int(5)},
//	})
//	job, err = c.Wait(ctx, job.ID, client.WaitOptions{Progress: func(j *client.Job) { fmt.Println(j.Progress) }})
//	_, err = c.Download(ctx, job.Output.Videos[0].URL, file)
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// DefaultBaseURL is where a gateway started with `seedgate serve` listens.
const DefaultBaseURL = "http://localhost:8000"

// Client calls one gateway. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	baseErr   error
	key       string
	hc        *http.Client
	userAgent string
}

// Option configures a Client.
type Option func(*Client)

// WithBaseURL sets the gateway's base URL (default DefaultBaseURL), e.g.
// "https://gateway.example.com". A path prefix is kept.
func WithBaseURL(u string) Option {
	return func(c *Client) {
		parsed, err := url.Parse(strings.TrimRight(u, "/"))
		if err == nil && (parsed.Scheme != "http" && parsed.Scheme != "https" || parsed.Host == "") {
			err = fmt.Errorf("want http(s)://host[:port]")
		}
		if err != nil {
			c.baseErr = fmt.Errorf("seedgate: base URL %q: %w", u, err)
			return
		}
		c.base, c.baseErr = parsed, nil
	}
}

// WithAPIKey sets the key sent as "Authorization: Bearer <key>". Open gateways need none.
func WithAPIKey(key string) Option { return func(c *Client) { c.key = key } }

// WithHTTPClient sets the http.Client used for every call (default: a client
// without a timeout; bound calls with their context).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client. A malformed base URL is reported by the first call.
func New(opts ...Option) *Client {
	c := &Client{hc: &http.Client{}, userAgent: "seedgate-go-client"}
	WithBaseURL(DefaultBaseURL)(c)
	for _, o := range opts {
		o(c)
	}
	return c
}

// BaseURL returns the gateway's base URL.
func (c *Client) BaseURL() string {
	if c.base == nil {
		return ""
	}
	return c.base.String()
}

// endpoint joins the base URL and an API path (with an optional query).
func (c *Client) endpoint(path string, q url.Values) (string, error) {
	if c.baseErr != nil {
		return "", c.baseErr
	}
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// sameOrigin reports whether u points at the gateway, so the key may go with it.
func (c *Client) sameOrigin(u *url.URL) bool {
	return c.base != nil && strings.EqualFold(u.Scheme, c.base.Scheme) && strings.EqualFold(u.Host, c.base.Host)
}

func (c *Client) newRequest(ctx context.Context, method, rawURL string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, rawURL, body)
	if err != nil {
		return nil, fmt.Errorf("seedgate: %w", err)
	}
	if c.key != "" && c.sameOrigin(req.URL) {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	return req, nil
}

// do sends a JSON request (in may be nil) and decodes a 2xx JSON answer into out.
func (c *Client) do(ctx context.Context, method, path string, q url.Values, in, out any) error {
	u, err := c.endpoint(path, q)
	if err != nil {
		return err
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("seedgate: encoding the request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := c.newRequest(ctx, method, u, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	return c.send(req, out)
}

// send runs req and decodes its answer into out, or returns the *APIError it carries.
func (c *Client) send(req *http.Request, out any) error {
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("seedgate: %s %s: %w", req.Method, req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("seedgate: %s %s: decoding the answer: %w", req.Method, req.URL.Redacted(), err)
	}
	return nil
}
