package seedance

// Test-only entry points: the fuzz targets and tests decode a body the way the
// handlers do, without a request around it.

import (
	ark "github.com/seedgate/seedgate/internal/protocol/ark"
	sp "github.com/seedgate/seedgate/internal/protocol/seedance"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// DecodeCreate decodes a create body into the model name and request.
func DecodeCreate(body []byte) (model string, req task.Request, err error) {
	var b sp.CreateBody
	if err := wire.Unmarshal(body, &b, false); err != nil {
		return "", task.Request{}, ark.ParamsError(err)
	}
	return toRequest(&b)
}
