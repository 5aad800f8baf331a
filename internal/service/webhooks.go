package service

import (
	"context"
	"time"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// Webhooks is what the service needs of the callback dispatcher
// (webhook.Dispatcher): a task's deliveries, a manual retry, and the signing
// secret of an API key.
type Webhooks interface {
	Deliveries(ctx context.Context, taskID string) ([]*store.WebhookMessage, error)
	Retry(ctx context.Context, taskID, msgID string) (*store.WebhookMessage, error)
	Secret(ctx context.Context, keyID string) (store.WebhookSecret, error)
	RotateSecret(ctx context.Context, keyID string) (store.WebhookSecret, error)
}

// UseWebhooks connects the callback dispatcher, which is built after the
// service (it renders payloads with Present). Call it before serving.
func (s *Service) UseWebhooks(w Webhooks) { s.webhooks = w }

// Delivery is one callback event of a task, with its attempts.
type Delivery struct {
	ID             string // the webhook-id of every attempt
	TaskID         string
	TaskStatus     task.Status // the status the event announces
	URL            string
	State          string // pending | delivered | failed | gone | skipped
	Attempts       int
	NextAttemptAt  *time.Time
	LastStatusCode int
	LastError      string
	CreatedAt      time.Time
	DeliveredAt    *time.Time
	History        []DeliveryAttempt // oldest first
}

// DeliveryAttempt is one POST of a delivery.
type DeliveryAttempt struct {
	N            int
	StartedAt    time.Time
	Duration     time.Duration
	StatusCode   int    // 0 when no HTTP answer came
	Error        string // why it did not count as delivered
	ResponseBody string // the start of the receiver's answer
	Manual       bool   // sent because of a manual retry
}

// WebhookSecret is the secret that signs the callbacks of an API key's tasks.
type WebhookSecret struct {
	KeyID  string
	Secret string // "whsec_…"
	// PreviousUntil is when the secret before the last rotation stops signing
	// too (nil: no previous secret).
	PreviousUntil *time.Time
	CreatedAt     time.Time
	RotatedAt     *time.Time
}

func (s *Service) webhooksOrUnavailable() (Webhooks, error) {
	if s.webhooks == nil {
		return nil, task.Errorf(task.CodeUnavailable, "", "webhooks are not available on this gateway's store")
	}
	return s.webhooks, nil
}

// Deliveries lists the callback events of the tenant's task id, oldest first.
func (s *Service) Deliveries(ctx context.Context, tenant, id string) ([]Delivery, error) {
	w, err := s.webhooksOrUnavailable()
	if err != nil {
		return nil, err
	}
	t, err := s.Get(ctx, tenant, id)
	if err != nil {
		return nil, err
	}
	ms, err := w.Deliveries(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	out := make([]Delivery, 0, len(ms))
	for _, m := range ms {
		out = append(out, delivery(m))
	}
	return out, nil
}

// RetryDelivery sends the event deliveryID of the tenant's task id again now,
// under the same webhook-id, whatever its state.
func (s *Service) RetryDelivery(ctx context.Context, tenant, id, deliveryID string) (Delivery, error) {
	w, err := s.webhooksOrUnavailable()
	if err != nil {
		return Delivery{}, err
	}
	t, err := s.Get(ctx, tenant, id)
	if err != nil {
		return Delivery{}, err
	}
	m, err := w.Retry(ctx, t.ID, deliveryID)
	if err != nil {
		return Delivery{}, err
	}
	return delivery(m), nil
}

// WebhookSecret is the secret of API key keyID (made on first use).
func (s *Service) WebhookSecret(ctx context.Context, keyID string) (WebhookSecret, error) {
	w, err := s.webhooksOrUnavailable()
	if err != nil {
		return WebhookSecret{}, err
	}
	sec, err := w.Secret(ctx, keyID)
	if err != nil {
		return WebhookSecret{}, err
	}
	return secret(sec), nil
}

// RotateWebhookSecret gives API key keyID a new secret; the old one keeps
// signing too for a while.
func (s *Service) RotateWebhookSecret(ctx context.Context, keyID string) (WebhookSecret, error) {
	w, err := s.webhooksOrUnavailable()
	if err != nil {
		return WebhookSecret{}, err
	}
	sec, err := w.RotateSecret(ctx, keyID)
	if err != nil {
		return WebhookSecret{}, err
	}
	return secret(sec), nil
}

func delivery(m *store.WebhookMessage) Delivery {
	d := Delivery{ID: m.ID, TaskID: m.TaskID, TaskStatus: m.Status, URL: m.URL, State: string(m.State),
		Attempts: m.Attempts, NextAttemptAt: m.NextAttemptAt, LastStatusCode: m.LastStatusCode,
		LastError: m.LastError, CreatedAt: m.CreatedAt, DeliveredAt: m.DeliveredAt}
	for _, a := range m.History {
		d.History = append(d.History, DeliveryAttempt{N: a.N, StartedAt: a.StartedAt, Duration: a.Duration,
			StatusCode: a.StatusCode, Error: a.Error, ResponseBody: a.ResponseBody, Manual: a.Manual})
	}
	return d
}

func secret(s store.WebhookSecret) WebhookSecret {
	out := WebhookSecret{KeyID: s.KeyID, Secret: s.Secret, CreatedAt: s.CreatedAt, RotatedAt: s.RotatedAt}
	if s.Previous != "" {
		out.PreviousUntil = s.PreviousUntil
	}
	return out
}
