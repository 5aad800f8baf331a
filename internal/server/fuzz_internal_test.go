package server

import (
	"bytes"
	"mime/multipart"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func FuzzPreferWait(f *testing.F) {
	for _, s := range []string{"wait=30", "respond-async, wait=5", "wait=0", "wait=-1", `wait="10"`, "WAIT=7; x=y",
		"handling=lenient", "wait=99999999999999999999", "wait", "", ",,,"} {
		f.Add(s)
	}
	s := &Server{cfg: Config{MaxWait: 60 * time.Second}}
	f.Fuzz(func(t *testing.T, v string) {
		r := httptest.NewRequest("GET", "/v1/jobs/x", nil)
		r.Header.Set("Prefer", v)
		d, ok := s.preferWait(r)
		if ok && (d <= 0 || d > 60*time.Second) {
			t.Fatalf("%q: wait %s out of (0, 60s]", v, d)
		}
		if !ok && d != 0 {
			t.Fatalf("%q: no preference but a wait of %s", v, d)
		}
	})
}

func FuzzFingerprint(f *testing.F) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.SetBoundary("seed-boundary")
	_ = mw.WriteField("model", "sora-2")
	_ = mw.WriteField("prompt", "a cat")
	fw, _ := mw.CreateFormFile("input_reference", "first.png")
	_, _ = fw.Write([]byte("\x89PNG\r\n\x1a\n"))
	_ = mw.Close()
	f.Add("multipart/form-data; boundary=seed-boundary", b.Bytes())
	f.Add("application/json", []byte(`{"model":"seedance-1-0-pro","input":{"prompt":"a cat"}}`))
	f.Add("multipart/form-data; boundary=x", []byte("--x\r\nbroken"))
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		r := httptest.NewRequest("POST", "/v1/videos", nil)
		r.Header.Set("Content-Type", contentType)
		a, b := fingerprint(r, body), fingerprint(r, body)
		if a != b || len(a) != 64 {
			t.Fatalf("fingerprint not stable: %q %q", a, b)
		}
	})
}

// FuzzHostPolicy: any Host header is judged without panicking, and a name
// the policy does not list is refused unless it is an IP address.
func FuzzHostPolicy(f *testing.F) {
	for _, s := range []string{"gw.example", "gw.example:8000", "GW.EXAMPLE.", "eu.gw.example", "evil.example",
		"127.0.0.1:80", "[::1]:8000", "[::1", "localhost", "a.localhost", ":80", "", "xn--80ak6aa92e.com", "gw.example.evil"} {
		f.Add(s)
	}
	p := newHostPolicy([]string{"gw.example", "*.gw.example"}, "")
	f.Fuzz(func(t *testing.T, host string) {
		if p.allows(host) && strings.Contains(strings.ToLower(host), "evil") && !strings.Contains(strings.ToLower(host), "gw.example") {
			t.Fatalf("%q allowed", host)
		}
	})
}
