// Package wire has what every dialect does the same way at the HTTP edge:
// decoding a JSON body into a struct with every failure turned into a
// *task.Error that names the field, and writing JSON answers.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/seedgate/seedgate/internal/task"
)

// DecodeOptions tunes DecodeJSON.
type DecodeOptions struct {
	MaxBytes int64 // 0: 64 MiB
	// Strict rejects unknown fields (the native API does; reseller dialects accept
	// extras the way their upstreams do).
	Strict bool
}

// MaxDepth bounds JSON nesting: no request of any dialect needs more, and a deep
// document is a cheap way to burn CPU.
const MaxDepth = 32

// DecodeJSON reads r's body into v. Errors are *task.Error: invalid_json,
// body_too_large, unsupported_media_type, unavailable (the gateway's budget of
// body bytes, see BodyBudget), or invalid_parameter naming the field. When r's
// context has a Spool, base64 data: URLs of SpoolMin bytes or more are decoded
// into its files while the body is read, and v gets placeholder URLs for them.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any, o DecodeOptions) error {
	if err := CheckJSONContentType(r); err != nil {
		return err
	}
	limit := o.MaxBytes
	if limit <= 0 {
		limit = 64 << 20
	}
	// One pass over the stream: big data: URLs go to the request's Spool
	// as they arrive, so what stays in memory is the rest of the document.
	body, err := readBody(http.MaxBytesReader(w, r.Body, limit), SpoolFrom(r.Context()))
	if err != nil {
		var mbe *http.MaxBytesError
		var te *task.Error
		switch {
		case errors.As(err, &mbe):
			return task.Errorf(task.CodeBodyTooLarge, "", "the request body is larger than %d bytes", mbe.Limit)
		case errors.As(err, &te):
			return te
		}
		return task.Errorf(task.CodeInvalidJSON, "", "reading the request body failed: %v", err)
	}
	return Unmarshal(body, v, o.Strict)
}

// CheckJSONContentType refuses a request whose Content-Type is not JSON
// (application/json or a +json type). Anything else, even text that parses as
// JSON, is refused: a web page can send text/plain, form or typeless bodies to
// any site without asking (no CORS preflight), but not a JSON content type.
func CheckJSONContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return task.Errorf(task.CodeUnsupportedMedia, "", "the request has no Content-Type: send the JSON body with Content-Type: application/json")
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
		return task.Errorf(task.CodeUnsupportedMedia, "", "Content-Type must be application/json (or another +json type), got %q", ct)
	}
	return nil
}

// Unmarshal decodes one JSON value from body into v with DecodeJSON's error mapping.
func Unmarshal(body []byte, v any, strict bool) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return task.Errorf(task.CodeInvalidJSON, "", "the request body is empty; send a JSON object")
	}
	if !utf8.Valid(body) {
		return task.Errorf(task.CodeInvalidJSON, "", "the request body is not valid UTF-8")
	}
	if depth(body) > MaxDepth {
		return task.Errorf(task.CodeInvalidJSON, "", "the JSON is nested deeper than %d levels", MaxDepth)
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return task.Errorf(task.CodeInvalidJSON, "", "the request body has data after the JSON object")
	}
	return nil
}

func jsonError(err error) *task.Error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var fe *FieldError
	switch {
	case errors.As(err, &fe):
		return task.Errorf(task.CodeInvalidParameter, fe.Field, "%s", fe.Msg)
	case errors.As(err, &syn):
		return task.Errorf(task.CodeInvalidJSON, "", "malformed JSON at byte %d: %v", syn.Offset, syn)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return task.Errorf(task.CodeInvalidJSON, "", "the body must be a JSON object, not %s", typ.Value)
		}
		return task.Errorf(task.CodeInvalidParameter, field, "%s must be %s, not %s", field, typeName(typ.Type.String()), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return task.Errorf(task.CodeInvalidJSON, "", "the JSON ends early")
	}
	msg := err.Error()
	if f, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		f = strings.Trim(f, `"`)
		return task.Errorf(task.CodeInvalidParameter, f, "unknown field %q", f)
	}
	return task.Errorf(task.CodeInvalidJSON, "", "invalid JSON: %s", strings.TrimPrefix(msg, "json: "))
}

// FieldError is returned by custom UnmarshalJSON methods to name the field at fault.
type FieldError struct{ Field, Msg string }

func (e *FieldError) Error() string { return e.Msg }

func typeName(goType string) string {
	goType = strings.TrimPrefix(goType, "*")
	switch {
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"):
		return "an integer"
	case strings.HasPrefix(goType, "float"), goType == "json.Number":
		return "a number"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	}
	return "an object"
}

// depth returns the deepest nesting of arrays/objects in a JSON document,
// ignoring brackets inside strings.
func depth(b []byte) int {
	d, maxD, inStr, esc := 0, 0, false, false
	for _, c := range b {
		switch {
		case esc:
			esc = false
		case inStr && c == '\\':
			esc = true
		case c == '"':
			inStr = !inStr
		case inStr:
		case c == '{' || c == '[':
			d++
			maxD = max(maxD, d)
		case c == '}' || c == ']':
			d--
		}
	}
	return maxD
}

// WriteJSON writes v with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, `{"error":"encoding the answer failed"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// HTTPStatus is the default HTTP status of each error code; dialects whose
// documents say otherwise override it in their own table.
func HTTPStatus(c task.Code) int {
	switch c {
	case task.CodeInvalidParameter, task.CodeMissingParameter, task.CodeInvalidJSON, task.CodeUnknownModel:
		return http.StatusBadRequest
	case task.CodeUnauthorized:
		return http.StatusUnauthorized
	case task.CodePaymentRequired:
		return http.StatusPaymentRequired
	case task.CodeForbidden:
		return http.StatusForbidden
	case task.CodeNotFound:
		return http.StatusNotFound
	case task.CodeConflict:
		return http.StatusConflict
	case task.CodeBodyTooLarge:
		return http.StatusRequestEntityTooLarge
	case task.CodeUnsupportedMedia:
		return http.StatusUnsupportedMediaType
	case task.CodeRateLimited, task.CodeQuotaExceeded:
		return http.StatusTooManyRequests
	case task.CodeUpstream, task.CodeUpstreamOutcomeUnknown:
		return http.StatusBadGateway
	case task.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// SetRetryAfter sets the Retry-After header for errors that carry one.
func SetRetryAfter(w http.ResponseWriter, e *task.Error) {
	if e.RetryAfter > 0 {
		w.Header().Set("Retry-After", fmt.Sprint(e.RetryAfter))
	}
}
