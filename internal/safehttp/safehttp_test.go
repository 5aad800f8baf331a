package safehttp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

func hello(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "hello") }

func TestLoopbackRefusedByDefault(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(hello))
	t.Cleanup(srv.Close)

	_, err := readAll(context.Background(), New(Options{}), srv.URL, 1<<20)
	require.Error(t, err)
	var re *RefusedError
	require.ErrorAs(t, err, &re)
	require.Equal(t, "127.0.0.1", re.Addr.String())
	require.Contains(t, err.Error(), "refused: 127.0.0.1 is a loopback address")
	require.True(t, IsRefused(err))
}

func TestHostnameResolvedAndChecked(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(hello))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)

	// A name is no way around the guard: the resolved address is checked.
	_, err = readAll(context.Background(), New(Options{}), "http://localhost:"+u.Port()+"/", 1<<20)
	require.Error(t, err)
	require.True(t, IsRefused(err), "got %v", err)
	require.Contains(t, err.Error(), "is a loopback address")
}

func TestAllowPrivate(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(hello))
	t.Cleanup(srv.Close)

	body, err := readAll(context.Background(), New(Options{AllowPrivate: loopback}), srv.URL, 1<<20)
	require.NoError(t, err)
	require.Equal(t, "hello", string(body))
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	target := httptest.NewServer(http.HandlerFunc(hello))
	t.Cleanup(target.Close)
	tu, err := url.Parse(target.URL)
	require.NoError(t, err)

	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	})
	// 127.0.0.2 is loopback too, but outside the allow list below.
	mux.HandleFunc("/private", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://127.0.0.2:"+tu.Port()+"/", http.StatusFound)
	})
	mux.HandleFunc("/metadata", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://169.254.169.254/latest/meta-data/", http.StatusFound)
	})
	mux.HandleFunc("/file", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/loop", http.StatusFound)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	client := New(Options{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, MaxRedirects: 3})
	tests := []struct {
		path    string
		wantErr string // "" for success
		refused bool
	}{
		{"/ok", "", false},
		{"/private", "refused: 127.0.0.2 is a loopback address", true},
		{"/metadata", "refused: 169.254.169.254 is a cloud metadata address", true},
		{"/file", `refused: scheme "file" is not allowed`, true},
		{"/loop", "stopped after 3 redirects", false},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			t.Parallel()
			body, err := readAll(context.Background(), client, srv.URL+tt.path, 1<<20)
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.Equal(t, "hello", string(body))
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tt.wantErr)
			require.Equal(t, tt.refused, IsRefused(err))
		})
	}
}

func TestSizeLimit(t *testing.T) {
	t.Parallel()
	payload := strings.Repeat("x", 2048)
	mux := http.NewServeMux()
	mux.HandleFunc("/sized", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, payload) // small enough for net/http to set Content-Length
	})
	mux.HandleFunc("/chunked", func(w http.ResponseWriter, r *http.Request) {
		for range 4 {
			fmt.Fprint(w, payload[:512])
			w.(http.Flusher).Flush() // no Content-Length: the limit applies while reading
		}
	})
	mux.HandleFunc("/missing", http.NotFound)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	client := New(Options{AllowPrivate: loopback})
	ctx := context.Background()

	for _, path := range []string{"/sized", "/chunked"} {
		_, err := readAll(ctx, client, srv.URL+path, 1024)
		var tl *TooLargeError
		require.ErrorAs(t, err, &tl, path)
		require.Equal(t, int64(1024), tl.Limit)
		require.Equal(t, "response is larger than the limit of 1 KB", err.Error())

		body, err := readAll(ctx, client, srv.URL+path, 2048) // exactly at the limit is fine
		require.NoError(t, err, path)
		require.Equal(t, payload, string(body))
	}

	_, err := readAll(ctx, client, srv.URL+"/missing", 1024)
	var se *StatusError
	require.ErrorAs(t, err, &se)
	require.Equal(t, http.StatusNotFound, se.StatusCode)
}

func TestSchemeRefused(t *testing.T) {
	t.Parallel()
	client := New(Options{})
	for _, raw := range []string{"ftp://example.com/a.png", "file:///etc/passwd", "gopher://x/", "/relative"} {
		_, err := readAll(context.Background(), client, raw, 10)
		require.Error(t, err, raw)
		require.True(t, IsRefused(err), "%s: %v", raw, err)
	}
	// The transport refuses too, for requests not made through Get.
	req, err := http.NewRequest(http.MethodGet, "ftp://example.com/", nil)
	require.NoError(t, err)
	_, err = client.Do(req)
	require.True(t, IsRefused(err), "%v", err)
}

func TestGuardCheck(t *testing.T) {
	t.Parallel()
	g := newGuard(Options{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16"), netip.MustParsePrefix("fd12::/16")}})
	tests := []struct {
		addr string
		want string // "" means allowed
	}{
		{"93.184.216.34:443", ""},
		{"93.184.216.34:80", ""},
		{"[2606:4700::1111]:443", ""},
		{"93.184.216.34:22", "port 22 is not allowed (allowed: 80, 443)"},
		{"127.0.0.1:80", "127.0.0.1 is a loopback address"},
		{"[::1]:80", "::1 is a loopback address"},
		{"10.1.2.3:80", "10.1.2.3 is a private address"},
		{"172.16.0.1:443", "172.16.0.1 is a private address"},
		{"192.168.1.1:80", "192.168.1.1 is a private address"},
		{"169.254.169.254:80", "169.254.169.254 is a cloud metadata address"},
		{"169.254.10.1:80", "169.254.10.1 is a link-local address"},
		{"[fe80::1]:80", "fe80::1 is a link-local address"},
		{"100.64.1.1:80", "100.64.1.1 is a carrier-grade NAT (shared) address"},
		{"[fd00::1]:80", "fd00::1 is a unique local (private) address"},
		{"224.0.0.1:80", "224.0.0.1 is a multicast address"},
		{"[ff02::1]:80", "ff02::1 is a multicast address"},
		{"0.0.0.0:80", "0.0.0.0 is an unspecified address"},
		{"[::]:80", ":: is an unspecified address"},
		{"[::ffff:127.0.0.1]:80", "::ffff:127.0.0.1 is an IPv4-mapped IPv6 address"},
		{"[::ffff:93.184.216.34]:443", "::ffff:93.184.216.34 is an IPv4-mapped IPv6 address"},
		{"255.255.255.255:80", "255.255.255.255 is the broadcast address"},
		{"192.0.2.1:80", "192.0.2.1 is a documentation address"},
		// The allow list wins, on any port, also through a mapped address.
		{"10.9.3.4:8080", ""},
		{"[::ffff:10.9.3.4]:8080", ""},
		{"[fd12::5]:9000", ""},
	}
	for _, tt := range tests {
		err := g.check(netip.MustParseAddrPort(tt.addr))
		if tt.want == "" {
			require.NoError(t, err, tt.addr)
			continue
		}
		require.EqualError(t, err, "refused: "+tt.want, tt.addr)
	}
	require.Error(t, g.control("udp4", "8.8.8.8:53", nil))
}

func TestContextCancel(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(hello))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := readAll(ctx, New(Options{AllowPrivate: loopback}), srv.URL, 10)
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
}

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{17: "17 bytes", 1024: "1 KB", 1536: "1.5 KB", 30 << 20: "30 MB"} {
		require.Equal(t, want, FormatBytes(n))
	}
}

// readAll is Get followed by reading the whole body.
func readAll(ctx context.Context, c *http.Client, rawURL string, maxBytes int64) ([]byte, error) {
	resp, err := Get(ctx, c, rawURL, maxBytes)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}
