package jobs

// Test-only entry points: the fuzz targets and tests decode a body the way the
// handlers do, without a request around it.

import (
	jp "github.com/seedgate/seedgate/internal/protocol/jobs"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// DecodeCreate decodes a create body.
func DecodeCreate(body []byte) (model string, req task.Request, err error) {
	var cr jp.CreateRequest
	if err := wire.Unmarshal(body, &cr, true); err != nil {
		return "", task.Request{}, err
	}
	if cr.Input == nil {
		return "", task.Request{}, task.Errorf(task.CodeMissingParameter, "input", "input is required: {\"model\":…,\"input\":{\"prompt\":…}}")
	}
	req, err = toRequest(cr.Input)
	return cr.Model, req, err
}
