// Package safehttp is the one HTTP client for URLs that come from users (input
// images, webhook targets). It checks every IP address when it is dialled, not
// when the URL is parsed, so neither DNS tricks (rebinding, names that resolve
// to 127.0.0.1) nor redirects can reach loopback, private networks or cloud
// metadata endpoints.
//
// The deny lists are code.dny.dev/ssrf's (kept in sync with the IANA special
// purpose registries); this package adds the allow list for private
// deployments, the scheme checks and errors that say why a URL was refused.
package safehttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"
)

// Options configure a client. The zero value is the safe default.
type Options struct {
	// AllowPrivate lists prefixes let through although they are not public:
	// tests (127.0.0.0/8) and private deployments (SEEDGATE_ALLOW_PRIVATE_URLS).
	// An address inside one of them is trusted on any port.
	AllowPrivate []netip.Prefix
	// AllowedPorts for public addresses; nil means 80 and 443.
	AllowedPorts []uint16
	// Timeout bounds a whole request, reading the body included; 0 means 30 s.
	Timeout time.Duration
	// MaxRedirects is how many redirects are followed; 0 means 5, negative none.
	MaxRedirects int
}

const (
	defaultTimeout      = 30 * time.Second
	defaultMaxRedirects = 5
)

var defaultPorts = []uint16{80, 443}

// RefusedError says why a URL or an address was refused.
type RefusedError struct {
	// Addr is the refused IP address; invalid when the refusal is about the
	// scheme or the network.
	Addr netip.Addr
	// Reason is a sentence for people, e.g. "127.0.0.1 is a loopback address".
	Reason string
}

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// TooLargeError is returned when a response body exceeds the caller's limit.
type TooLargeError struct {
	Limit int64
}

func (e *TooLargeError) Error() string {
	return "response is larger than the limit of " + FormatBytes(e.Limit)
}

// StatusError is returned by Get for a response that is not 2xx.
type StatusError struct {
	StatusCode int
	Status     string
}

func (e *StatusError) Error() string { return "unexpected HTTP status " + e.Status }

// New returns a client that refuses non-public destinations at dial time,
// speaks only http and https, re-checks every redirect and ignores the
// environment's proxy settings (a proxy would dial on our behalf, unchecked).
func New(opts Options) *http.Client {
	g := newGuard(opts)
	dialer := &net.Dialer{
		Timeout:   10 * time.Second,
		KeepAlive: 30 * time.Second,
		Control:   g.control,
	}
	transport := &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = defaultTimeout
	}
	maxRedirects := opts.MaxRedirects
	if maxRedirects == 0 {
		maxRedirects = defaultMaxRedirects
	}
	return &http.Client{
		Transport: schemeGuard{transport},
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return fmt.Errorf("stopped after %d redirects", maxRedirects)
			}
			// The new hop is dialled through the same guard; the scheme is checked here
			// so the error names the redirect.
			if err := CheckScheme(req.URL); err != nil {
				return fmt.Errorf("redirect to %s: %w", req.URL.Redacted(), err)
			}
			return nil
		},
	}
}

// CheckScheme refuses URLs that are not absolute http or https URLs.
func CheckScheme(u *url.URL) error {
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return &RefusedError{Reason: fmt.Sprintf("scheme %q is not allowed (only http and https)", u.Scheme)}
	}
	if u.Host == "" {
		return &RefusedError{Reason: "the URL has no host"}
	}
	return nil
}

// schemeGuard refuses non-http(s) requests before they reach the transport,
// whoever built them.
type schemeGuard struct{ next *http.Transport }

func (s schemeGuard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := CheckScheme(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	return s.next.RoundTrip(req)
}

func (s schemeGuard) CloseIdleConnections() { s.next.CloseIdleConnections() }

type guard struct {
	allow    []netip.Prefix
	ports    []uint16
	guardian *ssrf.Guardian
}

func newGuard(opts Options) *guard {
	ports := opts.AllowedPorts
	if ports == nil {
		ports = defaultPorts
	}
	return &guard{
		allow: opts.AllowPrivate,
		ports: ports,
		// Ports and networks are checked here (after the address), so that a
		// refusal names the address first: it is the more useful reason.
		guardian: ssrf.New(ssrf.WithAnyPort(), ssrf.WithAnyNetwork()),
	}
}

// control is the net.Dialer Control hook: it runs for every address the
// dialer is about to connect to, after name resolution.
func (g *guard) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return &RefusedError{Reason: fmt.Sprintf("network %s is not allowed", network)}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &RefusedError{Reason: fmt.Sprintf("cannot parse address %q", address)}
	}
	return g.check(ap)
}

func (g *guard) check(ap netip.AddrPort) error {
	addr := ap.Addr()
	if g.allowed(addr) {
		return nil
	}
	// Mapped addresses (::ffff:127.0.0.1) are refused outright: they are a
	// classic way to smuggle an IPv4 address past IPv6-only checks.
	if addr.Is4In6() || g.guardian.SafeAddr(addr) != nil {
		return &RefusedError{Addr: addr, Reason: addr.String() + " is " + describe(addr)}
	}
	if !slices.Contains(g.ports, ap.Port()) {
		return &RefusedError{Addr: addr, Reason: fmt.Sprintf("port %d is not allowed (allowed: %s)", ap.Port(), joinPorts(g.ports))}
	}
	return nil
}

