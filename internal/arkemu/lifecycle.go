package arkemu

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	arkproto "github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/task"
)

// The task object is the protocol's (internal/protocol/ark), shared with the
// ark dialect and the ark provider.
type (
	Task      = arkproto.Task
	TaskError = arkproto.TaskError
	Content   = arkproto.TaskContent
	Usage     = arkproto.Usage
)

// cancelledRetention: a cancelled task's record is auto-deleted after 24 h.
const cancelledRetention = 24 * time.Hour

// emuTask is the emulator's record of a task.
type emuTask struct {
	seq       int64
	id        string
	key       string // account
	modelName string // echoed as "model"
	endpoint  string
	model     *task.Model
	req       task.Request // normalized

	usedFrames    bool
	width, height int
	frames        int // output frames
	duration      int // output seconds (when the request used duration)
	ratio         string
	seed          int64
	tokens        int64
	failCode      string
	baseURL       string
	queueTime     time.Duration
	runTime       time.Duration

	status     task.Status
	errCode    string
	createdAt  time.Time
	updatedAt  time.Time
	startedAt  time.Time
	expiresAt  time.Time
	videoToken string
	frameToken string
	deletedAt  time.Time // zero: not deleted

	// Callbacks go out one at a time, in status order.
	cbQueue  []Task
	cbActive bool
}

func (t *emuTask) group() string { return t.key + "\x00" + t.model.ID }

// videoName is the result video's file name: video.mov for output_format mov.
func (t *emuTask) videoName() string {
	if t.req.OutputFormat == "mov" {
		return "video.mov"
	}
	return "video.mp4"
}

func (t *emuTask) active() bool {
	return t.deletedAt.IsZero() && (t.status == task.StatusQueued || t.status == task.StatusRunning)
}

func (t *emuTask) isDeleted(now time.Time) bool {
	if !t.deletedAt.IsZero() {
		return true
	}
	return t.status == task.StatusCancelled && !now.Before(t.updatedAt.Add(cancelledRetention))
}

func (t *emuTask) flex() bool { return t.req.ServiceTier == task.TierFlex }

// before orders queued tasks for a free slot: default tier before flex, then
// higher priority, then first come.
func (t *emuTask) before(o *emuTask) bool {
	if t.flex() != o.flex() {
		return !t.flex()
	}
	if p, q := task.Or(t.req.Priority, 0), task.Or(o.req.Priority, 0); p != q {
		return p > q
	}
	return t.seq < o.seq
}

func (s *Server) concurrencyLimit(m *task.Model) int {
	if s.opts.Concurrency > 0 {
		return s.opts.Concurrency
	}
	return max(m.Concurrency, 1)
}

type eventKind int

const (
	evFinish eventKind = iota // listed first: at equal times a finish frees its slot before a start
	evExpire
	evStart
)

type event struct {
	at   time.Time
	kind eventKind
	t    *emuTask // for evStart: any queued task of the group
}

// advanceLocked replays the timeline up to now, one event at a time in time
// order, so a clock that jumps far ahead still sees queued → running →
// succeeded with the right timestamps and callbacks.
func (s *Server) advanceLocked(now time.Time) {
	if !s.nextAt.IsZero() && now.Before(s.nextAt) {
		return // nothing can have happened yet
	}
	for {
		ev, ok := s.nextEventLocked()
		if !ok {
			s.nextAt = now.Add(time.Hour) // nothing pending; a create lowers it
			return
		}
		if ev.at.After(now) {
			s.nextAt = ev.at
			return
		}
		if ev.at.After(s.simTime) {
			s.simTime = ev.at
		}
		s.applyLocked(ev)
	}
}

