package wire_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

type body struct {
	Image struct {
		URL string `json:"url"`
	} `json:"image"`
	Prompt string `json:"prompt"`
}

// decode runs DecodeJSON over raw with a Spool, as the server does.
func decode(t testing.TB, raw string, v any) (*wire.Spool, error) {
	t.Helper()
	sp := &wire.Spool{}
	t.Cleanup(sp.Close)
	r := httptest.NewRequest("POST", "/", strings.NewReader(raw))
	r.Header.Set("Content-Type", "application/json")
	r = r.WithContext(wire.WithSpool(r.Context(), sp))
	return sp, wire.DecodeJSON(httptest.NewRecorder(), r, v, wire.DecodeOptions{})
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	_, err := rand.Read(b)
	require.NoError(t, err)
	return b
}

func TestBigDataURLIsSpooled(t *testing.T) {
	data := randomBytes(t, 300<<10)
	enc := base64.StdEncoding.EncodeToString(data)
	// A JSON encoder that escapes "/" (as PHP's does), with line breaks inside the base64.
	escaped := strings.ReplaceAll(enc[:1000], "/", `\/`) + `\n` + enc[1000:2000] + `\r\n ` + enc[2000:]
	raw := `{"prompt":"a cat","image":{"url":"data:Image/PNG;name=a.png;base64,` + escaped + `"}}`

	var b body
	sp, err := decode(t, raw, &b)
	require.NoError(t, err)
	require.Equal(t, "a cat", b.Prompt)
	require.Less(t, len(b.Image.URL), 100, "the body keeps a placeholder, not the data")
	it, ok := sp.Lookup(b.Image.URL)
	require.True(t, ok, b.Image.URL)
	require.NoError(t, it.Err)
	require.Equal(t, "image/png", it.MediaType)
	require.EqualValues(t, len(data), it.Size)
	sum := sha256.Sum256(data)
	require.Equal(t, hex.EncodeToString(sum[:]), it.SHA256)
	got, err := os.ReadFile(it.Path)
	require.NoError(t, err)
	require.Equal(t, data, got)

	sp.Close()
	_, err = os.Stat(it.Path)
	require.True(t, os.IsNotExist(err), "Close removes the spooled files")
}

// The spooled bytes are what media.ParseDataURL makes of the same URL, in each
// spelling it accepts.
func TestSpoolMatchesParseDataURL(t *testing.T) {
	data := randomBytes(t, 100<<10)
	std := base64.StdEncoding.EncodeToString(data)
	for name, payload := range map[string]string{
		"standard":         std,
		"no padding":       strings.TrimRight(std, "="),
		"url-safe":         base64.RawURLEncoding.EncodeToString(data),
		"percent-encoded":  strings.NewReplacer("+", "%2B", "/", "%2f").Replace(std),
		"white space":      std[:7] + ` \t` + std[7:50000] + `\n` + std[50000:],
		"unicode escapes":  `\u0041` + base64.StdEncoding.EncodeToString(append([]byte{0}, data...))[1:],
		"trailing padding": std + "==",
	} {
		t.Run(name, func(t *testing.T) {
			url := "data:image/png;base64," + payload
			var s string
			require.NoError(t, json.Unmarshal([]byte(`"`+payload+`"`), &s), "the payload is a JSON string")
			want, werr := media.ParseDataURL("data:image/png;base64," + s)

			var b body
			sp, err := decode(t, `{"image":{"url":"`+url+`"}}`, &b)
			require.NoError(t, err)
			it, ok := sp.Lookup(b.Image.URL)
			require.True(t, ok)
			if werr != nil {
				require.Error(t, it.Err, "ParseDataURL refuses it: %v", werr)
				return
			}
			require.NoError(t, it.Err)
			got, err := os.ReadFile(it.Path)
			require.NoError(t, err)
			require.Equal(t, want.Data, got)
		})
	}
}

func TestSpoolInvalidBase64(t *testing.T) {
	payload := strings.Repeat("QUJD", 20<<10) + "*" + "QUJD"
	var b body
	sp, err := decode(t, `{"image":{"url":"data:image/png;base64,`+payload+`"}}`, &b)
	require.NoError(t, err, "the JSON is fine: the field is at fault, and the service names it")
	it, ok := sp.Lookup(b.Image.URL)
	require.True(t, ok)
	require.Error(t, it.Err)
}

