package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/seedgate/seedgate/internal/store"
)

// Page sizes for ListTasks.
const (
	DefaultPageLimit = 20
	MaxPageLimit     = 1000
)

// pageLimit applies the default and the cap to a requested page size.
func pageLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultPageLimit
	case n > MaxPageLimit:
		return MaxPageLimit
	}
	return n
}

// whereClause collects SQL conditions and their arguments. Conditions are
// constant SQL with placeholders; values only ever travel as arguments.
type whereClause struct {
	conds []string
	args  []any
}

func (w *whereClause) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// addIn adds "column IN (?, ?, …)" for values.
func addIn[T any](w *whereClause, column string, values []T) {
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(values)), ", ")
	args := make([]any, len(values))
	for i, v := range values {
		args[i] = v
	}
	w.add(column+" IN ("+marks+")", args...)
}

func (w *whereClause) sql() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// filterWhere turns the filtering (not paging) fields of f into conditions.
func filterWhere(f store.TaskFilter) *whereClause {
	w := &whereClause{}
	if f.Tenant != nil {
		w.add("tenant = ?", *f.Tenant)
	}
	if len(f.Statuses) > 0 {
		statuses := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			statuses[i] = string(s)
		}
		addIn(w, "status", statuses)
	}
	if f.Model != "" {
		w.add("model = ?", f.Model)
	}
	if f.Dialect != "" {
		w.add("dialect = ?", f.Dialect)
	}
	if len(f.IDs) > 0 {
		addIn(w, "id", f.IDs)
	}
	if f.ServiceTier != "" {
		w.add("json_extract(request_json, '$.service_tier') = ?", f.ServiceTier)
	}
	if f.RequestID != "" {
		w.add("json_extract(request_json, '$.request_id') = ?", f.RequestID)
	}
	if f.Search != "" {
		// instr, not LIKE: the search text is matched literally, '%' and '_' included.
		w.add("instr(prompt_lower, ?) > 0", strings.ToLower(f.Search))
	}
	if !f.CreatedAfter.IsZero() {
		w.add("created_at >= ?", toMillis(f.CreatedAfter))
	}
	if !f.CreatedBefore.IsZero() {
		w.add("created_at < ?", toMillis(f.CreatedBefore))
	}
	return w
}

// ListTasks returns one page of the tasks f selects, newest first (CreatedAt,
// then ID, descending) or oldest first with f.Asc.
//
// f.After is a keyset cursor: the page starts strictly after that task in the
// chosen order. The cursor task need not match the other filters (its status
// may have changed since), but it must exist and, when f.Tenant is set, belong
// to that tenant; otherwise ListTasks returns ErrNotFound. f.Offset skips that
// many tasks (after the cursor, if both are given). Total counts every task
// the filters select, regardless of paging. CreatedAfter and CreatedBefore are
// truncated to the millisecond, like the stored times they bound.
func (s *Store) ListTasks(ctx context.Context, f store.TaskFilter) (store.TaskPage, error) {
	limit := pageLimit(f.Limit)
	filter := filterWhere(f)

	// One read transaction, so the page and the total see the same snapshot.
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return store.TaskPage{}, fmt.Errorf("sqlite: list tasks: %w", err)
	}
	defer func() { _ = tx.Rollback() }()

	page := &whereClause{conds: append([]string{}, filter.conds...), args: append([]any{}, filter.args...)}
	order, cursorCmp := "DESC", "<"
	if f.Asc {
		order, cursorCmp = "ASC", ">"
	}
	if f.After != "" {
		cursor := &whereClause{}
		cursor.add("id = ?", f.After)
		if f.Tenant != nil {
			cursor.add("tenant = ?", *f.Tenant)
		}
		var createdAt int64
		err := tx.QueryRowContext(ctx, `SELECT created_at FROM tasks`+cursor.sql(), cursor.args...).Scan(&createdAt)
		if errors.Is(err, sql.ErrNoRows) {
			return store.TaskPage{}, fmt.Errorf("sqlite: list tasks after %s: %w", f.After, store.ErrNotFound)
		}
		if err != nil {
			return store.TaskPage{}, fmt.Errorf("sqlite: list tasks: %w", err)
		}
		page.add("(created_at, id) "+cursorCmp+" (?, ?)", createdAt, f.After)
	}

	query := `SELECT ` + taskColumns + ` FROM tasks` + page.sql() +
		` ORDER BY created_at ` + order + `, id ` + order + ` LIMIT ? OFFSET ?`
	// One extra row tells whether there is more.
	args := append(page.args, limit+1, max(f.Offset, 0))
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return store.TaskPage{}, fmt.Errorf("sqlite: list tasks: %w", err)
	}
	tasks, err := scanTasks(rows)
	if err != nil {
		return store.TaskPage{}, fmt.Errorf("sqlite: list tasks: %w", err)
	}
	result := store.TaskPage{Tasks: tasks}
	if len(tasks) > limit {
		result.Tasks, result.HasMore = tasks[:limit], true
	}

	if f.CountTotal {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tasks`+filter.sql(), filter.args...).Scan(&result.Total); err != nil {
			return store.TaskPage{}, fmt.Errorf("sqlite: count tasks: %w", err)
		}
	}
	return result, nil
}
