package openai_test

import (
	"bytes"
	"context"
	"errors"
	"image/jpeg"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	sdk "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/media/mediatest"
)

var volatile = []string{"created_at", "completed_at"}

// The official openai-go SDK creates (multipart, with an input_reference
// image as the first frame), polls, downloads, lists and deletes videos.
func TestOfficialSDK(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	client := sdk.NewClient(option.WithBaseURL(g.URL+"/v1/"), option.WithAPIKey(dialecttest.Key),
		option.WithHTTPClient(g.Client), option.WithMaxRetries(0))

	v, err := client.Videos.NewAndPoll(ctx, sdk.VideoNewParams{
		Prompt:         "a lighthouse at dusk, waves rolling in",
		Model:          "doubao-seedance-1-0-pro-fast-251015",
		Seconds:        "4",
		Size:           "864x480",
		InputReference: sdk.VideoNewParamsInputReferenceUnion{OfFile: sdk.File(bytes.NewReader(dialecttest.PNG(1280, 720)), "first.png", "image/png")},
	}, 50)
	require.NoError(t, err)
	require.Equal(t, sdk.VideoStatusCompleted, v.Status, "%+v", v.Error)
	require.Equal(t, "doubao-seedance-1-0-pro-fast-251015", string(v.Model))
	require.Equal(t, sdk.VideoSize("864x480"), v.Size)
	require.Equal(t, sdk.VideoSeconds("4"), v.Seconds)
	require.EqualValues(t, 100, v.Progress)
	require.NotZero(t, v.CompletedAt)

	resp, err := client.Videos.DownloadContent(ctx, v.ID, sdk.VideoDownloadContentParams{})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "v.mp4")
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
	info, err := mediatest.ProbeVideo(ctx, path)
	require.NoError(t, err)
	require.Equal(t, 864, info.Width)
	require.Equal(t, 480, info.Height)
	require.InDelta(t, 4.0, info.Duration, 0.1)

	resp, err = client.Videos.DownloadContent(ctx, v.ID, sdk.VideoDownloadContentParams{Variant: sdk.VideoDownloadContentParamsVariantThumbnail})
	require.NoError(t, err)
	require.Equal(t, "image/jpeg", resp.Header.Get("Content-Type"))
	thumb, err := jpeg.DecodeConfig(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, 864, thumb.Width)
	require.Equal(t, 480, thumb.Height)

	// A video whose result has no stored still (made before thumbnails were
	// kept) answers an OpenAI-shaped 404; nothing is rendered on request.
	stored, err := g.App.Store.GetTask(ctx, v.ID)
	require.NoError(t, err)
	require.NotEmpty(t, stored.Result.ThumbnailFileID, "the render stored a thumbnail")
	stored.Result.ThumbnailFileID = ""
	require.NoError(t, g.App.Store.UpdateTask(ctx, stored))
	status, body, raw := g.JSON("GET", "/v1/videos/"+v.ID+"/content?variant=thumbnail", "")
	require.Equal(t, http.StatusNotFound, status, "%s", raw)
	thumbErr, _ := body["error"].(map[string]any)
	require.Equal(t, "invalid_request_error", thumbErr["type"], "%s", raw)
	require.Equal(t, "variant", thumbErr["param"], "%s", raw)
	require.Equal(t, "not_found", thumbErr["code"], "%s", raw)

	// A second video from JSON-free defaults (the default model), then the list.
	other, err := client.Videos.New(ctx, sdk.VideoNewParams{Prompt: "a paper boat --rs 480p", Seconds: "4"})
	require.NoError(t, err)
	require.Equal(t, "doubao-seedance-1-5-pro-251215", string(other.Model))
	require.Contains(t, []sdk.VideoStatus{sdk.VideoStatusQueued, sdk.VideoStatusInProgress}, other.Status)

	page, err := client.Videos.List(ctx, sdk.VideoListParams{Limit: sdk.Int(1)})
	require.NoError(t, err)
	require.Len(t, page.Data, 1)
	require.Equal(t, other.ID, page.Data[0].ID)
	require.True(t, page.HasMore)
	next, err := client.Videos.List(ctx, sdk.VideoListParams{Limit: sdk.Int(10), After: sdk.String(other.ID)})
	require.NoError(t, err)
	require.Len(t, next.Data, 1)
	require.Equal(t, v.ID, next.Data[0].ID)
	asc, err := client.Videos.List(ctx, sdk.VideoListParams{Order: sdk.VideoListParamsOrderAsc})
	require.NoError(t, err)
	require.Equal(t, v.ID, asc.Data[0].ID)

	del, err := client.Videos.Delete(ctx, v.ID)
	require.NoError(t, err)
	require.True(t, del.Deleted)
	require.Equal(t, v.ID, del.ID)
	_, err = client.Videos.Get(ctx, v.ID)
	var apiErr *sdk.Error
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, http.StatusNotFound, apiErr.StatusCode)

	bad := sdk.NewClient(option.WithBaseURL(g.URL+"/v1/"), option.WithAPIKey("sk-wrong"), option.WithHTTPClient(g.Client), option.WithMaxRetries(0))
	_, err = bad.Videos.Get(ctx, other.ID)
	require.True(t, errors.As(err, &apiErr), "%v", err)
	require.Equal(t, http.StatusUnauthorized, apiErr.StatusCode)
	require.Equal(t, "invalid_api_key", apiErr.Code)
}