func (g *guard) allowed(addr netip.Addr) bool {
	for _, p := range g.allow {
		if p.Contains(addr) || (addr.Is4In6() && p.Contains(addr.Unmap())) {
			return true
		}
	}
	return false
}

var (
	cgnat           = netip.MustParsePrefix("100.64.0.0/10")
	thisNetwork     = netip.MustParsePrefix("0.0.0.0/8")
	benchmarking    = netip.MustParsePrefix("198.18.0.0/15")
	reservedV4      = netip.MustParsePrefix("240.0.0.0/4")
	nat64           = netip.MustParsePrefix("64:ff9b::/96")
	sixToFour       = netip.MustParsePrefix("2002::/16")
	documentation   = []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24"), netip.MustParsePrefix("198.51.100.0/24"), netip.MustParsePrefix("203.0.113.0/24"), netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("3fff::/20")}
	metadataAddrs   = []netip.Addr{netip.MustParseAddr("169.254.169.254"), netip.MustParseAddr("fd00:ec2::254"), netip.MustParseAddr("100.100.100.200")}
	broadcastV4     = netip.MustParseAddr("255.255.255.255")
	ietfProtocolsV4 = netip.MustParsePrefix("192.0.0.0/24")
)

// describe names the kind of a non-public address, for error messages.
func describe(a netip.Addr) string {
	switch {
	case slices.Contains(metadataAddrs, a):
		return "a cloud metadata address"
	case a.Is4In6():
		return "an IPv4-mapped IPv6 address"
	case a.IsUnspecified():
		return "an unspecified address"
	case a.IsLoopback():
		return "a loopback address"
	case a.IsLinkLocalUnicast():
		return "a link-local address"
	case a.IsMulticast():
		return "a multicast address"
	case a.IsPrivate() && a.Is6():
		return "a unique local (private) address"
	case a.IsPrivate():
		return "a private address"
	case cgnat.Contains(a):
		return "a carrier-grade NAT (shared) address"
	case thisNetwork.Contains(a):
		return `a "this network" address`
	case a == broadcastV4:
		return "the broadcast address"
	case reservedV4.Contains(a):
		return "a reserved address"
	case benchmarking.Contains(a):
		return "a benchmarking address"
	case nat64.Contains(a):
		return "a NAT64 address"
	case sixToFour.Contains(a):
		return "a 6to4 address"
	case ietfProtocolsV4.Contains(a):
		return "an IETF protocol address"
	}
	for _, p := range documentation {
		if p.Contains(a) {
			return "a documentation address"
		}
	}
	return "not a public internet address"
}

func joinPorts(ports []uint16) string {
	s := make([]string, len(ports))
	for i, p := range ports {
		s[i] = strconv.Itoa(int(p))
	}
	return strings.Join(s, ", ")
}

// Get fetches rawURL with c (a client from New) and returns the response if
// its status is 2xx. Its Body returns a *TooLargeError once more than
// maxBytes were read; a response that announces a larger Content-Length is
// refused before its body is read. The caller closes the Body.
func Get(ctx context.Context, c *http.Client, rawURL string, maxBytes int64) (*http.Response, error) {
	return GetWithHeader(ctx, c, rawURL, nil, maxBytes)
}

// GetWithHeader is Get sending the headers h too (a key an upstream's result
// URL needs).
func GetWithHeader(ctx context.Context, c *http.Client, rawURL string, h http.Header, maxBytes int64) (*http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("invalid URL: %w", err)
	}
	if err := CheckScheme(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("invalid URL: %w", err)
	}
	for k, v := range h {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		resp.Body.Close()
		return nil, &StatusError{StatusCode: resp.StatusCode, Status: resp.Status}
	}
	if resp.ContentLength > maxBytes {
		resp.Body.Close()
		return nil, &TooLargeError{Limit: maxBytes}
	}
	resp.Body = &limitedBody{rc: resp.Body, left: maxBytes, limit: maxBytes}
	return resp, nil
}

// limitedBody reads at most limit bytes and fails, rather than truncating
// silently, when there is more.
type limitedBody struct {
	rc    io.ReadCloser
	left  int64
	limit int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, &TooLargeError{Limit: l.limit}
	}
	// Read one byte past the limit to tell "exactly at the limit" from "over it".
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.rc.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		return n + int(l.left), &TooLargeError{Limit: l.limit}
	}
	return n, err
}

func (l *limitedBody) Close() error { return l.rc.Close() }

// FormatBytes renders a size for messages: "30 MB", "1.5 KB", "17 bytes".
func FormatBytes(n int64) string {
	const kb, mb = 1 << 10, 1 << 20
	switch {
	case n >= mb:
		return strings.TrimSuffix(strconv.FormatFloat(float64(n)/mb, 'f', 1, 64), ".0") + " MB"
	case n >= kb:
		return strings.TrimSuffix(strconv.FormatFloat(float64(n)/kb, 'f', 1, 64), ".0") + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// IsRefused reports whether err (from New's client or Get) is a refusal by the guard.
func IsRefused(err error) bool {
	var re *RefusedError
	return errors.As(err, &re)
}
