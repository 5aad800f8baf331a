package seedance

import (
	"fmt"

	"github.com/seedgate/seedgate/internal/provider/kindhttp"
	"github.com/seedgate/seedgate/internal/provider/upstream"
)

// NewKind builds the kind for the gateway (upstream.NewKind). A seedance
// channel needs callbacks, hence a gateway with SEEDGATE_PUBLIC_URL: without
// callback_url its upstream answers a create only once the video is done.
func NewKind(env upstream.Env) (upstream.Kind, error) {
	k := New(Options{HTTP: env.HTTP, Observe: env.Observe, Callbacks: kindhttp.Callbacks{Base: env.CallbackBase(Name),
		Secret: env.CallbackSecret, Now: env.Now, Logger: env.Logger}})
	if env.Settings != nil && !k.callbacks() {
		for _, ch := range env.Settings.Channels {
			if ch.Kind == Name {
				return nil, fmt.Errorf("channel %s: a seedance channel needs SEEDGATE_PUBLIC_URL, the address its upstream calls back (without a callback its upstream answers a create only when the video is done)", ch.Name)
			}
		}
	}
	return k, nil
}
