// Package responses is the wire protocol of the DMXAPI Seedance dialect at
// POST /v1/responses: a submit is Ark's content items in input[] with Ark's
// top-level fields, answered {"id","usage"}; a query answers a Responses API
// object (or its event stream) whose text describes the task. Errors are
// OpenAI's envelope. No HTTP handlers live here.
package responses

import (
	"encoding/json"
	"net/http"

	"github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/protocol/openai"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// QueryModel is the model name that makes a call a query, not a submit.
const QueryModel = "seedance-get"

// Body is a POST /v1/responses body.
type Body struct {
	Model  string          `json:"model"`
	Input  json.RawMessage `json:"input"`
	Stream bool            `json:"stream"`
	ark.Params
}

// SubmitAnswer is a submit's answer.
type SubmitAnswer struct {
	ID    string `json:"id"`
	Usage Usage  `json:"usage"`
}

// Usage is the Responses API's usage object; a submit reports the task's
// estimated tokens as output tokens.
type Usage struct {
	TotalTokens        int64 `json:"total_tokens"`
	InputTokens        int64 `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int64 `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int64 `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int64 `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
}

// NewUsage is a usage of output tokens only.
func NewUsage(output int64) Usage { return Usage{TotalTokens: output, OutputTokens: output} }

// Response is a Responses API response object carrying a task's status as text.
type Response struct {
	ID        string       `json:"id"`
	Object    string       `json:"object"`
	CreatedAt int64        `json:"created_at"`
	Status    string       `json:"status"`
	Model     string       `json:"model"`
	Output    []OutputItem `json:"output"`
	Usage     *Usage       `json:"usage"`
	// Metadata names the task, for clients that do not parse the text.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// OutputItem is an assistant message.
type OutputItem struct {
	Type    string        `json:"type"`
	ID      string        `json:"id"`
	Status  string        `json:"status"`
	Role    string        `json:"role"`
	Content []ContentPart `json:"content"`
}

// ContentPart is an output_text part.
type ContentPart struct {
	Type        string `json:"type"`
	Text        string `json:"text"`
	Annotations []any  `json:"annotations"`
}

// ErrorTable maps error codes to statuses and OpenAI error types (DMXAPI
// answers errors the OpenAI way, with its own types for 401 and 402).
var ErrorTable = wire.ErrorTable{
	task.CodeInvalidParameter: {Status: http.StatusBadRequest, Code: "invalid_request_error"},
	task.CodeMissingParameter: {Status: http.StatusBadRequest, Code: "invalid_request_error"},
	task.CodeInvalidJSON:      {Status: http.StatusBadRequest, Code: "invalid_request_error"},
	task.CodeUnknownModel:     {Status: http.StatusBadRequest, Code: "invalid_request_error"},
	task.CodeBodyTooLarge:     {Status: http.StatusRequestEntityTooLarge, Code: "invalid_request_error"},
	task.CodeUnsupportedMedia: {Status: http.StatusUnsupportedMediaType, Code: "invalid_request_error"},
	task.CodeUnauthorized:     {Status: http.StatusUnauthorized, Code: "authentication_error"},
	task.CodeForbidden:        {Status: http.StatusForbidden, Code: "permission_error"},
	task.CodePaymentRequired:  {Status: http.StatusPaymentRequired, Code: "insufficient_quota"},
	task.CodeNotFound:         {Status: http.StatusNotFound, Code: "invalid_request_error"},
	task.CodeConflict:         {Status: http.StatusConflict, Code: "invalid_request_error"},
	task.CodeRateLimited:      {Status: http.StatusTooManyRequests, Code: "rate_limit_error"},
	task.CodeQuotaExceeded:    {Status: http.StatusTooManyRequests, Code: "insufficient_quota"},
	task.CodeUpstream:         {Status: http.StatusBadGateway, Code: "server_error"},
	task.CodeUnavailable:      {Status: http.StatusServiceUnavailable, Code: "server_error"},
	task.CodeInternal:         {Status: http.StatusInternalServerError, Code: "server_error"},

	task.CodeUpstreamOutcomeUnknown: {Status: http.StatusBadGateway, Code: "server_error"},
}

// Errors writes errors as {"error":{"message","type","param","code"}}.
var Errors = openai.ErrorStyle{Table: ErrorTable, Param: Param}.Errors()

// Param names a normalized request field as this dialect's body spells it.
func Param(f string) string {
	p := ark.Param(f)
	if p == "content" {
		p = "input"
	}
	return p
}
