// Package openai is the wire protocol of the OpenAI Videos API: the video
// object, the create body, the list page and the error envelope (shared with
// the other APIs that answer errors the OpenAI way). The openai dialect serves
// it. No HTTP handlers live here.
package openai

import "encoding/json"

// Video is the OpenAI video object.
type Video struct {
	ID                 string     `json:"id"`
	Object             string     `json:"object"`
	Model              string     `json:"model"`
	Status             string     `json:"status"` // queued, in_progress, completed, failed
	Progress           int        `json:"progress"`
	CreatedAt          int64      `json:"created_at"`
	CompletedAt        *int64     `json:"completed_at"`
	ExpiresAt          *int64     `json:"expires_at"`
	Prompt             string     `json:"prompt"`
	Seconds            string     `json:"seconds"`
	Size               string     `json:"size"`
	RemixedFromVideoID *string    `json:"remixed_from_video_id"`
	Error              *TaskError `json:"error"`
}

// TaskError is a failed video's reason.
type TaskError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// CreateBody is the create call in JSON; multipart forms carry the same fields.
type CreateBody struct {
	Model          string          `json:"model"`
	Prompt         *string         `json:"prompt"`
	Seconds        json.RawMessage `json:"seconds"` // "4" (the SDK) or 4
	Size           string          `json:"size"`
	InputReference json.RawMessage `json:"input_reference"`
}

// ListAnswer is a page of GET /v1/videos.
type ListAnswer struct {
	Object  string  `json:"object"`
	Data    []Video `json:"data"`
	FirstID *string `json:"first_id"`
	LastID  *string `json:"last_id"`
	HasMore bool    `json:"has_more"`
}

// DeletedAnswer is the answer of DELETE /v1/videos/{id}.
type DeletedAnswer struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // "video.deleted"
	Deleted bool   `json:"deleted"`
}
