package ark

import (
	"testing"
)

// FuzzDecodeAPIError: whatever error body the upstream (or a proxy in front
// of it) sends, decoding never panics, and a code is only reported when the
// body had one.
func FuzzDecodeAPIError(f *testing.F) {
	for _, s := range []string{
		`{"error":{"code":"InvalidParameter","message":"bad duration","param":"duration","type":"BadRequest"}}`,
		`{"error":{"code":"ModelAccountRpmRateLimitExceeded","message":"slow down"}}`,
		`{"error":{"code":""}}`, `{"error":null}`, `{"error":"text"}`, `<html>502 Bad Gateway</html>`, "", "{{",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		code, _, _, ok := decodeAPIError(data)
		if ok != (code != "") {
			t.Fatalf("ok=%v with code %q", ok, code)
		}
	})
}
