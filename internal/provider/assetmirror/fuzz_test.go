package assetmirror_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/seedgate/seedgate/internal/protocol/arkassets"
	"github.com/seedgate/seedgate/internal/provider/assetmirror"
)

// FuzzClientAnswer: whatever the OpenAPI answers (status and body), a call
// returns its result or an error, an *APIError for the upstream's own
// refusals; never a panic.
func FuzzClientAnswer(f *testing.F) {
	f.Add(200, []byte(`{"ResponseMetadata":{"RequestId":"r","Action":"GetAsset"},"Result":{"Id":"asset-1","Status":"Active"}}`))
	f.Add(401, []byte(`{"ResponseMetadata":{"RequestId":"r","Error":{"CodeN":100010,"Code":"SignatureDoesNotMatch","Message":"no"}}}`))
	f.Add(200, []byte(`{"ResponseMetadata":{"RequestId":"r","Error":{"Code":"InvalidParameter","Message":"x"}}}`))
	f.Add(200, []byte(`{"ResponseMetadata":{},"Result":null}`))
	f.Add(502, []byte(`<html>bad gateway</html>`))
	f.Add(200, []byte(`{"Result":{"Id":7}}`))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		if status < 200 || status > 599 {
			status = 200
		}
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			_, _ = w.Write(body)
		}))
		defer srv.Close()
		c := assetmirror.NewClient(srv.URL, arkassets.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK"}, srv.Client())
		a, err := c.GetAsset(context.Background(), "asset-1")
		var ae *assetmirror.APIError
		switch {
		case err == nil && a == nil:
			t.Fatal("no asset and no error")
		case err == nil && status != 200:
			t.Fatalf("status %d accepted", status)
		case errors.As(err, &ae) && ae.Status < 400:
			t.Fatalf("an APIError with status %d", ae.Status)
		}
	})
}
