package arkassets_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/protocol/arkassets"
)

var creds = arkassets.Credentials{AccessKeyID: "AKLTtest", SecretAccessKey: "secret"}

func secretOf(ak string) (string, bool) { return creds.SecretAccessKey, ak == creds.AccessKeyID }

// signed returns a request as a client sends it, received by a server.
func signed(t *testing.T, c arkassets.Credentials, body string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://open.example.com/?"+arkassets.Query(arkassets.ActionGetAsset), strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	require.NoError(t, arkassets.Sign(req, c))
	// What a server sees: the same method, URL, Host, headers and body.
	in := httptest.NewRequest(req.Method, req.URL.String(), req.Body)
	in.Header = req.Header.Clone()
	return in
}

func TestVerify(t *testing.T) {
	t.Parallel()
	now := time.Now()
	r := signed(t, creds, `{"Id":"asset-1"}`)
	a, err := arkassets.Verify(r, now, secretOf)
	require.NoError(t, err)
	require.Equal(t, "AKLTtest", a.AccessKeyID)
	require.Equal(t, arkassets.Service, a.Service)
	require.Equal(t, arkassets.RegionVolcengine, a.Region)
	body, _ := io.ReadAll(r.Body)
	require.Equal(t, `{"Id":"asset-1"}`, string(body), "the body is put back")

	// A wrong secret, a changed body, query or header, an unknown key, an old date: refused.
	_, err = arkassets.Verify(signed(t, arkassets.Credentials{AccessKeyID: "AKLTtest", SecretAccessKey: "guess"}, `{}`), now, secretOf)
	require.ErrorContains(t, err, "does not match")
	r = signed(t, creds, `{"Id":"asset-1"}`)
	r.Body = io.NopCloser(strings.NewReader(`{"Id":"asset-2"}`))
	_, err = arkassets.Verify(r, now, secretOf)
	require.ErrorContains(t, err, "does not match")
	r = signed(t, creds, `{}`)
	r.URL.RawQuery = arkassets.Query(arkassets.ActionDeleteAsset)
	_, err = arkassets.Verify(r, now, secretOf)
	require.ErrorContains(t, err, "does not match")
	r = signed(t, creds, `{}`)
	r.Header.Set("Content-Type", "text/plain")
	_, err = arkassets.Verify(r, now, secretOf)
	require.ErrorContains(t, err, "does not match")
	var unknown *arkassets.UnknownKeyError
	_, err = arkassets.Verify(signed(t, arkassets.Credentials{AccessKeyID: "AKLTother", SecretAccessKey: "x"}, `{}`), now, secretOf)
	require.ErrorAs(t, err, &unknown)
	_, err = arkassets.Verify(signed(t, creds, `{}`), now.Add(time.Hour), secretOf)
	require.ErrorContains(t, err, "X-Date")
	r = signed(t, creds, `{}`)
	r.Header.Del("Authorization")
	_, err = arkassets.Verify(r, now, secretOf)
	require.Error(t, err)
}

// FuzzVerify: any Authorization header, date and body: an error or, only
// for the request as signed, success; never a panic.
func FuzzVerify(f *testing.F) {
	f.Add("HMAC-SHA256 Credential=AKLTtest/20261203/cn-beijing/ark/request, SignedHeaders=content-type;host;x-content-sha256;x-date, Signature=00", "20261203T150405Z", []byte(`{}`))
	f.Add("HMAC-SHA256 Credential=/a/b/c/request, SignedHeaders=, Signature=", "x", []byte(nil))
	f.Add("HMAC-SHA256 Credential=AKLTtest/2/r/s/request,SignedHeaders=authorization;x-date,Signature=ab", "2", []byte("x"))
	f.Add("Bearer x", "", []byte(nil))
	f.Fuzz(func(t *testing.T, auth, date string, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "http://open.example.com/?Action=GetAsset&Version=2024-01-01", bytes.NewReader(body))
		r.Header.Set("Authorization", auth)
		r.Header.Set("X-Date", date)
		now, _ := time.Parse("20060102T150405Z", date)
		if _, err := arkassets.Verify(r, now, secretOf); err == nil {
			t.Fatalf("an unsigned request verified: %q %q", auth, date)
		}
	})
}
