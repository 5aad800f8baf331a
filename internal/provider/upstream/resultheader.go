package upstream

import (
	"context"
	"net/http"

	"github.com/seedgate/seedgate/internal/task"
)

// ResultAuthorizer is a kind whose result URLs need the key that created the
// task (OpenRouter's content endpoint): the mirror step sends ResultHeader
// with the download.
type ResultAuthorizer interface {
	ResultHeader(c Call) http.Header
}

// ResultHeaders is the header the download of t's result URL needs (nil:
// none), for mirror.Config.Headers.
func (p *Provider) ResultHeaders(_ context.Context, t *task.Task, _ string) (http.Header, error) {
	if t.Channel == "" {
		return nil, nil
	}
	c, k, err := p.owner(t)
	if err != nil {
		return nil, err
	}
	if ra, ok := k.(ResultAuthorizer); ok {
		return ra.ResultHeader(c), nil
	}
	return nil, nil
}
