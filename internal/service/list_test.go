package service

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// List sees only the tenant's tasks, pages by cursor, and answers a cursor
// that is not one of the tenant's tasks with not_found naming "after".
func TestListFilterAndCursor(t *testing.T) {
	t.Parallel()
	svc, _ := setup(t)
	ctx := context.Background()
	var ids []string
	for i := range 3 {
		tk, err := svc.Create(ctx, CreateInput{Tenant: "t1", Dialect: "jobs", Model: "seedance-1-0-pro",
			Request: task.Request{Prompt: "p", RequestID: "req-" + string(rune('a'+i))}})
		require.NoError(t, err)
		ids = append(ids, tk.ID)
	}
	other, err := svc.Create(ctx, CreateInput{Tenant: "t2", Dialect: "ark", Model: "seedance-1-0-pro", Request: task.Request{Prompt: "p"}})
	require.NoError(t, err)

	page, err := svc.List(ctx, "t1", ListFilter{Limit: 2, CountTotal: true})
	require.NoError(t, err)
	require.Len(t, page.Tasks, 2)
	require.True(t, page.HasMore)
	require.Equal(t, 3, page.Total)
	for _, tk := range page.Tasks {
		require.Equal(t, "t1", tk.Tenant)
	}

	byReq, err := svc.List(ctx, "t1", ListFilter{RequestID: "req-b", Limit: 1})
	require.NoError(t, err)
	require.Len(t, byReq.Tasks, 1)
	require.Equal(t, ids[1], byReq.Tasks[0].ID)

	none, err := svc.List(ctx, "t1", ListFilter{Dialect: "ark", Limit: 10})
	require.NoError(t, err)
	require.Empty(t, none.Tasks, "t2's ark task is not t1's")

	_, err = svc.List(ctx, "t1", ListFilter{After: other.ID, Limit: 10})
	te := task.AsError(err)
	require.Equal(t, task.CodeNotFound, te.Code, "%v", err)
	require.Equal(t, "after", te.Field)
}

// fakeWebhooks records what the service asks of the dispatcher.
type fakeWebhooks struct {
	msgs    []*store.WebhookMessage
	retried []string
	secret  store.WebhookSecret
}

func (f *fakeWebhooks) Deliveries(_ context.Context, taskID string) ([]*store.WebhookMessage, error) {
	var out []*store.WebhookMessage
	for _, m := range f.msgs {
		if m.TaskID == taskID {
			out = append(out, m)
		}
	}
	return out, nil
}

func (f *fakeWebhooks) Retry(_ context.Context, taskID, msgID string) (*store.WebhookMessage, error) {
	for _, m := range f.msgs {
		if m.TaskID == taskID && m.ID == msgID {
			f.retried = append(f.retried, msgID)
			return m, nil
		}
	}
	return nil, task.Errorf(task.CodeNotFound, "delivery_id", "no delivery %s", msgID)
}

func (f *fakeWebhooks) Secret(context.Context, string) (store.WebhookSecret, error) {
	return f.secret, nil
}

func (f *fakeWebhooks) RotateSecret(_ context.Context, keyID string) (store.WebhookSecret, error) {
	return store.WebhookSecret{}, errors.New("rotate " + keyID)
}

// Deliveries and retries go through the service: another tenant's task is
// not_found (nothing reaches the dispatcher), and without a dispatcher every
// webhook call is unavailable.
func TestWebhookCallsThroughTheService(t *testing.T) {
	t.Parallel()
	svc, _ := setup(t)
	ctx := context.Background()
	_, err := svc.Deliveries(ctx, "t1", "cgt-x")
	require.Equal(t, task.CodeUnavailable, task.ErrorCode(err))
	_, err = svc.WebhookSecret(ctx, "k1")
	require.Equal(t, task.CodeUnavailable, task.ErrorCode(err))

	tk, err := svc.Create(ctx, CreateInput{Tenant: "t1", Dialect: "jobs", Model: "seedance-1-0-pro", Request: task.Request{Prompt: "p"}})
	require.NoError(t, err)
	now := time.Now().UTC().Truncate(time.Second)
	prev := now.Add(time.Hour)
	fw := &fakeWebhooks{
		msgs: []*store.WebhookMessage{{ID: "msg_1", TaskID: tk.ID, Status: task.StatusQueued, URL: "https://cb.test",
			State: "failed", Attempts: 2, CreatedAt: now,
			History: []store.WebhookAttempt{{N: 1, StartedAt: now, StatusCode: 500}, {N: 2, StartedAt: now, Manual: true}}}},
		secret: store.WebhookSecret{KeyID: "k1", Secret: "whsec_x", Previous: "whsec_old", PreviousUntil: &prev, CreatedAt: now},
	}
	svc.UseWebhooks(fw)

	ds, err := svc.Deliveries(ctx, "t1", tk.ID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.Equal(t, Delivery{ID: "msg_1", TaskID: tk.ID, TaskStatus: task.StatusQueued, URL: "https://cb.test",
		State: "failed", Attempts: 2, CreatedAt: now,
		History: []DeliveryAttempt{{N: 1, StartedAt: now, StatusCode: 500}, {N: 2, StartedAt: now, Manual: true}}}, ds[0])

	_, err = svc.Deliveries(ctx, "t2", tk.ID)
	require.Equal(t, task.CodeNotFound, task.ErrorCode(err), "another tenant's task")
	_, err = svc.RetryDelivery(ctx, "t2", tk.ID, "msg_1")
	require.Equal(t, task.CodeNotFound, task.ErrorCode(err))
	require.Empty(t, fw.retried, "nothing reached the dispatcher for another tenant")

	d, err := svc.RetryDelivery(ctx, "t1", tk.ID, "msg_1")
	require.NoError(t, err)
	require.Equal(t, "msg_1", d.ID)
	require.Equal(t, []string{"msg_1"}, fw.retried)

	sec, err := svc.WebhookSecret(ctx, "k1")
	require.NoError(t, err)
	require.Equal(t, WebhookSecret{KeyID: "k1", Secret: "whsec_x", PreviousUntil: &prev, CreatedAt: now}, sec)
	_, err = svc.RotateWebhookSecret(ctx, "k1")
	require.EqualError(t, err, "rotate k1")
}
