package heartbeat

import "context"

// StopBeating stops the beats without leaving, as a crash does.
func (s *Service) StopBeating(ctx context.Context) error { return s.run.Stop(ctx) }