// JSON creates, with input_reference as a URL, and the answer's shape.
func TestJSONCreate(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t, "SEEDGATE_SANDBOX_QUEUE_DELAY=30s")
	img := g.UploadPNG(720, 1280)
	status, out, raw := g.JSON("POST", "/v1/videos", `{"model":"seedance-1.5-pro","prompt":"a dancer","seconds":6,"size":"720x1280","input_reference":{"image_url":"`+img+`"}}`)
	require.Equal(t, http.StatusOK, status, "%s", raw)
	g.Golden("json_create", raw, volatile...)
	require.Equal(t, "video", out["object"])
	require.Equal(t, "queued", out["status"])
	require.Equal(t, "720x1280", out["size"])
	require.Equal(t, "6", out["seconds"])

	// The content of an unfinished video is refused.
	status, e, _ := g.JSON("GET", "/v1/videos/"+out["id"].(string)+"/content", "")
	require.Equal(t, http.StatusConflict, status)
	require.Contains(t, e["error"].(map[string]any)["message"], "queued")
	// Deleting a queued video cancels and deletes it.
	status, d, _ := g.JSON("DELETE", "/v1/videos/"+out["id"].(string), "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, map[string]any{"id": out["id"], "object": "video.deleted", "deleted": true}, d)
}

func TestErrors(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	img := g.UploadPNG(640, 640)
	cases := []struct {
		name, body string
		status     int
		param      string
		msg        string
	}{
		{"bad field", `{"prompt":"x","seconds":"four"}`, 400, "seconds", "whole number"},
		{"missing prompt", `{"seconds":"4"}`, 400, "prompt", "prompt"},
		{"unknown model", `{"model":"sora-2","prompt":"x"}`, 400, "model", "seedance-1-5-pro"},
		{"out-of-range duration", `{"prompt":"x","seconds":"20"}`, 400, "seconds", "4–12"},
		{"bad size", `{"prompt":"x","size":"big"}`, 400, "size", "WIDTHxHEIGHT"},
		{"bad reference", `{"prompt":"x","input_reference":42}`, 400, "input_reference", "image"},
		{"reference not an image", `{"prompt":"x","input_reference":"data:image/png;base64,aGVsbG8="}`, 400, "input_reference", ""},
		{"both image forms", `{"model":"doubao-seedance-1-0-pro-fast-251015","prompt":"x","input_reference":"` + img + `","seconds":"99"}`, 400, "seconds", "2–12"},
	}
	for _, c := range cases {
		status, out, raw := g.JSON("POST", "/v1/videos", c.body)
		require.Equal(t, c.status, status, "%s: %s", c.name, raw)
		e := out["error"].(map[string]any)
		require.Equal(t, "invalid_request_error", e["type"], c.name)
		require.Equal(t, c.param, e["param"], "%s: %s", c.name, raw)
		require.Contains(t, e["message"], c.msg, "%s: %s", c.name, raw)
	}
	// A multipart create whose fields are bad stores no file.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("prompt", "x")
	_ = mw.WriteField("seconds", "30")
	fw, _ := mw.CreateFormFile("input_reference", "a.png")
	_, _ = fw.Write(dialecttest.PNG(640, 640))
	_ = mw.Close()
	resp, raw := g.Do("POST", "/v1/videos", &body, map[string]string{"Content-Type": mw.FormDataContentType()})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode, "%s", raw)
	require.Contains(t, string(raw), `"param":"seconds"`)

	for _, q := range []string{"limit=0", "order=up", "after=cgt-nope"} {
		status, _, raw := g.JSON("GET", "/v1/videos?"+q, "")
		require.Equal(t, http.StatusBadRequest, status, "%s: %s", q, raw)
	}
	status, _, _ := g.JSON("GET", "/v1/videos/cgt-nope/content?variant=thumbnail", "")
	require.Equal(t, http.StatusNotFound, status)
	status, _, _ = g.JSON("GET", "/v1/videos/cgt-nope/other", "")
	require.Equal(t, http.StatusNotFound, status)
	resp, raw = g.Do("GET", "/v1/videos", nil, map[string]string{"Authorization": "Bearer nope"})
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	g.Golden("error_wrong_key", raw, "message")
	require.True(t, strings.Contains(string(raw), "invalid_api_key"))

	_, list, _ := g.JSON("GET", "/v1/jobs", "")
	require.Empty(t, list["data"], "nothing was stored")
}
