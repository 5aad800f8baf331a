package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// DraftValidity is how long a draft can be turned into its final video
// (the upstream's 7 days, counted from the draft's creation).
const DraftValidity = 7 * 24 * time.Hour

// checkDraft refuses, at create, a final whose draft (draft_task_id) cannot
// be re-rendered: missing or another tenant's (told apart from nothing), not
// a draft, of another model, unfinished, or older than DraftValidity. Every
// provider's finals pass here, so the sandbox and the upstreams answer alike.
func (s *Service) checkDraft(ctx context.Context, tenant string, m *task.Model, id string) error {
	if id == "" {
		return nil
	}
	d, err := s.store.GetTask(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && d.Tenant != tenant) {
		return task.Errorf(task.CodeInvalidParameter, "draft_task_id", "draft task %s does not exist", id)
	}
	if err != nil {
		return fmt.Errorf("look up draft task: %w", err)
	}
	switch {
	case !task.Or(d.Request.Draft, false):
		return task.Errorf(task.CodeInvalidParameter, "draft_task_id", "task %s is not a draft: make one with draft: true", id)
	case d.Model != m.ID:
		return task.Errorf(task.CodeInvalidParameter, "draft_task_id",
			"draft task %s was made with %s: its final must use the same model", id, d.Model)
	case d.Status != task.StatusSucceeded:
		return task.Errorf(task.CodeInvalidParameter, "draft_task_id",
			"draft task %s is %s: only a succeeded draft can be made final", id, d.Status)
	case s.now().Sub(d.CreatedAt) > DraftValidity:
		return task.Errorf(task.CodeInvalidParameter, "draft_task_id",
			"draft task %s was made on %s: drafts can be made final for 7 days", id, d.CreatedAt.UTC().Format(time.RFC3339))
	}
	return nil
}
