package client

import (
	"context"
	"net/url"
	"strconv"
	"time"
)

// Job statuses (Job.Status). A job is "processing" until it ends; Output.Status
// tells "queued" from "running".
const (
	StatusProcessing = "processing"
	StatusSucceeded  = "succeeded"
	StatusFailed     = "failed"
	StatusCancelled  = "cancelled"
	StatusExpired    = "expired"
)

// Input is what a job renders. Only Prompt is required; nil and empty fields
// take the model's defaults. URLs may be http(s), data: URLs, or a gateway file
// URL from UploadFile.
type Input struct {
	Prompt                string   `json:"prompt"`
	FirstFrameURL         string   `json:"first_frame_url,omitempty"`
	LastFrameURL          string   `json:"last_frame_url,omitempty"`
	ReferenceImageURLs    []string `json:"reference_image_urls,omitempty"`
	ReferenceVideoURLs    []string `json:"reference_video_urls,omitempty"`
	ReferenceAudioURLs    []string `json:"reference_audio_urls,omitempty"`
	DraftTaskID           string   `json:"draft_task_id,omitempty"`
	Resolution            string   `json:"resolution,omitempty"` // 480p, 720p, 1080p, 4k
	Ratio                 string   `json:"ratio,omitempty"`      // 16:9, 4:3, 1:1, 3:4, 9:16, 21:9, adaptive
	Duration              *int     `json:"duration,omitempty"`   // seconds; -1: the model chooses
	Frames                *int     `json:"frames,omitempty"`
	Seed                  *int64   `json:"seed,omitempty"`
	CameraFixed           *bool    `json:"camera_fixed,omitempty"`
	Watermark             *bool    `json:"watermark,omitempty"`
	ReturnLastFrame       *bool    `json:"return_last_frame,omitempty"`
	ServiceTier           string   `json:"service_tier,omitempty"` // default, flex
	GenerateAudio         *bool    `json:"generate_audio,omitempty"`
	ExecutionExpiresAfter *int     `json:"execution_expires_after,omitempty"`
	Draft                 *bool    `json:"draft,omitempty"`
	CallbackURL           string   `json:"callback_url,omitempty"`
	Priority              *int     `json:"priority,omitempty"`
	SafetyIdentifier      string   `json:"safety_identifier,omitempty"`
}

// CreateJobRequest is the body of POST /v1/jobs.
type CreateJobRequest struct {
	Model string `json:"model"` // any catalog name, e.g. "seedance-1-5-pro" or "seedance-1.5-pro-1080p"
	// Strict makes the gateway reject what the model cannot take (400 naming the
	// field). By default it drops or clamps such values and lists what it changed
	// in Job.Warnings.
	Strict bool  `json:"strict,omitempty"`
	Input  Input `json:"input"`
}

// Job is a job as the gateway reports it.
type Job struct {
	ID        string `json:"id"`
	Object    string `json:"object"`
	Status    string `json:"status"` // processing | succeeded | failed | cancelled | expired
	Model     string `json:"model"`
	Created   int64  `json:"created"` // Unix seconds
	Updated   int64  `json:"updated"`
	Finished  *int64 `json:"finished,omitempty"`
	Progress  int    `json:"progress"` // percent, 0–100
	RequestID string `json:"request_id"`
	Dialect   string `json:"dialect"` // the API that created it: jobs, ark, videos, …
	// Warnings say what the gateway changed to make a non-strict request fit the
	// model, e.g. "duration 30 clamped to 12".
	Warnings []string  `json:"warnings,omitempty"`
	Input    Input     `json:"input"`
	Output   Output    `json:"output"`
	Usage    *Usage    `json:"usage,omitempty"`
	Error    *JobError `json:"error"`
}

// Output is what a job produced.
type Output struct {
	TaskID       string  `json:"task_id"`
	Status       string  `json:"status"` // queued | running | succeeded | failed | cancelled | expired
	Videos       []Video `json:"videos"`
	LastFrameURL string  `json:"last_frame_url,omitempty"`
	Seed         *int64  `json:"seed,omitempty"`
	Resolution   string  `json:"resolution,omitempty"`
	Ratio        string  `json:"ratio,omitempty"`
}

// Video is one result video; its URL is signed, stable and needs no key.
type Video struct {
	URL      string  `json:"url"`
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	Duration float64 `json:"duration"`
	FPS      int     `json:"fps"`
	HasAudio bool    `json:"has_audio"`
}

// Usage is what a job consumed.
type Usage struct {
	CompletionTokens int64 `json:"completion_tokens"`
	TotalTokens      int64 `json:"total_tokens"`
}

// JobError is why a job failed. It is an error.
type JobError struct {
	Code         string `json:"code"`
	Message      string `json:"message"`
	UpstreamCode string `json:"upstream_code,omitempty"`
}

