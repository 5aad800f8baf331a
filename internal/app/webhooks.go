package app

import (
	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/budget"
	"github.com/seedgate/seedgate/internal/config"
	"github.com/seedgate/seedgate/internal/dialect/ark"
	"github.com/seedgate/seedgate/internal/dialect/jobs"
	"github.com/seedgate/seedgate/internal/dialect/openai"
	"github.com/seedgate/seedgate/internal/dialect/openrouter"
	"github.com/seedgate/seedgate/internal/dialect/responses"
	"github.com/seedgate/seedgate/internal/dialect/seedance"
	"github.com/seedgate/seedgate/internal/dialect/videos"
	"github.com/seedgate/seedgate/internal/events"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/webhook"
)

// webhookPayloads maps each dialect to the body of its callbacks: a task's
// callbacks take the shape of the dialect it was created in. A nil body means
// the dialect announces no event for that status. publicURL and prices are
// what the OpenRouter job shows (its polling URL, its cost).
func webhookPayloads(publicURL string, prices *budget.Prices) map[string]func(*task.Task) any {
	return map[string]func(*task.Task) any{
		jobs.Dialect: jobs.WebhookPayload,
		// Ark posts the task object on each change but a client's own cancel.
		ark.Dialect: func(t *task.Task) any {
			if t.Status == task.StatusCancelled {
				return nil
			}
			return ark.WebhookPayload(t)
		},
		videos.Dialect: videos.WebhookPayload,
		// seedance: "later POSTs the same envelope" (the result); responses likewise.
		seedance.Dialect:  terminalOnly(seedance.WebhookPayload),
		responses.Dialect: terminalOnly(responses.WebhookPayload),
		// OpenAI's video webhooks announce the outcome (video.completed / video.failed).
		openai.Dialect: terminalOnly(openai.WebhookPayload),
		// OpenRouter notifies "when the video generation job completes".
		openrouter.Dialect: openrouter.Renderer(publicURL, prices),
	}
}

// terminalOnly announces only finished tasks (dialects whose callback is "the result").
func terminalOnly(payload func(*task.Task) any) func(*task.Task) any {
	return func(t *task.Task) any {
		if !t.Status.Terminal() {
			return nil
		}
		return payload(t)
	}
}

// newWebhooks returns the callback dispatcher.
func newWebhooks(c *config.Config, st store.Store, svc *service.Service, hub *events.Hub, owner string, base baseservice.Archetype, prices *budget.Prices) *webhook.Dispatcher {
	return webhook.New(webhook.Config{
		Archetype:      base,
		Store:          st,
		HTTP:           webhook.NewClient(c.AllowPrivate, c.WebhookTimeout),
		Render:         webhook.Renderer(webhookPayloads(c.PublicURL, prices), jobs.WebhookPayload, svc.Present),
		Hub:            hub,
		Owner:          owner,
		Workers:        c.WebhookWorkers,
		AttemptTimeout: c.WebhookTimeout,
	})
}
