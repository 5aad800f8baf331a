// Package responses serves the DMXAPI dialect (docs/dialects.md#responses) at POST /v1/responses:
// a submit (Ark's content items in input[], top-level fields) answers
// {"id","usage"}; a query (model "seedance-get", input = the task id) answers
// in the OpenAI Responses API style, streamed as Server-Sent Events ending in
// response.completed and [DONE] (stream:true) or as one object (stream:false),
// whose text has the line "视频URL: <url>".
package responses

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/auth"
	ark "github.com/seedgate/seedgate/internal/protocol/ark"
	rp "github.com/seedgate/seedgate/internal/protocol/responses"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// Dialect is the name stored on tasks created here.
const Dialect = "responses"

// QueryModel is the model name that makes a call a query, not a submit.
const QueryModel = rp.QueryModel

// Handler serves POST /v1/responses; routes.go mounts it.
type Handler struct {
	svc *service.Service
	Options
}

// Options tunes a Handler.
type Options struct {
	MaxBodyBytes int64
	// Wait bounds how long a streamed query waits for the task to finish
	// before completing with its current status.
	Wait time.Duration
	Now  func() time.Time // nil: time.Now
}

// New returns the dialect's handlers over svc.
func New(svc *service.Service, o Options) *Handler { return &Handler{svc: svc, Options: o} }

// WriteError writes err in OpenAI's error envelope: the server writes what it refuses
// on this dialect's routes (auth, idempotency, body encoding) through it.
func (h *Handler) WriteError(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, err)
}

type body = rp.Body

// Call is a decoded POST /v1/responses: a submit (Request set) or a query (TaskID set).
type Call struct {
	Model   string
	Stream  bool
	TaskID  string // query
	Request task.Request
}

// Decode decodes a body (exported for the fuzz target).
func Decode(b []byte) (Call, error) {
	var in body
	if err := wire.Unmarshal(b, &in, false); err != nil {
		return Call{}, ark.ParamsError(err)
	}
	return call(&in)
}

func call(in *body) (Call, error) {
	c := Call{Model: strings.TrimSpace(in.Model), Stream: in.Stream}
	if c.Model == "" {
		return c, task.Errorf(task.CodeMissingParameter, "model", "model is required: a Seedance model to submit, or %q to query a task", QueryModel)
	}
	raw := bytes.TrimSpace(in.Input)
	if len(raw) == 0 || string(raw) == "null" {
		return c, task.Errorf(task.CodeMissingParameter, "input", "input is required")
	}
	// A string input is the task id of a query, or the prompt of a submit.
	var s string
	isString := raw[0] == '"' && json.Unmarshal(raw, &s) == nil
	if strings.EqualFold(c.Model, QueryModel) {
		if !isString {
			var items ark.Content
			if json.Unmarshal(raw, &items) == nil && len(items) > 0 {
				r, err := ark.ParseContent(items, "input")
				if err == nil {
					s = r.Prompt
				}
			}
		}
		c.TaskID = strings.TrimSpace(s)
		if c.TaskID == "" {
			return c, task.Errorf(task.CodeInvalidParameter, "input", "input must be the task id to query, e.g. \"cgt-20260119222114-2r292\"")
		}
		return c, nil
	}
	var err error
	if isString {
		c.Request.Prompt = s
	} else {
		var items ark.Content
		if err := json.Unmarshal(raw, &items); err != nil {
			return c, task.Errorf(task.CodeInvalidParameter, "input", "input must be an array of items such as {\"type\":\"text\",\"text\":\"…\"}")
		}
		if c.Request, err = ark.ParseContent(items, "input"); err != nil {
			return c, err
		}
	}
	if err := in.Params.Apply(&c.Request); err != nil {
		return c, err
	}
	return c, nil
}

// Handle is POST /v1/responses.
func (h *Handler) Handle(w http.ResponseWriter, r *http.Request) {
	var in body
	if err := wire.DecodeJSON(w, r, &in, wire.DecodeOptions{MaxBytes: h.MaxBodyBytes}); err != nil {
		WriteError(w, r, ark.ParamsError(err))
		return
	}
	c, err := call(&in)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if c.TaskID != "" {
		h.query(w, r, c)
		return
	}
	h.submit(w, r, c)
}

func (h *Handler) submit(w http.ResponseWriter, r *http.Request, c Call) {
	c.Request.RequestID = wire.RequestID(r.Context())
	p, _ := auth.FromContext(r.Context())
	t, err := h.svc.Create(r.Context(), service.CreateInput{Tenant: p.Tenant, Dialect: Dialect, Model: c.Model, Request: c.Request})
	if err != nil {
		WriteError(w, r, err)
		return
	}
	var tokens int64
	if m, _, ok := task.LookupModel(t.Model); ok {
		tokens = m.EstimateTokens(&t.Request, 0, 0)
	}
	wire.WriteJSON(w, http.StatusOK, rp.SubmitAnswer{ID: t.ID, Usage: rp.NewUsage(tokens)})
}

// WriteError writes err as {"error":{"message","type","param","code"}} (rp.Errors).
func WriteError(w http.ResponseWriter, r *http.Request, err error) { rp.Errors.Write(w, r, err) }
