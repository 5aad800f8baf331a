package openai

// Test-only entry points: the fuzz targets and tests decode a body the way the
// handlers do, without a request around it.

import "github.com/seedgate/seedgate/internal/task"

// DecodeJSON decodes a JSON create body.
func DecodeJSON(body []byte) (model string, req task.Request, err error) {
	f, err := decodeJSON(body)
	if err != nil {
		return "", task.Request{}, err
	}
	return f.request()
}
