package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/seedgate/seedgate/internal/store"
)

// Page sizes for ListTasks (the same as SQLite's).
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
// constant SQL where "?" stands for the next argument; values only ever travel
// as arguments.
type whereClause struct {
	conds []string
	args  []any
}

// add appends cond, numbering its "?" marks $n after the arguments so far.
func (w *whereClause) add(cond string, args ...any) {
	for _, a := range args {
		cond = strings.Replace(cond, "?", w.next(a), 1)
	}
	w.conds = append(w.conds, cond)
}

// next returns the placeholder of one more argument, v.
func (w *whereClause) next(v any) string {
	w.args = append(w.args, v)
	return "$" + strconv.Itoa(len(w.args))
}

func (w *whereClause) clone() *whereClause {
	return &whereClause{conds: append([]string{}, w.conds...), args: append([]any{}, w.args...)}
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
		w.add("status = ANY(?)", statuses)
	}
	if f.Model != "" {
		w.add("model = ?", f.Model)
	}
	if f.Dialect != "" {
		w.add("dialect = ?", f.Dialect)
	}
	if len(f.IDs) > 0 {
		w.add("id = ANY(?)", f.IDs)
	}
	if f.ServiceTier != "" {
		// json, not jsonb: jsonb refuses a "\u0000" that a prompt may hold.
		w.add("request_json::json ->> 'service_tier' = ?", f.ServiceTier)
	}
	if f.RequestID != "" {
		w.add("request_json::json ->> 'request_id' = ?", f.RequestID)
	}
	if f.Search != "" {
		// strpos, not LIKE: the search text is matched literally, '%' and '_' included.
		w.add("strpos(prompt_lower, ?) > 0", searchable(f.Search))
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
// then ID, descending) or oldest first with f.Asc. The paging rules are
// SQLite's (see sqlite.Store.ListTasks): After is an exclusive keyset cursor
// that must exist (and belong to f.Tenant when set), Offset skips after it,
// Total ignores paging.
func (s *Store) ListTasks(ctx context.Context, f store.TaskFilter) (store.TaskPage, error) {
	limit := pageLimit(f.Limit)
	filter := filterWhere(f)

	// One snapshot for the page and the total.
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return store.TaskPage{}, fmt.Errorf("postgres: list tasks: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	page := filter.clone()
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
		err := tx.QueryRow(ctx, `SELECT created_at FROM tasks`+cursor.sql(), cursor.args...).Scan(&createdAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return store.TaskPage{}, fmt.Errorf("postgres: list tasks after %s: %w", f.After, store.ErrNotFound)
		}
		if err != nil {
			return store.TaskPage{}, fmt.Errorf("postgres: list tasks: %w", err)
		}
		page.add("(created_at, id) "+cursorCmp+" (?, ?)", createdAt, f.After)
	}

	// One extra row tells whether there is more.
	query := `SELECT ` + taskColumns + ` FROM tasks` + page.sql() +
		` ORDER BY created_at ` + order + `, id ` + order +
		` LIMIT ` + page.next(limit+1) + ` OFFSET ` + page.next(max(f.Offset, 0))
	rows, err := tx.Query(ctx, query, page.args...)
	if err != nil {
		return store.TaskPage{}, fmt.Errorf("postgres: list tasks: %w", err)
	}
	tasks, err := scanTasks(rows)
	if err != nil {
		return store.TaskPage{}, fmt.Errorf("postgres: list tasks: %w", err)
	}
	result := store.TaskPage{Tasks: tasks}
	if len(tasks) > limit {
		result.Tasks, result.HasMore = tasks[:limit], true
	}

	if f.CountTotal {
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM tasks`+filter.sql(), filter.args...).Scan(&result.Total); err != nil {
			return store.TaskPage{}, fmt.Errorf("postgres: count tasks: %w", err)
		}
	}
	return result, nil
}
