package task

import (
	"errors"
	"fmt"
)

// Code is a stable, dialect-neutral error code. Each dialect maps codes to its
// own wire shape and HTTP status in one table.
type Code string

const (
	CodeInvalidParameter Code = "invalid_parameter" // a field has a bad value
	CodeMissingParameter Code = "missing_parameter" // a required field is absent
	CodeInvalidJSON      Code = "invalid_json"      // the body is not the JSON the endpoint takes
	CodeBodyTooLarge     Code = "body_too_large"
	CodeUnsupportedMedia Code = "unsupported_media_type"
	CodeUnknownModel     Code = "unknown_model"
	CodeUnauthorized     Code = "unauthorized"
	CodeForbidden        Code = "forbidden"
	CodeNotFound         Code = "not_found"
	CodeConflict         Code = "conflict" // the task's state does not allow the operation
	CodeRateLimited      Code = "rate_limited"
	CodeQuotaExceeded    Code = "quota_exceeded"
	CodePaymentRequired  Code = "payment_required"
	CodeUpstream         Code = "upstream_error" // the provider failed the task or the call
	CodeUnavailable      Code = "unavailable"
	CodeInternal         Code = "internal"

	// CodeUpstreamOutcomeUnknown: a create got no answer on an upstream that
	// cannot look tasks up; it is not sent again, so the task fails unbilled.
	CodeUpstreamOutcomeUnknown Code = "upstream_outcome_unknown"
)

// Error is seedgate's one error type: a stable code, the field it concerns (if any)
// and a message for people. UpstreamCode carries the provider's own code when the
// error came from upstream (e.g. "OutputVideoSensitiveContentDetected").
type Error struct {
	Code         Code   `json:"code"`
	Message      string `json:"message"`
	Field        string `json:"field,omitempty"`
	UpstreamCode string `json:"upstream_code,omitempty"`
	// RetryAfter, in seconds, for rate_limited and unavailable.
	RetryAfter int `json:"-"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (field %s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf builds an Error with a formatted message.
func Errorf(code Code, field, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Message: fmt.Sprintf(format, args...)}
}

// AsError returns err as an *Error, wrapping unknown errors as internal ones.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: "internal error"}
}

// ErrorCode returns the code of err, or "" if err is not an *Error.
func ErrorCode(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
