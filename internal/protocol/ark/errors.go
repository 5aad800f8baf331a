package ark

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// APIError is Ark's error object.
type APIError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Param   string `json:"param"`
	Type    string `json:"type"`
}

// ErrorEnvelope is Ark's error answer: {"error":{"code","message","param","type"}}.
type ErrorEnvelope struct {
	Error *APIError `json:"error"`
}

// DecodeError reads an error answer; ok is false when the body is not Ark's
// envelope (a proxy's HTML page, say).
func DecodeError(data []byte) (e APIError, ok bool) {
	var env ErrorEnvelope
	if json.Unmarshal(data, &env) != nil || env.Error == nil || env.Error.Code == "" {
		return APIError{}, false
	}
	return *env.Error, true
}

// ErrorTable maps every error code to Ark's status and code
// (docs/upstream-ark.md#errors).
var ErrorTable = wire.ErrorTable{
	task.CodeInvalidParameter: {Status: http.StatusBadRequest, Code: "InvalidParameter"},
	task.CodeMissingParameter: {Status: http.StatusBadRequest, Code: "MissingParameter"},
	task.CodeInvalidJSON:      {Status: http.StatusBadRequest, Code: "InvalidParameter"},
	task.CodeBodyTooLarge:     {Status: http.StatusBadRequest, Code: "InvalidParameter"},
	task.CodeUnsupportedMedia: {Status: http.StatusBadRequest, Code: "InvalidParameter"},
	task.CodeUnknownModel:     {Status: http.StatusNotFound, Code: "InvalidEndpointOrModel.NotFound"},
	task.CodeUnauthorized:     {Status: http.StatusUnauthorized, Code: "AuthenticationError"},
	task.CodeForbidden:        {Status: http.StatusForbidden, Code: "AccessDenied"},
	task.CodePaymentRequired:  {Status: http.StatusForbidden, Code: "AccountOverdueError"},
	task.CodeNotFound:         {Status: http.StatusNotFound, Code: "NotFound"},
	task.CodeConflict:         {Status: http.StatusConflict, Code: "OperationDenied.InvalidTaskStatus"},
	task.CodeRateLimited:      {Status: http.StatusTooManyRequests, Code: "RateLimitExceeded.EndpointRPMExceeded"},
	task.CodeQuotaExceeded:    {Status: http.StatusTooManyRequests, Code: "QuotaExceeded"},
	task.CodeUnavailable:      {Status: http.StatusTooManyRequests, Code: "ServerOverloaded"},
	task.CodeUpstream:         {Status: http.StatusInternalServerError, Code: "InternalServiceError"},
	task.CodeInternal:         {Status: http.StatusInternalServerError, Code: "InternalServiceError"},

	task.CodeUpstreamOutcomeUnknown: {Status: http.StatusBadGateway, Code: "UpstreamOutcomeUnknown"},
}

// ErrorType is the "type" Ark gives each HTTP status.
func ErrorType(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "BadRequest"
	case http.StatusUnauthorized:
		return "Unauthorized"
	case http.StatusForbidden:
		return "Forbidden"
	case http.StatusNotFound:
		return "NotFound"
	case http.StatusConflict:
		return "Conflict"
	case http.StatusTooManyRequests:
		return "TooManyRequests"
	case http.StatusServiceUnavailable:
		return "ServiceUnavailable"
	}
	if status >= 500 {
		return "InternalServerError"
	}
	return strings.ReplaceAll(http.StatusText(status), " ", "")
}

// Errors writes errors as Ark does: {"error":{"code","message","param","type"}},
// the message ending with the request id.
var Errors = wire.Errors{Table: ErrorTable, Shape: func(r *http.Request, e *task.Error, row wire.ErrorRow) any {
	msg := e.Message
	if id := wire.RequestID(r.Context()); id != "" {
		msg = fmt.Sprintf("%s Request ID: %s", strings.TrimRight(msg, " "), id)
	}
	return ErrorEnvelope{Error: &APIError{Code: row.Code, Message: msg, Param: Param(e.Field), Type: ErrorType(row.Status)}}
}}

// ErrorCode is Ark's code for a task's error: the upstream's own when the
// failure came from upstream, else the table's.
func ErrorCode(e *task.Error) string {
	if e.UpstreamCode != "" {
		return e.UpstreamCode
	}
	return ErrorTable.Row(e.Code).Code
}

// Param names a normalized request field as the Ark body parameter it came from.
func Param(field string) string {
	switch field {
	case "prompt", "first_frame", "last_frame":
		return "content"
	case "draft_task_id":
		return "content[].draft_task.id"
	case "web_search":
		return "tools"
	}
	for _, p := range []string{"reference_images", "reference_videos", "reference_audio"} {
		if strings.HasPrefix(field, p) {
			return "content"
		}
	}
	return field
}
