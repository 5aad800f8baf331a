package webhook

import "time"

// OnClaimed has fn told of every claim (the time claimed for, the messages
// claimed); call it before Start.
func (d *Dispatcher) OnClaimed(fn func(now time.Time, n int)) { d.loop.OnClaimed(fn) }
