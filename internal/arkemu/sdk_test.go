package arkemu_test

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

	"github.com/seedgate/seedgate/internal/arkemu"
)

// TestOfficialSDK drives the emulator with the official Volcengine Go SDK, to
// prove wire compatibility with a real client.
func TestOfficialSDK(t *testing.T) {
	t.Parallel()
	b := setup(t, fastCallbacks(), false)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	client := arkruntime.NewClientWithApiKey(testKey, arkruntime.WithBaseUrl(b.base), arkruntime.WithRetryTimes(0))

	created, err := client.CreateContentGenerationTask(ctx, model.CreateContentGenerationTaskRequest{
		Model: pro10,
		Content: []*model.CreateContentGenerationContentItem{
			{Type: model.ContentGenerationContentItemTypeText, Text: volcengine.String("a red kite over the sea --rs 480p --dur 2")},
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
	}, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, pro10, got.Model)
	require.NotEmpty(t, got.Content.VideoURL)
	require.NotEmpty(t, got.Content.LastFrameURL)
	require.Equal(t, 864*480*49/1024, got.Usage.CompletionTokens)
	require.NotNil(t, got.Seed)
	require.Nil(t, got.Error)

	other, err := client.CreateContentGenerationTask(ctx, model.CreateContentGenerationTaskRequest{
		Model: pro10,
		Content: []*model.CreateContentGenerationContentItem{
			{Type: model.ContentGenerationContentItemTypeText, Text: volcengine.String("another")},
		},
	})
	require.NoError(t, err)

	list, err := client.ListContentGenerationTasks(ctx, model.ListContentGenerationTasksRequest{
		PageNum: volcengine.Int(1), PageSize: volcengine.Int(10),
		Filter: &model.ListContentGenerationTasksFilter{
			Status:  volcengine.String(model.StatusSucceeded),
			TaskIDs: []*string{volcengine.String(created.ID), volcengine.String(other.ID)},
			Model:   volcengine.String(pro10),
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
	require.Equal(t, "NotFound", apiErr.Type)

	bad := arkruntime.NewClientWithApiKey("sk-wrong", arkruntime.WithBaseUrl(b.base), arkruntime.WithRetryTimes(0))
	_, err = bad.GetContentGenerationTask(ctx, model.GetContentGenerationTaskRequest{ID: other.ID})
	require.True(t, errors.As(err, &apiErr), "got %v", err)
	require.Equal(t, http.StatusUnauthorized, apiErr.HTTPStatusCode)
	require.Equal(t, "AuthenticationError", apiErr.Code)

	require.Equal(t, 3, b.srv.CallsByKey(testKey, arkemu.OpCreate))
}
