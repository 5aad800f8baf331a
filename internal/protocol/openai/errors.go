package openai

import (
	"net/http"

	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// APIError is OpenAI's error object.
type APIError struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    string  `json:"code"`
}

// ErrorEnvelope is OpenAI's error answer: {"error":{"message","type","param","code"}}.
type ErrorEnvelope struct {
	Error APIError `json:"error"`
}

// ErrorTable maps error codes to OpenAI's statuses and error types (the row's Code).
var ErrorTable = wire.ErrorTable{
	task.CodeInvalidParameter: {Status: http.StatusBadRequest, Code: "invalid_request_error"},
	task.CodeMissingParameter: {Status: http.StatusBadRequest, Code: "invalid_request_error"},
	task.CodeInvalidJSON:      {Status: http.StatusBadRequest, Code: "invalid_request_error"},
	task.CodeUnknownModel:     {Status: http.StatusBadRequest, Code: "invalid_request_error"},
	task.CodeBodyTooLarge:     {Status: http.StatusRequestEntityTooLarge, Code: "invalid_request_error"},
	task.CodeUnsupportedMedia: {Status: http.StatusUnsupportedMediaType, Code: "invalid_request_error"},
	task.CodeUnauthorized:     {Status: http.StatusUnauthorized, Code: "invalid_request_error"},
	task.CodeForbidden:        {Status: http.StatusForbidden, Code: "permission_error"},
	task.CodePaymentRequired:  {Status: http.StatusTooManyRequests, Code: "insufficient_quota"},
	task.CodeNotFound:         {Status: http.StatusNotFound, Code: "invalid_request_error"},
	task.CodeConflict:         {Status: http.StatusConflict, Code: "invalid_request_error"},
	task.CodeRateLimited:      {Status: http.StatusTooManyRequests, Code: "rate_limit_error"},
	task.CodeQuotaExceeded:    {Status: http.StatusTooManyRequests, Code: "insufficient_quota"},
	task.CodeUpstream:         {Status: http.StatusBadGateway, Code: "server_error"},
	task.CodeUnavailable:      {Status: http.StatusServiceUnavailable, Code: "server_error"},
	task.CodeInternal:         {Status: http.StatusInternalServerError, Code: "server_error"},

	task.CodeUpstreamOutcomeUnknown: {Status: http.StatusBadGateway, Code: "server_error"},
}

// ErrorStyle is what differs between the APIs that answer errors the OpenAI
// way: the table (status and type per code), how a field is named as a
// param, and the code word (nil: the error code itself).
type ErrorStyle struct {
	Table wire.ErrorTable
	Param func(field string) string
	Code  func(e *task.Error) string
}

// Errors is the error writer of style s.
func (s ErrorStyle) Errors() wire.Errors {
	return wire.Errors{Table: s.Table, Shape: func(_ *http.Request, e *task.Error, row wire.ErrorRow) any {
		var param *string
		if e.Field != "" {
			p := s.Param(e.Field)
			param = &p
		}
		code := string(e.Code)
		if s.Code != nil {
			code = s.Code(e)
		}
		return ErrorEnvelope{Error: APIError{Message: e.Message, Type: row.Code, Param: param, Code: code}}
	}}
}

// Errors writes errors as the OpenAI Videos API does.
var Errors = ErrorStyle{Table: ErrorTable, Param: Param, Code: func(e *task.Error) string {
	if e.Code == task.CodeUnauthorized {
		return "invalid_api_key"
	}
	return string(e.Code)
}}.Errors()

// Param names a normalized request field as the Videos API spells it.
func Param(f string) string {
	switch f {
	case "duration":
		return "seconds"
	case "resolution", "ratio":
		return "size"
	case "first_frame":
		return "input_reference"
	}
	return f
}
