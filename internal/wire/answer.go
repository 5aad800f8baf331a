package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrMalformed marks an upstream answer that is not what its API promises.
var ErrMalformed = errors.New("malformed answer")

// Malformed returns an error wrapping ErrMalformed.
func Malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

// DecodeAnswer decodes one JSON value of an upstream's answer into v and
// refuses trailing data, so a truncated or doubled body is never half-believed.
// Unknown fields are allowed: an upstream may add to its answers.
func DecodeAnswer(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return Malformed("%v", err)
	}
	if dec.More() {
		return Malformed("trailing data after the JSON value")
	}
	return nil
}
