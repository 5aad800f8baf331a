package wire_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/wire"
)

// FuzzDecodeSpooled feeds DecodeJSON with a Spool arbitrary bodies, and
// arbitrary payloads inside a data URL long enough to be spooled: it never
// panics, a body spooled or not decodes to the same value apart from the
// placeholder, and what ParseDataURL accepts is spooled as the same bytes.
func FuzzDecodeSpooled(f *testing.F) {
	f.Add(`{"image":{"url":"data:image/png;base64,QUJD"}}`, "QUJD")
	f.Add(`{"prompt":"\u00e9\n"}`, `QU\/J\nD%2B==`)
	f.Add(`[`, `\u0041BC-_`)
	f.Add(`{"image":{"url":"data:image/png;base64,\`, `%zz`)
	f.Fuzz(func(t *testing.T, raw, payload string) {
		// Any body: no panic, and without long strings the same result as in memory.
		var spooled, plain any
		_, err := decode(t, raw, &spooled)
		if len(raw) < wire.SpoolMin {
			perr := wire.Unmarshal([]byte(raw), &plain, false)
			if (err == nil) != (perr == nil) {
				t.Fatalf("spooled decode: %v, in memory: %v", err, perr)
			}
		}

		// A payload padded past SpoolMin, sent as a JSON string.
		s := "data:image/png;base64," + payload + strings.Repeat("A", wire.SpoolMin)
		enc, _ := json.Marshal(s)
		var b body
		sp, err := decode(t, `{"image":{"url":`+string(enc)+`}}`, &b)
		if err != nil {
			t.Fatalf("a valid JSON string was refused: %v", err)
		}
		it, ok := sp.Lookup(b.Image.URL)
		if !ok {
			t.Fatalf("not spooled: %.80q", b.Image.URL)
		}
		want, werr := media.ParseDataURL(s)
		if werr != nil {
			return // the spool may be more lenient (mixed base64 alphabets)
		}
		if it.Err != nil {
			t.Fatalf("ParseDataURL accepts it, the spool says %v", it.Err)
		}
		got, err := os.ReadFile(it.Path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want.Data) {
			t.Fatalf("spooled %d bytes, ParseDataURL %d", len(got), len(want.Data))
		}
	})
}