func (e *JobError) Error() string {
	s := "seedgate: job failed: " + e.Code
	if e.UpstreamCode != "" {
		s += " (" + e.UpstreamCode + ")"
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Done reports whether the job has ended (succeeded, failed, cancelled or expired).
func (j *Job) Done() bool { return j.Status != "" && j.Status != StatusProcessing }

// Err returns nil for a job that succeeded or has not ended, its *JobError for
// one that failed, and an error naming the status for one cancelled or expired.
func (j *Job) Err() error {
	switch j.Status {
	case StatusFailed, StatusExpired, StatusCancelled:
		if j.Error != nil {
			return j.Error
		}
		return &JobError{Code: j.Status, Message: "the job was " + j.Status}
	}
	return nil
}

// CreatedAt is Created as a time.
func (j *Job) CreatedAt() time.Time { return time.Unix(j.Created, 0) }

// VideoURL returns the first result video's URL, or "".
func (j *Job) VideoURL() string {
	if len(j.Output.Videos) == 0 {
		return ""
	}
	return j.Output.Videos[0].URL
}

// CreateJob submits a job (POST /v1/jobs). The answer's Status is "processing".
func (c *Client) CreateJob(ctx context.Context, req CreateJobRequest) (*Job, error) {
	var j Job
	if err := c.do(ctx, "POST", "/v1/jobs", nil, req, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// GetJob returns a job (GET /v1/jobs/{id}); an unknown id is ErrNotFound.
func (c *Client) GetJob(ctx context.Context, id string) (*Job, error) {
	var j Job
	if err := c.do(ctx, "GET", "/v1/jobs/"+url.PathEscape(id), nil, nil, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// CancelJob cancels a job that has not started running (POST /v1/jobs/{id}/cancel);
// a running or finished job is ErrConflict.
func (c *Client) CancelJob(ctx context.Context, id string) (*Job, error) {
	var j Job
	if err := c.do(ctx, "POST", "/v1/jobs/"+url.PathEscape(id)+"/cancel", nil, nil, &j); err != nil {
		return nil, err
	}
	return &j, nil
}

// ListOptions filters ListJobs. Zero fields do not filter.
type ListOptions struct {
	Status  string // processing, queued, running, succeeded, failed, cancelled, expired; comma-separated for several
	Model   string
	Dialect string
	Query   string // prompt substring
	Limit   int    // 1–100 (gateway default 20)
	After   string // the previous page's NextAfter
}

// JobList is one page of jobs, newest first.
type JobList struct {
	Object    string `json:"object"`
	Data      []Job  `json:"data"`
	HasMore   bool   `json:"has_more"`
	NextAfter string `json:"next_after,omitempty"`
}

// ListJobs returns a page of jobs, newest first (GET /v1/jobs).
func (c *Client) ListJobs(ctx context.Context, o ListOptions) (*JobList, error) {
	q := url.Values{}
	for k, v := range map[string]string{"status": o.Status, "model": o.Model, "dialect": o.Dialect, "q": o.Query, "after": o.After} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	var l JobList
	if err := c.do(ctx, "GET", "/v1/jobs", q, nil, &l); err != nil {
		return nil, err
	}
	return &l, nil
}

// Model is one model of the gateway's catalog (GET /v1/models).
type Model struct {
	ID                string   `json:"id"`
	Name              string   `json:"name"`
	Family            string   `json:"family"`
	VolcengineID      string   `json:"volcengine_id"`
	BytePlusID        string   `json:"byteplus_id"`
	Aliases           []string `json:"aliases"`
	Resolutions       []string `json:"resolutions"`
	DefaultResolution string   `json:"default_resolution"`
	Ratios            []string `json:"ratios"`
	DefaultRatio      struct {
		Text      string `json:"text"`
		Image     string `json:"image"`
		Reference string `json:"reference"`
	} `json:"default_ratio"`
	Durations struct {
		Min     int  `json:"min"`
		Max     int  `json:"max"`
		Default int  `json:"default"`
		Auto    bool `json:"auto"`
		Frames  bool `json:"frames"`
	} `json:"durations"`
	Modes  []string `json:"modes"` // text, first_frame, first_last_frame, reference, draft_task
	Inputs struct {
		Text               bool `json:"text"`
		FirstFrame         bool `json:"first_frame"`
		LastFrame          bool `json:"last_frame"`
		DraftTask          bool `json:"draft_task"`
		MaxReferenceImages int  `json:"max_reference_images"`
		MaxReferenceVideos int  `json:"max_reference_videos"`
		MaxReferenceAudio  int  `json:"max_reference_audio"`
	} `json:"inputs"`
	Features struct {
		Audio           bool `json:"audio"`
		Draft           bool `json:"draft"`
		Flex            bool `json:"flex"`
		CameraFixed     bool `json:"camera_fixed"`
		ReturnLastFrame bool `json:"return_last_frame"`
		Priority        bool `json:"priority"`
		WebSearch       bool `json:"web_search"`
		Watermark       bool `json:"watermark"`
	} `json:"features"`
	MaxPromptChars int `json:"max_prompt_chars"` // longest prompt accepted, in characters
}

// Models lists the gateway's model catalog.
func (c *Client) Models(ctx context.Context) ([]Model, error) {
	var l struct {
		Data []Model `json:"data"`
	}
	if err := c.do(ctx, "GET", "/v1/models", nil, nil, &l); err != nil {
		return nil, err
	}
	return l.Data, nil
}

// Bool returns a pointer to v, for Input's optional fields.
func Bool(v bool) *bool { return &v }

// Int returns a pointer to v, for Input's optional fields.
func Int(v int) *int { return &v }

// Int64 returns a pointer to v, for Input's optional fields.
func Int64(v int64) *int64 { return &v }
