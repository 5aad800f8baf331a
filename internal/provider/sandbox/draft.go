package sandbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// fromDraft returns what the final of a draft renders: the draft's request
// (its inputs, prompt, framing, length and sound) at the final's resolution
// and output switches, with the seed the draft rendered with — so the final
// shows the draft's scene, larger. The task service checked at create that
// the draft is the tenant's, finished and recent; a draft gone since is a
// failure naming the field.
func (p *Provider) fromDraft(ctx context.Context, t *task.Task) (*task.Request, int64, *imageFailure, error) {
	id := t.Request.DraftTaskID
	gone := &imageFailure{upstreamError("InvalidParameter", "draft_task_id",
		fmt.Sprintf("The draft task %s does not exist or has no result.", id))}
	if p.cfg.Tasks == nil {
		return nil, 0, gone, nil
	}
	d, err := p.cfg.Tasks(ctx, id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, 0, gone, nil
	case err != nil:
		return nil, 0, nil, provider.Transient(fmt.Errorf("sandbox: look up draft %s: %w", id, err), 0)
	case d.Tenant != t.Tenant || d.Status != task.StatusSucceeded || d.Result == nil:
		return nil, 0, gone, nil
	}
	final := &t.Request
	r := d.Request
	r.Draft, r.DraftTaskID = task.Bool(false), ""
	r.Resolution = final.Resolution
	if d.Result.Ratio != "" {
		r.Ratio = d.Result.Ratio // what adaptive resolved to for the draft
	}
	if final.Prompt != "" {
		r.Prompt = final.Prompt
	}
	r.Watermark, r.ReturnLastFrame = final.Watermark, final.ReturnLastFrame
	if final.OutputFormat != "" {
		r.OutputFormat = final.OutputFormat
	}
	r.Seed = task.Int64(d.Result.Seed)
	return &r, d.Result.Seed, nil, nil
}
