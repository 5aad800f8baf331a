package media

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseDataURL(t *testing.T) {
	t.Parallel()
	png := []byte("\x89PNG\r\n\x1a\n\x00\x01\xfe\xff")
	std := base64.StdEncoding.EncodeToString(png)
	tests := []struct {
		name     string
		in       string
		wantType string
		want     []byte
		wantErr  string
	}{
		{"base64", "data:image/png;base64," + std, "image/png", png, ""},
		{"upper case scheme and type", "DATA:Image/PNG;BASE64," + std, "image/png", png, ""},
		{"unpadded", "data:image/png;base64," + strings.TrimRight(std, "="), "image/png", png, ""},
		{"url-safe alphabet", "data:image/png;base64," + base64.RawURLEncoding.EncodeToString(png), "image/png", png, ""},
		{"whitespace in payload", "data:image/png;base64," + std[:4] + "\n " + std[4:], "image/png", png, ""},
		{"percent-encoded payload", "data:image/png;base64," + strings.ReplaceAll(std, "+", "%2B"), "image/png", png, ""},
		{"parameters", "data:image/png;name=a.png;base64," + std, "image/png", png, ""},
		{"plain text default type", "data:,hello%20world", "text/plain", []byte("hello world"), ""},
		{"charset only", "data:;charset=utf-8,hi", "text/plain", []byte("hi"), ""},
		{"malformed percent kept", "data:text/plain,100%", "text/plain", []byte("100%"), ""},
		{"empty data", "data:image/png;base64,", "image/png", []byte{}, ""},
		{"not a data URL", "https://example.com/a.png", "", nil, "not a data URL"},
		{"no comma", "data:image/png;base64", "", nil, "no comma"},
		{"bad base64", "data:image/png;base64,@@@@", "", nil, "invalid base64"},
		{"bad length", "data:image/png;base64,A", "", nil, "invalid base64"},
		{"bad media type", "data:image png;base64," + std, "", nil, "invalid media type"},
		{"media type without subtype", "data:image;base64," + std, "", nil, "invalid media type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseDataURL(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.wantType, got.MediaType)
			require.Equal(t, string(tt.want), string(got.Data))
		})
	}
}

func FuzzParseDataURL(f *testing.F) {
	for _, s := range []string{
		"data:image/png;base64,iVBORw0KGgo=",
		"data:,hello",
		"data:text/plain;charset=utf-8;base64,aGk",
		"data:image/jpeg;base64,/9j/4A%3D%3D",
		"data:;base64,",
		"data:image/png;base64",
		"DATA:x/y;BASE64,-_-_",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDataURL(s)
		if err != nil {
			return
		}
		if d.MediaType != strings.ToLower(d.MediaType) || !validMediaType(d.MediaType) {
			t.Fatalf("media type %q is not a lower-case type/subtype", d.MediaType)
		}
		// What was parsed must survive a canonical round trip.
		again, err := ParseDataURL("data:" + d.MediaType + ";base64," + base64.StdEncoding.EncodeToString(d.Data))
		if err != nil {
			t.Fatalf("round trip of %q: %v", s, err)
		}
		if again.MediaType != d.MediaType || string(again.Data) != string(d.Data) {
			t.Fatalf("round trip of %q changed it: %+v vs %+v", s, again, d)
		}
	})
}
