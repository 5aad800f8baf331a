package ark

import (
	arkproto "github.com/seedgate/seedgate/internal/protocol/ark"
)

// The wire types are the protocol's (internal/protocol/ark), shared with the
// ark dialect and the emulator.
type (
	createBody  = arkproto.CreateBody
	contentItem = arkproto.ContentItem
	urlRef      = arkproto.URLRef
	draftTask   = arkproto.DraftTaskRef
	tool        = arkproto.Tool
	// Task is the upstream task object (get, list items, callback bodies).
	Task      = arkproto.Task
	TaskError = arkproto.TaskError
	Content   = arkproto.TaskContent
	Usage     = arkproto.Usage
)

// maxAnswerBytes bounds what is read from an API answer: a page of 500 task
// objects is well under 1 MB.
const maxAnswerBytes = 8 << 20

// errMalformed marks an answer that is not what the API promises.
var errMalformed = arkproto.ErrMalformed

// DecodeTask, DecodeList and decodeCreated are the protocol's client codecs.
var (
	DecodeTask    = arkproto.DecodeTask
	DecodeList    = arkproto.DecodeList
	decodeCreated = arkproto.DecodeCreated
)

// decodeAPIError reads an error answer; ok is false when the body is not Ark's
// envelope (a proxy's HTML page, say).
func decodeAPIError(data []byte) (code, message, param string, ok bool) {
	e, ok := arkproto.DecodeError(data)
	return e.Code, e.Message, e.Param, ok
}
