package ark

// Test-only entry points: the fuzz targets and tests decode a body the way the
// handlers do, without a request around it.

import (
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// DecodeCreate decodes a create body into the model name and request. Every
// error is a *task.Error naming the body's field.
func DecodeCreate(body []byte) (model string, req task.Request, err error) {
	var b createRequest
	if err := wire.Unmarshal(body, &b, false); err != nil {
		return "", task.Request{}, ParamsError(err)
	}
	return b.request()
}
