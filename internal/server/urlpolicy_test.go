package server_test

import (
	"bytes"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// privateURLs are refused at submit, in every URL field, with a 400 naming the field.
var privateURLs = map[string]string{
	"http://127.0.0.1:9/x.png":                 "127.0.0.1 is a loopback address",
	"http://10.0.0.1/x.png":                    "10.0.0.1 is a private address",
	"http://169.254.169.254/latest/meta-data/": "169.254.169.254 is a cloud metadata address",
	"http://[::1]:9/x.png":                     "::1 is a loopback address",
	"http://localhost:9/x.png":                 "localhost is a loopback host name",
}

func TestPrivateCallbackAndImageURLsRefusedAtSubmit(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, nil)
	for u, reason := range privateURLs {
		for field, input := range map[string]string{
			"input.callback_url":    `"prompt":"p","callback_url":"` + u + `"`,
			"input.first_frame_url": `"prompt":"p","first_frame_url":"` + u + `"`,
		} {
			var e jobAnswer
			resp, raw := g.call("POST", "/v1/jobs", "", `{"model":"seedance-1-0-pro","input":{`+input+`}}`, nil, &e)
			require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s %s: %s", field, u, raw)
			require.Equal(t, field, e.Error.Field, "%s", raw)
			require.Contains(t, e.Error.Message, reason, "%s", raw)
			require.Contains(t, e.Error.Message, "SEEDGATE_ALLOW_PRIVATE_URLS")
		}
	}
	// Ark's shape names its own parameter.
	var e struct {
		Error struct{ Code, Message, Param string } `json:"error"`
	}
	resp, raw := g.call("POST", "/api/v3/contents/generations/tasks", "",
		`{"model":"seedance-1-0-pro-250528","content":[{"type":"text","text":"p"}],"callback_url":"http://169.254.169.254/"}`, nil, &e)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", raw)
	require.Equal(t, "callback_url", e.Error.Param)
	require.Contains(t, e.Error.Message, "cloud metadata")

	var list struct {
		Data []jobAnswer `json:"data"`
	}
	g.call("GET", "/v1/jobs", "", "", nil, &list)
	require.Empty(t, list.Data, "nothing half-stored")
}

func TestWhitelistedPrivateURLsAccepted(t *testing.T) {
	t.Parallel()
	g := newTestGateway(t, map[string]string{"SEEDGATE_ALLOW_PRIVATE_URLS": "127.0.0.0/8,10.0.0.0/8,::1/128",
		"SEEDGATE_SANDBOX_QUEUE_DELAY": "1m"})
	for _, u := range []string{"http://127.0.0.1:9/hook", "http://10.0.0.1/hook", "http://[::1]:9/hook", "http://receiver.internal:8080/hook"} {
		var j jobAnswer
		resp, raw := g.call("POST", "/v1/jobs", "", `{"model":"seedance-1-0-pro","input":{"prompt":"p","callback_url":"`+u+`"}}`, nil, &j)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", u, raw)
	}
	// The metadata address is not in the list: still refused.
	resp, _ := g.call("POST", "/v1/jobs", "", `{"model":"seedance-1-0-pro","input":{"prompt":"p","callback_url":"http://169.254.169.254/"}}`, nil, nil)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// An image server on loopback, reached by a host name: the name passes the
// submit check (names are judged by their addresses), and the address is
// refused when the sandbox dials it, unless loopback is whitelisted.
func TestImageHostNameResolvingToPrivateRefusedWhenFetched(t *testing.T) {
	t.Parallel()
	var img bytes.Buffer
	require.NoError(t, png.Encode(&img, image.NewRGBA(image.Rect(0, 0, 320, 240))))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(img.Bytes())
	}))
	t.Cleanup(srv.Close)
	byName := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) + "/frame.png"

	// 10.0.0.0/8 is open, loopback is not: "localhost" passes submit, its 127.0.0.1 is refused at dial.
	g := newTestGateway(t, map[string]string{"SEEDGATE_ALLOW_PRIVATE_URLS": "10.0.0.0/8"})
	j := g.createJob(`"prompt":"from a private image","first_frame_url":"` + byName + `"`)
	done := g.waitJob(j.ID)
	require.Equal(t, "failed", done.Status)
	require.Contains(t, done.Error.Message, "127.0.0.1 is a loopback address", "%+v", done.Error)

	// With loopback whitelisted the same URL renders.
	open := newTestGateway(t, map[string]string{"SEEDGATE_ALLOW_PRIVATE_URLS": "127.0.0.0/8"})
	j = open.createJob(`"prompt":"from an allowed image","first_frame_url":"` + byName + `"`)
	require.Equal(t, "succeeded", open.waitJob(j.ID).Status)
}
