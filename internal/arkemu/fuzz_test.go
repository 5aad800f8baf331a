package arkemu_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seedgate/seedgate/internal/arkemu"
)

// FuzzCreate: whatever the body, create answers 200 with an id, or an Ark
// error envelope with a 4xx status, and never panics.
func FuzzCreate(f *testing.F) {
	for _, seed := range []string{
		`{"model":"doubao-seedance-1-0-pro-250528","content":[{"type":"text","text":"a cat --rs 480p"}]}`,
		`{"model":"doubao-seedance-1-5-pro-251215","content":[{"type":"draft_task","draft_task":{"id":"cgt-x"}}]}`,
		`{"model":"doubao-seedance-2-0-260128","content":[{"type":"image_url","image_url":{"url":"asset://a"},"role":"reference_image"},{"type":"audio_url","audio_url":{"url":"https://x/a.mp3"}}]}`,
		`{"model":"doubao-seedance-1-0-lite-t2v-250428","content":[{"type":"text","text":"x"}],"frames":33,"seed":-1}`,
		`{"model":"doubao-seedance-2-0-260128","content":[{"type":"video_url","video_url":{"url":"https://x/v.mp4"}}],"output_format":"mov","omni_reference_task_type":"editing"}`,
		`{"model":"doubao-seedance-2-0-260128","content":[{"type":"text","text":"x"}],"omni_reference_task_type":"extend","output_format":"MOV"}`,
		`{"model":1}`, `[]`, `null`, ``,
	} {
		f.Add(seed)
	}
	noNetwork := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("no network in fuzzing")
	})}
	srv := arkemu.New(arkemu.Options{HTTPClient: noNetwork, RPM: 1 << 30, MaxQueued: 1 << 30})
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, body string) {
		req := httptest.NewRequest(http.MethodPost, arkemu.BasePath+"/contents/generations/tasks", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer k")
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var out struct {
			ID    string `json:"id"`
			Error *struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("status %d, body not JSON: %q", rec.Code, rec.Body.String())
		}
		switch {
		case rec.Code == http.StatusOK && out.ID != "":
		case rec.Code >= 400 && rec.Code < 500 && out.Error != nil && out.Error.Code != "":
		default:
			t.Fatalf("status %d, body %q", rec.Code, rec.Body.String())
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
