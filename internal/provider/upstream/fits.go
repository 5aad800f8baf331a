package upstream

import (
	"context"
	"strings"

	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/task"
)

// Validator is a kind that can tell, before anything is stored, that a
// request could never be sent on one of its channels though its capabilities
// cover every field (an input its upstream cannot fetch, say). The error is
// a *task.Error naming the field.
type Validator interface {
	Validate(ctx context.Context, ch *routing.Channel, r *task.Request) error
}

// refusal says why a channel cannot carry r: the capability it lacks (a
// field's JSON name, or "mode <name>"), or its kind's refusal; both empty
// when it can.
func (p *Provider) refusal(ctx context.Context, ch *routing.Channel, r *task.Request) (missing string, err error) {
	k := p.kinds[ch.Kind]
	if k == nil {
		return "kind " + ch.Kind, nil
	}
	if f := p.caps[ch.Kind].Missing(r); f != "" {
		return f, nil
	}
	if v, ok := k.(Validator); ok {
		return "", v.Validate(ctx, ch, r)
	}
	return "", nil
}

// fits is the router's filter for r: channels whose kind can carry it.
func (p *Provider) fits(ctx context.Context, r *task.Request) func(*routing.Channel) bool {
	return func(ch *routing.Channel) bool {
		missing, err := p.refusal(ctx, ch, r)
		return missing == "" && err == nil
	}
}

// carriable returns nil when some channel serving m can carry r, else why
// none can: the refusal of a kind that supports every field, or the first
// capability no channel has.
func (p *Provider) carriable(ctx context.Context, m *task.Model, r *task.Request) error {
	var missing string
	var refused error
	serving := false
	for _, ch := range p.router.Channels() {
		if !ch.Serves(m.ID) {
			continue
		}
		serving = true
		f, err := p.refusal(ctx, ch, r)
		switch {
		case f == "" && err == nil:
			return nil
		case err != nil && refused == nil:
			refused = err
		case f != "" && missing == "":
			missing = f
		}
	}
	switch {
	case !serving:
		return nil // routed elsewhere: the service decides
	case refused != nil:
		return refused
	}
	if mode, ok := strings.CutPrefix(missing, "mode "); ok {
		field := modeField(r)
		return task.Errorf(task.CodeInvalidParameter, field,
			"no configured channel can carry `%s` for model %s: none takes %s input", field, m.ID, mode)
	}
	return task.Errorf(task.CodeInvalidParameter, missing, "no configured channel can carry `%s` for model %s", missing, m.ID)
}

// modeField names the request field that puts r in its input mode.
func modeField(r *task.Request) string {
	switch {
	case r.LastFrame != "":
		return "last_frame"
	case r.FirstFrame != "":
		return "first_frame"
	case len(r.ReferenceImages) > 0:
		return "reference_images"
	case len(r.ReferenceVideos) > 0:
		return "reference_videos"
	case len(r.ReferenceAudio) > 0:
		return "reference_audio"
	case r.DraftTaskID != "":
		return "draft_task_id"
	}
	return "prompt"
}

// Validate implements provider.Validator: a request no channel serving its
// model can carry is refused at submit, naming the field.
func (p *Provider) Validate(ctx context.Context, t *task.Task) error {
	m, _, ok := task.LookupModel(t.Model)
	if !ok {
		return nil // the service refuses unknown models itself
	}
	return p.carriable(ctx, m, &t.Request)
}