func (s *Server) nextEventLocked() (event, bool) {
	running := make(map[string]int)
	for _, t := range s.order {
		if t.active() && t.status == task.StatusRunning {
			running[t.group()]++
		}
	}
	var best event
	found := false
	consider := func(e event) {
		if !found || e.at.Before(best.at) || (e.at.Equal(best.at) && e.kind < best.kind) {
			best, found = e, true
		}
	}
	for _, t := range s.order {
		if !t.active() {
			continue
		}
		consider(event{at: t.expiresAt, kind: evExpire, t: t})
		if t.status == task.StatusRunning {
			consider(event{at: t.startedAt.Add(t.runTime), kind: evFinish, t: t})
			continue
		}
		if running[t.group()] < s.concurrencyLimit(t.model) {
			ready := t.createdAt.Add(t.queueTime)
			if ready.Before(s.simTime) {
				ready = s.simTime // the slot freed only at the last event
			}
			consider(event{at: ready, kind: evStart, t: t})
		}
	}
	return best, found
}

func (s *Server) applyLocked(ev event) {
	t := ev.t
	switch ev.kind {
	case evExpire:
		if t.status == task.StatusQueued {
			s.queued[t.key]--
		}
		t.status = task.StatusExpired
		t.updatedAt = ev.at
	case evFinish:
		t.updatedAt = ev.at
		if t.failCode != "" {
			t.status = task.StatusFailed
			t.errCode = t.failCode
			break
		}
		t.status = task.StatusSucceeded
		t.videoToken = s.addFileLocked(fileEntry{
			name: t.videoName(), width: t.width, height: t.height, frames: t.frames,
			audio: task.Or(t.req.GenerateAudio, false), expires: ev.at.Add(s.opts.URLTTL),
			date: ev.at,
		})
		if task.Or(t.req.ReturnLastFrame, false) {
			t.frameToken = s.addFileLocked(fileEntry{
				name: "last_frame.png", width: t.width, height: t.height,
				expires: ev.at.Add(s.opts.URLTTL), date: ev.at,
			})
		}
	case evStart:
		// The group has a free slot: start the queued task that comes first
		// among those whose queue time is over.
		var pick *emuTask
		for _, o := range s.order {
			if o.active() && o.status == task.StatusQueued && o.group() == t.group() &&
				!o.createdAt.Add(o.queueTime).After(ev.at) && (pick == nil || o.before(pick)) {
				pick = o
			}
		}
		if pick == nil {
			pick = t
		}
		t = pick
		s.queued[t.key]--
		t.status = task.StatusRunning
		t.startedAt = ev.at
		t.updatedAt = ev.at
	}
	s.log.Debug("arkemu: task status", "id", t.id, "status", t.status)
	s.notifyLocked(t)
}

// wireLocked renders the task object.
func (s *Server) wireLocked(t *emuTask) Task {
	w := Task{
		ID:                    t.id,
		Model:                 t.modelName,
		Status:                string(t.status),
		CreatedAt:             t.createdAt.Unix(),
		UpdatedAt:             t.updatedAt.Unix(),
		Seed:                  task.Int64(t.seed),
		Resolution:            t.req.Resolution,
		Ratio:                 t.ratio,
		FramesPerSecond:       24,
		GenerateAudio:         t.req.GenerateAudio,
		Draft:                 t.req.Draft,
		DraftTaskID:           t.req.DraftTaskID,
		ServiceTier:           t.req.ServiceTier,
		ExecutionExpiresAfter: task.Or(t.req.ExecutionExpiresAfter, 0),
		SafetyIdentifier:      t.req.SafetyIdentifier,
	}
	if t.usedFrames {
		w.Frames = task.Int(t.frames)
	} else {
		w.Duration = task.Int(t.duration)
	}
	if t.errCode != "" {
		w.Error = &TaskError{Code: t.errCode, Message: failureMessage(t.errCode)}
	}
	if t.status == task.StatusSucceeded {
		w.Usage = &Usage{CompletionTokens: t.tokens, TotalTokens: t.tokens}
		w.Content = &Content{VideoURL: s.fileURL(t, t.videoToken, t.videoName())}
		if t.frameToken != "" {
			w.Content.LastFrameURL = s.fileURL(t, t.frameToken, "last_frame.png")
		}
	}
	return w
}

