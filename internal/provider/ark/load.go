package ark

import (
	"context"

	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/store"
)

// keyLoad reads the live tasks of a model that hold a key of this provider,
// for the router's per-key limits.
func keyLoad(st store.Store) routing.LoadFunc {
	return func(ctx context.Context, model string) ([]routing.Holder, error) {
		rows, err := st.KeyLoad(ctx, Name, model)
		if err != nil {
			return nil, err
		}
		out := make([]routing.Holder, len(rows))
		for i, r := range rows {
			out[i] = routing.Holder{TaskID: r.TaskID, Channel: r.Channel, Key: r.UpstreamKey}
		}
		return out, nil
	}
}
