package wire

import (
	"fmt"
	"net/http"

	"github.com/seedgate/seedgate/internal/task"
)

// ErrorRow is how one error code looks on a dialect's wire: the HTTP status and
// the dialect's own word for it (its error code, or its error type).
type ErrorRow struct {
	Status int
	Code   string
}

// ErrorTable maps error codes to a dialect's rows. A code missing from the
// table takes the table's CodeInternal row; a table without one (a dialect that
// keeps the defaults) gives HTTPStatus and the code itself.
type ErrorTable map[task.Code]ErrorRow

// Row is the row of code c.
func (t ErrorTable) Row(c task.Code) ErrorRow {
	if row, ok := t[c]; ok {
		return row
	}
	if row, ok := t[task.CodeInternal]; ok {
		return row
	}
	return ErrorRow{Status: HTTPStatus(c), Code: string(c)}
}

// ErrorShape builds a dialect's error body for e, whose row is row.
type ErrorShape func(r *http.Request, e *task.Error, row ErrorRow) any

// Errors writes errors the way one dialect does: its table and its shape. Every
// dialect's WriteError is an Errors.Write.
type Errors struct {
	Table ErrorTable
	Shape ErrorShape
}

// Write writes err (any error; not a *task.Error is internal) with the row's
// status, the shape's body and, for errors that carry one, Retry-After. An
// internal error's cause is logged with the request id and never sent: it may
// name server paths, hosts or database details; the client gets the id to
// quote instead.
func (d Errors) Write(w http.ResponseWriter, r *http.Request, err error) {
	e := task.AsError(err)
	if e.Code == task.CodeInternal {
		e = internal(r, err)
	}
	row := d.Table.Row(e.Code)
	SetRetryAfter(w, e)
	WriteJSON(w, row.Status, d.Shape(r, e, row))
}

// internal logs err, an internal error of r, and returns what the client sees.
func internal(r *http.Request, err error) *task.Error {
	ctx := r.Context()
	id := RequestID(ctx)
	Logger(ctx).ErrorContext(ctx, "request failed", "method", r.Method, "path", r.URL.Path, "request_id", id, "err", err)
	msg := "internal error"
	if id != "" {
		msg = fmt.Sprintf("internal error (request id %s); the cause is in the gateway's log", id)
	}
	return &task.Error{Code: task.CodeInternal, Message: msg}
}
