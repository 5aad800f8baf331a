package videos

import (
	"github.com/seedgate/seedgate/internal/provider/kindhttp"
	"github.com/seedgate/seedgate/internal/provider/upstream"
)

// NewKind builds the kind for the gateway (upstream.NewKind).
func NewKind(env upstream.Env) (upstream.Kind, error) {
	return New(Options{HTTP: env.HTTP, Observe: env.Observe, Callbacks: kindhttp.Callbacks{Base: env.CallbackBase(Name),
		Secret: env.CallbackSecret, Now: env.Now, Logger: env.Logger}}), nil
}
