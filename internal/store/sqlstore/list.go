package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/seedgate/seedgate/internal/store"
)

// Page sizes for ListTasks.
const (
	DefaultPageLimit = 20
	MaxPageLimit     = 1000
)

// PageLimit applies the default and the cap to a requested page size.
func PageLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultPageLimit
	case n > MaxPageLimit:
		return MaxPageLimit
	}
	return n
}

// Where collects SQL conditions and their arguments. Conditions are constant
// SQL in which "?" stands for the next argument (numbered $n as added);
// values only ever travel as arguments.
type Where struct {
	conds []string
	Args  []any
}

// Add appends cond, numbering its "?" marks after the arguments so far.
func (w *Where) Add(cond string, args ...any) {
	for _, a := range args {
		cond = strings.Replace(cond, "?", w.Next(a), 1)
	}
	w.conds = append(w.conds, cond)
}

// Next returns the placeholder of one more argument, v.
func (w *Where) Next(v any) string {
	w.Args = append(w.Args, v)
	return "$" + strconv.Itoa(len(w.Args))
}

func (w *Where) clone() *Where {
	return &Where{conds: append([]string{}, w.conds...), Args: append([]any{}, w.Args...)}
}

// SQL is " WHERE …", or "" when there is no condition.
func (w *Where) SQL() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// filterWhere turns the filtering (not paging) fields of f into conditions.
func (c Conn) filterWhere(f store.TaskFilter) *Where {
	w := &Where{}
	if f.Tenant != nil {
		w.Add("tenant = ?", *f.Tenant)
	}
	if len(f.Statuses) > 0 {
		statuses := make([]string, len(f.Statuses))
		for i, s := range f.Statuses {
			statuses[i] = string(s)
		}
		w.Add(c.D.InList("status", "?"), c.D.List(statuses))
	}
	if f.Model != "" {
		w.Add("model = ?", f.Model)
	}
	if f.Dialect != "" {
		w.Add("dialect = ?", f.Dialect)
	}
	if len(f.IDs) > 0 {
		w.Add(c.D.InList("id", "?"), c.D.List(f.IDs))
	}
	if f.ServiceTier != "" {
		w.Add(c.D.JSONText("request_json", "service_tier")+" = ?", f.ServiceTier)
	}
	if f.RequestID != "" {
		w.Add("request_id = ?", f.RequestID)
	}
	if f.Search != "" {
		// Not LIKE: the search text is matched literally, '%' and '_' included.
		w.Add(c.D.Contains("prompt_lower", "?"), strings.ToLower(f.Search))
	}
	if !f.CreatedAfter.IsZero() {
		w.Add("created_at >= ?", toMillis(f.CreatedAfter))
	}
	if !f.CreatedBefore.IsZero() {
		w.Add("created_at < ?", toMillis(f.CreatedBefore))
	}
	return w
}

// ListTasks implements store.TaskQueries: one page of the tasks f selects,
// newest first (CreatedAt, then ID, descending) or oldest first with f.Asc.
//
// f.After is a keyset cursor: the page starts strictly after that task in the
// chosen order. The cursor task need not match the other filters (its status
// may have changed since), but it must exist and, when f.Tenant is set, belong
// to that tenant; otherwise ListTasks returns ErrNotFound. f.Offset skips that
// many tasks (after the cursor, if both are given). Total counts every task
// the filters select, regardless of paging. CreatedAfter and CreatedBefore are
// truncated to the millisecond, like the stored times they bound.
func (c Conn) ListTasks(ctx context.Context, f store.TaskFilter) (store.TaskPage, error) {
	var page store.TaskPage
	err := c.Q.ReadTx(ctx, func(q Querier) error { // one snapshot for the page and the total
		var err error
		page, err = c.listTasks(ctx, q, f)
		return err
	})
	if err != nil {
		return store.TaskPage{}, fmt.Errorf("list tasks: %w", err)
	}
	return page, nil
}

func (c Conn) listTasks(ctx context.Context, q Querier, f store.TaskFilter) (store.TaskPage, error) {
	limit := PageLimit(f.Limit)
	filter := c.filterWhere(f)
	page := filter.clone()
	order, cursorCmp := "DESC", "<"
	if f.Asc {
		order, cursorCmp = "ASC", ">"
	}
	if f.After != "" {
		cursor := &Where{}
		cursor.Add("id = ?", f.After)
		if f.Tenant != nil {
			cursor.Add("tenant = ?", *f.Tenant)
		}
		var createdAt int64
		if err := q.QueryRow(ctx, `SELECT created_at FROM tasks`+cursor.SQL(), cursor.Args...).Scan(&createdAt); err != nil {
			return store.TaskPage{}, fmt.Errorf("after %s: %w", f.After, err)
		}
		page.Add("(created_at, id) "+cursorCmp+" (?, ?)", createdAt, f.After)
	}
	// One extra row tells whether there is more.
	query := `SELECT ` + TaskColumns + ` FROM tasks` + page.SQL() +
		` ORDER BY created_at ` + order + `, id ` + order +
		` LIMIT ` + page.Next(limit+1) + ` OFFSET ` + page.Next(max(f.Offset, 0))
	rows, err := q.Query(ctx, query, page.Args...)
	tasks, err := collect(rows, err, ScanTask)
	if err != nil {
		return store.TaskPage{}, err
	}
	result := store.TaskPage{Tasks: tasks}
	if len(tasks) > limit {
		result.Tasks, result.HasMore = tasks[:limit], true
	}
	if f.CountTotal {
		if err := q.QueryRow(ctx, `SELECT count(*) FROM tasks`+filter.SQL(), filter.Args...).Scan(&result.Total); err != nil {
			return store.TaskPage{}, fmt.Errorf("count: %w", err)
		}
	}
	return result, nil
}
