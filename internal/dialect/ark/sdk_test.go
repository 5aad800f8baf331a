package ark_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/volcengine/volcengine-go-sdk/service/arkruntime"
	"github.com/volcengine/volcengine-go-sdk/service/arkruntime/model"
	"github.com/volcengine/volcengine-go-sdk/volcengine"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
)

// The official Volcengine Go SDK, pointed at the gateway, creates, gets, lists
// and deletes tasks unchanged. (NewClientWithApiKey replaces
// http.DefaultClient's Transport: nothing in this package uses that client.)
func TestOfficialSDK(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, base := range []string{g.URL + "/api/v3", g.URL + "/byteplus/v3"} {
		client := arkruntime.NewClientWithApiKey(dialecttest.Key, arkruntime.WithBaseUrl(base), arkruntime.WithRetryTimes(0))
		const pro = "doubao-seedance-1-0-pro-fast-251015"
		created, err := client.CreateContentGenerationTask(ctx, model.CreateContentGenerationTaskRequest{
			Model: pro,
			Content: []*model.CreateContentGenerationContentItem{
				{Type: model.ContentGenerationContentItemTypeText, Text: volcengine.String("a red kite over the sea --rs 480p --dur 2")},
				{Type: model.ContentGenerationContentItemTypeImage, ImageURL: &model.ImageURL{URL: g.UploadPNG(960, 720)}, Role: volcengine.String("first_frame")},
			},
			ReturnLastFrame: volcengine.Bool(true),
		})
		require.NoError(t, err)
		require.NotEmpty(t, created.ID)
		require.NotEmpty(t, created.Header().Get("X-Request-Id"))

		var got model.GetContentGenerationTaskResponse
		require.Eventually(t, func() bool {
			got, err = client.GetContentGenerationTask(ctx, model.GetContentGenerationTaskRequest{ID: created.ID})
			require.NoError(t, err)
			return got.Status == model.StatusSucceeded
		}, 30*time.Second, 20*time.Millisecond)
		require.Equal(t, pro, got.Model)
		require.NotEmpty(t, got.Content.VideoURL)
		require.NotEmpty(t, got.Content.LastFrameURL)
		require.Equal(t, 736*544*49/1024, got.Usage.CompletionTokens, "480p 4:3 (adaptive from 960×720), 2 s")
		require.NotNil(t, got.Seed)
		require.Nil(t, got.Error)

		other, err := client.CreateContentGenerationTask(ctx, model.CreateContentGenerationTaskRequest{
			Model: pro,
			Content: []*model.CreateContentGenerationContentItem{
				{Type: model.ContentGenerationContentItemTypeText, Text: volcengine.String("another --rs 480p --dur 2")},
			},
		})
		require.NoError(t, err)

		list, err := client.ListContentGenerationTasks(ctx, model.ListContentGenerationTasksRequest{
			PageNum: volcengine.Int(1), PageSize: volcengine.Int(10),
			Filter: &model.ListContentGenerationTasksFilter{
				Status:  volcengine.String(model.StatusSucceeded),
				TaskIDs: []*string{volcengine.String(created.ID), volcengine.String(other.ID)},
				Model:   volcengine.String(pro),
			},
		})
		require.NoError(t, err)
		require.EqualValues(t, 1, list.Total)
		require.Len(t, list.Items, 1)
		require.Equal(t, created.ID, list.Items[0].ID)
		require.Equal(t, got.Content.VideoURL, list.Items[0].Content.VideoURL)

		require.NoError(t, client.DeleteContentGenerationTask(ctx, model.DeleteContentGenerationTaskRequest{ID: created.ID}))
		_, err = client.GetContentGenerationTask(ctx, model.GetContentGenerationTaskRequest{ID: created.ID})
		var apiErr *model.APIError
		require.True(t, errors.As(err, &apiErr), "got %v", err)
		require.Equal(t, http.StatusNotFound, apiErr.HTTPStatusCode)
		require.Equal(t, "NotFound", apiErr.Code)

		_, err = client.CreateContentGenerationTask(ctx, model.CreateContentGenerationTaskRequest{
			Model: "doubao-seedance-0-0",
			Content: []*model.CreateContentGenerationContentItem{
				{Type: model.ContentGenerationContentItemTypeText, Text: volcengine.String("x")},
			},
		})
		require.True(t, errors.As(err, &apiErr), "got %v", err)
		require.Equal(t, http.StatusNotFound, apiErr.HTTPStatusCode)
		require.Equal(t, "InvalidEndpointOrModel.NotFound", apiErr.Code)
		require.NotNil(t, apiErr.Param)
		require.Equal(t, "model", *apiErr.Param)

		bad := arkruntime.NewClientWithApiKey("sk-wrong", arkruntime.WithBaseUrl(base), arkruntime.WithRetryTimes(0))
		_, err = bad.GetContentGenerationTask(ctx, model.GetContentGenerationTaskRequest{ID: other.ID})
		require.True(t, errors.As(err, &apiErr), "got %v", err)
		require.Equal(t, http.StatusUnauthorized, apiErr.HTTPStatusCode)
		require.Equal(t, "AuthenticationError", apiErr.Code)
	}
}
