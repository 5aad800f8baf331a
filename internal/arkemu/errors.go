package arkemu

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	arkproto "github.com/seedgate/seedgate/internal/protocol/ark"
)

// statusOfCode is the HTTP status that goes with an Ark error code, for codes
// that arrive without one (the [ark:reject=…] marker, fault rules without Status).
func statusOfCode(code string) int {
	base, _, _ := strings.Cut(code, ".")
	switch base {
	case "AuthenticationError":
		return http.StatusUnauthorized
	case "AccountOverdueError", "AccessDenied", "OperationDenied":
		return http.StatusForbidden
	case "InvalidEndpointOrModel", "ModelNotOpen", "NotFound":
		return http.StatusNotFound
	case "RateLimitExceeded", "ModelAccountRpmRateLimitExceeded", "ServerOverloaded",
		"RequestBurstTooFast", "SetLimitExceeded", "QuotaExceeded":
		return http.StatusTooManyRequests
	case "InternalServiceError":
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

// errReply builds an Ark error answer. Like Ark, the message ends with the request id.
func errReply(c *call, status int, code, param, msg string) reply {
	body, _ := json.Marshal(arkproto.ErrorEnvelope{Error: &arkproto.APIError{
		Code:    code,
		Message: msg + " Request ID: " + c.requestID,
		Param:   param,
		Type:    arkproto.ErrorType(status),
	}})
	return reply{status: status, body: body}
}

func faultErrorReply(c *call, f *Fault) reply {
	status, code := f.Status, f.Code
	switch {
	case status == 0 && code == "":
		status, code = http.StatusInternalServerError, "InternalServiceError"
	case status == 0:
		status = statusOfCode(code)
	case code == "":
		code = defaultCodeForStatus(status)
	}
	msg := f.Message
	if msg == "" {
		msg = "Injected fault: " + code + "."
	}
	rep := errReply(c, status, code, "", msg)
	if f.RetryAfter > 0 {
		secs := int((f.RetryAfter + 999_999_999) / 1_000_000_000) // round up to whole seconds
		rep.header = http.Header{"Retry-After": []string{strconv.Itoa(secs)}}
	}
	return rep
}

func defaultCodeForStatus(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "InvalidParameter"
	case http.StatusUnauthorized:
		return "AuthenticationError"
	case http.StatusForbidden:
		return "AccessDenied"
	case http.StatusNotFound:
		return "NotFound"
	case http.StatusTooManyRequests:
		return "ServerOverloaded"
	}
	return "InternalServiceError"
}

// failureMessage is the human text that goes with a failed task's code.
func failureMessage(code string) string {
	switch {
	case strings.HasPrefix(code, "OutputVideoSensitiveContentDetected"):
		return "The request failed because the output video may contain sensitive information."
	case strings.HasPrefix(code, "InputTextSensitiveContentDetected"):
		return "The request failed because the input text may contain sensitive information."
	case strings.HasPrefix(code, "InputImageSensitiveContentDetected"):
		return "The request failed because the input image may contain sensitive information."
	case strings.HasPrefix(code, "SensitiveContentDetected"):
		return "The request failed because the input or output may contain sensitive information."
	case code == "InternalServiceError":
		return "The service encountered an unexpected internal error."
	}
	return "The task failed: " + code + "."
}
