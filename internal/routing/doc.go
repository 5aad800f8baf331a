// Package routing decides which upstream account a create goes to, for any
// provider kind that sends tasks to upstream API keys.
//
// Settings is the channels file (SEEDGATE_CHANNELS_FILE, YAML or JSON,
// unknown fields refused) and the SEEDGATE_ARK_API_KEY shortcut
// (ShortcutChannel): channels, each a base URL, its API keys, the catalog
// models it serves (and the upstream id to send for each), a priority, a
// weight and per-key limits (concurrency, creates per minute, create timeout).
//
// Router holds the channels and the load: the live tasks per key (read from
// the store through a LoadFunc, cached while far from a limit) plus the
// creates of this process not stored yet, the creates of the last minute per
// key, and cool-downs of keys the upstream refused. Pick chooses by priority
// (higher first), then at random by weight, then the least loaded key.
//
// A provider kind uses it like this:
//
//	f := router.Failover(routing.Request{TaskID: t.ID, Model: m, RunTime: expected})
//	for {
//		c, err := f.Next(ctx) // a key with room, reserved for the task
//		if err != nil {       // *provider.WaitError (stay queued) or *ExhaustedError (every key refused)
//			return "", err
//		}
//		id, err := create(ctx, c.Channel, c.Key)
//		if err == nil {
//			return id, nil // the reservation stands until the task is stored with its key
//		}
//		o, coolDown := routing.ClassifyStatus(status, fromUpstream, retryAfter) // or its own sorting
//		f.Failed(c, o, coolDown, err)
//		if o == routing.Rejected || o == routing.Unknown {
//			return "", err // fail the task, or reconcile
//		}
//	}
//
// and calls Release when a task's upstream task finished (its slot is free
// before the store shows it), and Lookup to find the key a task recorded.
package routing