// fileURL looks like a signed TOS URL; only the token in the path matters.
func (s *Server) fileURL(t *emuTask, token, name string) string {
	f := s.files[token]
	q := url.Values{}
	q.Set("X-Tos-Algorithm", "TOS4-HMAC-SHA256")
	q.Set("X-Tos-Date", f.date.UTC().Format("20060102T150405Z"))
	q.Set("X-Tos-Expires", fmt.Sprint(int64(s.opts.URLTTL/time.Second)))
	q.Set("X-Tos-Signature", token)
	return t.baseURL + "/files/" + token + "/" + name + "?" + q.Encode()
}

// notifyLocked queues a callback for the task's current status.
func (s *Server) notifyLocked(t *emuTask) {
	if t.req.CallbackURL == "" || t.status == task.StatusCancelled || s.ctx.Err() != nil {
		return
	}
	t.cbQueue = append(t.cbQueue, s.wireLocked(t))
	if t.cbActive {
		return
	}
	t.cbActive = true
	s.wg.Add(1)
	go s.deliverCallbacks(t)
}

func (s *Server) deliverCallbacks(t *emuTask) {
	defer s.wg.Done()
	for {
		s.mu.Lock()
		if len(t.cbQueue) == 0 || s.ctx.Err() != nil {
			t.cbActive = false
			s.mu.Unlock()
			return
		}
		body := t.cbQueue[0]
		t.cbQueue = t.cbQueue[1:]
		f := s.takeFaultLocked(OpCallback, t.key)
		cbURL := t.req.CallbackURL
		s.mu.Unlock()
		s.sendCallback(t.key, cbURL, body, f)
	}
}

// sendCallback POSTs one status change; succeeded and failed are retried
// while not acknowledged with a 2xx in time.
func (s *Server) sendCallback(key, cbURL string, body Task, f *Fault) {
	if done := s.opts.CallbackDone; done != nil {
		defer done(body.ID, body.Status)
	}
	if f != nil {
		switch f.Kind {
		case FaultDrop:
			return
		case FaultSlow:
			select {
			case <-time.After(f.Delay):
			case <-s.ctx.Done():
				return
			}
		case FaultLieStatus:
			body.Status = string(lieStatus(task.Status(body.Status), f.CallbackStatus))
		}
	}
	payload, err := json.Marshal(body)
	if err != nil {
		s.log.Error("arkemu: encode callback", "err", err)
		return
	}
	attempts := 1
	if body.Status == string(task.StatusSucceeded) || body.Status == string(task.StatusFailed) {
		attempts += s.opts.CallbackRetries
	}
	for i := range attempts {
		if i > 0 {
			select {
			case <-time.After(s.opts.CallbackRetryDelay):
			case <-s.ctx.Done():
				return
			}
		}
		s.count(key, OpCallback)
		if err := s.postCallback(cbURL, payload); err == nil {
			return
		} else {
			s.log.Debug("arkemu: callback not acknowledged", "id", body.ID, "status", body.Status,
				"attempt", i+1, "err", err)
		}
	}
}

func (s *Server) postCallback(cbURL string, payload []byte) error {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.CallbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cbURL, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("build callback request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("post callback: %w", err)
	}
	drain(resp.Body)
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("callback answered %d", resp.StatusCode)
	}
	return nil
}

// lieStatus is the status a lying callback claims: the wanted one, or one the
// task does not have.
func lieStatus(real, want task.Status) task.Status {
	if want != "" {
		return want
	}
	if real == task.StatusSucceeded {
		return task.StatusFailed
	}
	return task.StatusSucceeded
}

// listable reports whether the task passes the list filters.
func listable(t *emuTask, now time.Time, f listFilter) bool {
	if t.isDeleted(now) || t.createdAt.Before(now.Add(-listWindow)) {
		return false
	}
	if f.status != "" && string(t.status) != f.status {
		return false
	}
	if len(f.ids) > 0 && !slices.Contains(f.ids, t.id) {
		return false
	}
	if f.model != "" && f.model != t.modelName && f.model != t.endpoint {
		return false
	}
	return t.req.ServiceTier == f.tier
}