func TestSpoolLeavesOtherStrings(t *testing.T) {
	long := strings.Repeat("x", wire.SpoolMin*2)
	for name, s := range map[string]string{
		"not a data URL":   long,
		"not base64":       "data:text/plain," + long,
		"short data URL":   "data:image/png;base64,QUJD",
		"escaped header":   `data:image\/png;base64,` + strings.Repeat("QUJD", wire.SpoolMin),
		"bad media type":   "data:image png;base64," + strings.Repeat("QUJD", wire.SpoolMin),
		"comma far behind": "data:" + strings.Repeat("a", 600) + ";base64," + strings.Repeat("QUJD", wire.SpoolMin),
	} {
		t.Run(name, func(t *testing.T) {
			var b body
			_, err := decode(t, `{"image":{"url":"`+s+`"}}`, &b)
			require.NoError(t, err)
			var want string
			require.NoError(t, json.Unmarshal([]byte(`"`+s+`"`), &want))
			require.Equal(t, want, b.Image.URL)
		})
	}
}

func TestSpoolJSONErrors(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir())
	big := strings.Repeat("QUJD", wire.SpoolMin/4+10)
	for name, raw := range map[string]string{
		"control character": `{"image":{"url":"data:image/png;base64,` + big + "\x01" + `"}}`,
		"bad escape":        `{"image":{"url":"data:image/png;base64,` + big + `\x"}}`,
		"bad unicode":       `{"image":{"url":"data:image/png;base64,` + big + `\u00zz"}}`,
		"unterminated":      `{"image":{"url":"data:image/png;base64,` + big,
	} {
		t.Run(name, func(t *testing.T) {
			var b body
			sp, err := decode(t, raw, &b)
			require.Equal(t, task.CodeInvalidJSON, task.ErrorCode(err), "%v", err)
			sp.Close()
			left, _ := filepath.Glob(filepath.Join(os.TempDir(), "seedgate-dataurl-*"))
			require.Empty(t, left, "a refused body leaves no temp file")
		})
	}
}

// Without a Spool (no server around it) the body is decoded in memory as sent.
func TestDecodeWithoutSpool(t *testing.T) {
	url := "data:image/png;base64," + strings.Repeat("QUJD", wire.SpoolMin)
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"image":{"url":"`+url+`"}}`))
	r.Header.Set("Content-Type", "application/json")
	var b body
	require.NoError(t, wire.DecodeJSON(httptest.NewRecorder(), r, &b, wire.DecodeOptions{}))
	require.Equal(t, url, b.Image.URL)
}

func TestBodyBudget(t *testing.T) {
	b := wire.NewBodyBudget(1 << 20)
	b.Wait = 50 * time.Millisecond
	req := func(n int64) *http.Request {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(make([]byte, n)))
		r.ContentLength = n
		return r
	}
	_, done1, err := b.Admit(req(700 << 10))
	require.NoError(t, err)
	// Over the budget: refused after the wait, with a Retry-After.
	_, _, err = b.Admit(req(400 << 10))
	require.Equal(t, task.CodeUnavailable, task.ErrorCode(err))
	require.Positive(t, task.AsError(err).RetryAfter)
	// A body bigger than the whole budget is counted as the whole budget.
	done1()
	_, done2, err := b.Admit(req(5 << 20))
	require.NoError(t, err)

	// A waiting request goes on as soon as the budget frees.
	b.Wait = 10 * time.Second
	var wg sync.WaitGroup
	wg.Add(1)
	admitted := make(chan error, 1)
	go func() {
		defer wg.Done()
		_, done, err := b.Admit(req(10))
		admitted <- err
		if err == nil {
			done()
		}
	}()
	done2()
	require.NoError(t, <-admitted)
	wg.Wait()

	// A chunked body is counted as it is read.
	_, done3, err := b.Admit(req(900 << 10))
	require.NoError(t, err)
	b.Wait = 50 * time.Millisecond
	r := httptest.NewRequest("POST", "/", io.NopCloser(bytes.NewReader(make([]byte, 200<<10))))
	r.ContentLength = -1
	r, done4, err := b.Admit(r)
	require.NoError(t, err)
	_, err = io.ReadAll(r.Body)
	require.Equal(t, task.CodeUnavailable, task.ErrorCode(err))
	done4()
	done3()

	// A body read to its end frees its share before the request is answered
	// (a create that then waits for its task holds none).
	r, done6, err := b.Admit(req(800 << 10))
	require.NoError(t, err)
	_, err = io.ReadAll(r.Body)
	require.NoError(t, err)
	_, done7, err := b.Admit(req(800 << 10))
	require.NoError(t, err)
	done6()
	done7()

	// Requests without a body are not counted and get no Spool.
	r, done5, err := b.Admit(httptest.NewRequest("GET", "/", nil))
	require.NoError(t, err)
	require.Nil(t, wire.SpoolFrom(r.Context()))
	done5()
}
