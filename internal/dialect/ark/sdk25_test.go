package ark_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/volcengine/volcengine-go-sdk/service/arkruntime"
	"github.com/volcengine/volcengine-go-sdk/service/arkruntime/model"
	"github.com/volcengine/volcengine-go-sdk/volcengine"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/media/mediatest"
)

const seedance25 = "doubao-seedance-2-5-260628"

// The official SDK with Seedance 2.5 through the Ark dialect: an extend of a
// previous result, an edit, a draft and its final, and a mov output, each
// confirmed with ffprobe.
//
// The newest volcengine-go-sdk the module proxy serves (v1.1.35) types only
// text and image_url content items and no output_format,
// omni_reference_task_type or draft_task: the SDK creates the text task, and
// the creates it cannot express go as the same dialect's JSON; the SDK then
// follows every task (get, list) and hands out the URLs that are checked.
func TestOfficialSDKSeedance25(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Skip("ffprobe not installed")
	}
	g := dialecttest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	client := arkruntime.NewClientWithApiKey(dialecttest.Key, arkruntime.WithBaseUrl(g.URL+"/api/v3"), arkruntime.WithRetryTimes(0))

	wait := func(id string) model.GetContentGenerationTaskResponse {
		t.Helper()
		var got model.GetContentGenerationTaskResponse
		require.Eventually(t, func() bool {
			var err error
			got, err = client.GetContentGenerationTask(ctx, model.GetContentGenerationTaskRequest{ID: id})
			require.NoError(t, err)
			require.NotEqual(t, model.StatusFailed, got.Status, "%+v", got.Error)
			return got.Status == model.StatusSucceeded
		}, 3*time.Minute, 20*time.Millisecond, "task %s", id)
		require.Equal(t, seedance25, got.Model)
		return got
	}
	probe := func(got model.GetContentGenerationTaskResponse, name string) (mediatest.VideoInfo, *http.Response) {
		t.Helper()
		resp, b := g.Do("GET", strings.TrimPrefix(got.Content.VideoURL, g.URL), nil, nil)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
		path := filepath.Join(t.TempDir(), name)
		require.NoError(t, os.WriteFile(path, b, 0o600))
		info, err := mediatest.ProbeVideo(ctx, path)
		require.NoError(t, err)
		return info, resp
	}
	raw := func(body string) string {
		t.Helper()
		status, out, b := g.JSON("POST", "/api/v3/contents/generations/tasks", body)
		require.Equal(t, http.StatusOK, status, "%s", b)
		return out["id"].(string)
	}

	// The previous result, made by the SDK: 4 s of text-to-video at 480p.
	created, err := client.CreateContentGenerationTask(ctx, model.CreateContentGenerationTaskRequest{
		Model: seedance25,
		Content: []*model.CreateContentGenerationContentItem{
			{Type: model.ContentGenerationContentItemTypeText, Text: volcengine.String("a paper boat on a river --rs 480p --dur 4 --rt 16:9")},
		},
	})
	require.NoError(t, err)
	prev := wait(created.ID)
	prevInfo, _ := probe(prev, "prev.mp4")
	require.Equal(t, []int{864, 496}, []int{prevInfo.Width, prevInfo.Height})

	video := fmt.Sprintf(`{"type":"video_url","video_url":{"url":%q},"role":"reference_video"}`, prev.Content.VideoURL)
	extendID := raw(`{"model":"` + seedance25 + `","content":[{"type":"text","text":"the boat sails on"},` + video +
		`],"omni_reference_task_type":"extend","duration":5,"resolution":"480p","ratio":"adaptive"}`)
	editID := raw(`{"model":"` + seedance25 + `","content":[{"type":"text","text":"at night, in neon"},` + video +
		`],"omni_reference_task_type":"editing","resolution":"480p","ratio":"adaptive"}`)
	movID := raw(`{"model":"` + seedance25 + `","content":[{"type":"text","text":"a lantern"}],"output_format":"mov","duration":4,"resolution":"480p"}`)
	draftID := raw(`{"model":"` + seedance25 + `","content":[{"type":"text","text":"a storyboard of a harbour"}],"draft":true,"duration":4,"seed":31}`)

	extend := wait(extendID)
	info, _ := probe(extend, "extend.mp4")
	require.InDelta(t, prevInfo.Duration+5, info.Duration, 1.0/24, "an extend is the source + the requested seconds")
	require.Equal(t, []int{864, 496}, []int{info.Width, info.Height})

	info, _ = probe(wait(editID), "edit.mp4")
	require.InDelta(t, prevInfo.Duration, info.Duration, 1.0/24, "an edit is as long as its source")

	info, resp := probe(wait(movID), "out.mov")
	require.Equal(t, "qt", info.MajorBrand, "a QuickTime file")
	require.Equal(t, "video/quicktime", resp.Header.Get("Content-Type"))

	draft := wait(draftID)
	info, _ = probe(draft, "draft.mp4")
	require.Equal(t, 496, info.Height, "a draft is 480p")
	finalID := raw(`{"model":"` + seedance25 + `","content":[{"type":"text","text":"a storyboard of a harbour"},{"type":"draft_task","draft_task":{"id":"` + draftID + `"}}]}`)
	final := wait(finalID)
	require.Equal(t, *draft.Seed, *final.Seed, "the final has its draft's seed")
	info, _ = probe(final, "final.mp4")
	require.Equal(t, 720, info.Height, "the final is 720p")

	list, err := client.ListContentGenerationTasks(ctx, model.ListContentGenerationTasksRequest{
		PageSize: volcengine.Int(20),
		Filter: &model.ListContentGenerationTasksFilter{Status: volcengine.String(model.StatusSucceeded), Model: volcengine.String(seedance25),
			TaskIDs: []*string{volcengine.String(extendID), volcengine.String(editID), volcengine.String(movID), volcengine.String(finalID)}},
	})
	require.NoError(t, err)
	require.EqualValues(t, 4, list.Total)
}
