package safehttp

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCheckURL(t *testing.T) {
	t.Parallel()
	refused := map[string]string{
		"http://127.0.0.1/hook":                    "127.0.0.1 is a loopback address",
		"http://127.0.0.1:8080/hook":               "127.0.0.1 is a loopback address",
		"http://10.0.0.1/hook":                     "10.0.0.1 is a private address",
		"http://169.254.169.254/latest/meta-data/": "169.254.169.254 is a cloud metadata address",
		"http://[::1]:9000/":                       "::1 is a loopback address",
		"http://[fe80::1%25eth0]/":                 "fe80::1 is a link-local address",
		"http://[::ffff:127.0.0.1]/":               "an IPv4-mapped IPv6 address",
		"http://0.0.0.0/":                          "0.0.0.0 is an unspecified address",
		"http://100.64.1.1/":                       "carrier-grade NAT",
		"http://localhost:8000/":                   "localhost is a loopback host name",
		"http://LOCALHOST./":                       "localhost is a loopback host name",
		"https://api.localhost/":                   "api.localhost is a loopback host name",
		"http://intranet/hook":                     "intranet is a single-label host name",
		"https://example.com:8443/hook":            "port 8443 is not allowed (allowed: 80, 443)",
		"https://93.184.215.14:22/":                "port 22 is not allowed",
		"ftp://example.com/x":                      `scheme "ftp" is not allowed`,
		"file:///etc/passwd":                       `scheme "file" is not allowed`,
		"http:///nohost":                           "no host",
		"http://example.com:99999/":                "is not a port number",
	}
	for raw, want := range refused {
		err := CheckURL(raw, Options{})
		require.Error(t, err, raw)
		require.True(t, IsRefused(err), raw)
		require.Contains(t, err.Error(), want, raw)
	}
	for _, ok := range []string{"https://example.com/hook", "http://hooks.example.com:80/x?y=1", "https://93.184.215.14/"} {
		require.NoError(t, CheckURL(ok, Options{}), ok)
	}

	// Whitelisted networks open their literal addresses on any port, and names
	// are left to the dial-time check.
	allow := Options{AllowPrivate: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}
	for _, ok := range []string{"http://127.0.0.1:8080/hook", "http://10.0.0.1/", "http://[::1]:9000/", "http://receiver:8080/", "http://localhost:8000/"} {
		require.NoError(t, CheckURL(ok, allow), ok)
	}
	require.Error(t, CheckURL("http://169.254.169.254/", allow), "metadata stays refused unless listed")
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://example.com/hook", "http://127.0.0.1:8080/", "http://[::ffff:10.0.0.1]/",
		"http://169.254.169.254/latest/meta-data/", "http://localhost/", "ftp://x/", "http://a.b:0/", "http://[fe80::1%25eth0]:80/",
		"https://ark.cn-beijing.volces.com/api/v3/contents/generations/tasks", "http://%31%32%37.0.0.1/", "http://0x7f.1/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		err := CheckURL(raw, Options{})
		if err == nil {
			u, perr := url.Parse(raw)
			if perr != nil || (!strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https")) {
				t.Fatalf("accepted %q", raw)
			}
			if addr, aerr := netip.ParseAddr(u.Hostname()); aerr == nil && !addr.IsGlobalUnicast() {
				t.Fatalf("accepted a non-public literal address: %q", raw)
			}
			return
		}
		if !IsRefused(err) {
			t.Fatalf("%q: error %v is not a refusal", raw, err)
		}
	})
}
