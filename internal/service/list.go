package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// ListFilter selects the caller's tasks for List. Zero fields select anything.
type ListFilter struct {
	Statuses []task.Status
	Model    string // canonical id
	Dialect  string
	IDs      []string
	// ServiceTier selects tasks whose request has this service tier.
	ServiceTier string
	// RequestID selects the task created by this gateway request id.
	RequestID string
	// Search is a case-insensitive substring of the prompt.
	Search string
	// CreatedAfter bounds CreatedAt (inclusive).
	CreatedAfter time.Time

	// Paging: either Offset (page_num style) or After (keyset: tasks older than
	// this id; newer ones with Asc). An After that is not one of the tenant's
	// tasks is a not_found error naming the field "after".
	Limit  int
	Offset int
	After  string
	Asc    bool
	// CountTotal asks for Page.Total (costs a count).
	CountTotal bool
}

// Page is one page of List.
type Page struct {
	Tasks   []*task.Task
	Total   int  // only with ListFilter.CountTotal
	HasMore bool // more tasks beyond this page
}

// List returns the tenant's tasks.
func (s *Service) List(ctx context.Context, tenant string, f ListFilter) (Page, error) {
	page, err := s.store.ListTasks(ctx, store.TaskFilter{
		Tenant: &tenant, Statuses: f.Statuses, Model: f.Model, Dialect: f.Dialect, IDs: f.IDs,
		ServiceTier: f.ServiceTier, RequestID: f.RequestID, Search: f.Search, CreatedAfter: f.CreatedAfter,
		Limit: f.Limit, Offset: f.Offset, After: f.After, Asc: f.Asc, CountTotal: f.CountTotal,
	})
	if errors.Is(err, store.ErrNotFound) && f.After != "" {
		return Page{}, task.Errorf(task.CodeNotFound, "after", "after %q is not one of your tasks", f.After)
	}
	if err != nil {
		return Page{}, fmt.Errorf("list tasks: %w", err)
	}
	out := Page{Tasks: page.Tasks, Total: page.Total, HasMore: page.HasMore}
	for i, t := range out.Tasks {
		out.Tasks[i] = s.present(t)
	}
	return out, nil
}
