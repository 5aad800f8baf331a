package arkemu

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	arkproto "github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/task"
)

// listWindow: only tasks of the last 7 days are listed.
const listWindow = 7 * 24 * time.Hour

func notFound(c *call, id string) reply {
	return errReply(c, http.StatusNotFound, "NotFound", "id",
		fmt.Sprintf("The specified task %s is not found.", id))
}

// lookupLocked finds a task the key may see.
func (s *Server) lookupLocked(key, id string, now time.Time) (*emuTask, bool) {
	t, ok := s.tasks[id]
	if !ok || t.key != key || t.isDeleted(now) {
		return nil, false
	}
	return t, true
}

func (s *Server) handleGet(c *call) reply {
	id := c.r.PathValue("id")
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(now)
	t, ok := s.lookupLocked(c.key, id, now)
	if !ok {
		return notFound(c, id)
	}
	body, _ := json.Marshal(s.wireLocked(t))
	return reply{status: http.StatusOK, body: body}
}

type listFilter struct {
	status string
	ids    []string
	model  string
	tier   string
}

// listStatuses are the filter.status values; expired is accepted too, since
// tasks can be in it (docs/upstream-ark.md#endpoints lists the other five).
var listStatuses = []string{"queued", "running", "cancelled", "succeeded", "failed", "expired"}

func (s *Server) handleList(c *call) reply {
	q := c.r.URL.Query()
	pageNum, pageSize := 1, 10
	for _, p := range []struct {
		name string
		dst  *int
	}{{"page_num", &pageNum}, {"page_size", &pageSize}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return errReply(c, http.StatusBadRequest, "InvalidParameter", p.name,
				fmt.Sprintf("The parameter `%s` specified in the request is not valid: want an integer in [1, 500].", p.name))
		}
		*p.dst = n
	}
	f := listFilter{
		status: q.Get("filter.status"),
		ids:    q["filter.task_ids"],
		model:  q.Get("filter.model"),
		tier:   q.Get("filter.service_tier"),
	}
	if f.status != "" && !slices.Contains(listStatuses, f.status) {
		return errReply(c, http.StatusBadRequest, "InvalidParameter", "filter.status",
			fmt.Sprintf("The parameter `filter.status` specified in the request is not valid: %q.", f.status))
	}
	switch f.tier {
	case "":
		f.tier = task.TierDefault
	case task.TierDefault, task.TierFlex:
	default:
		return errReply(c, http.StatusBadRequest, "InvalidParameter", "filter.service_tier",
			fmt.Sprintf("The parameter `filter.service_tier` specified in the request is not valid: %q.", f.tier))
	}

	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(now)
	var match []*emuTask
	if len(f.ids) > 0 { // look the ids up rather than scan every task (batched checks of large fleets)
		seen := make(map[string]bool, len(f.ids))
		for _, id := range f.ids {
			if t, ok := s.tasks[id]; ok && !seen[id] && t.key == c.key && listable(t, now, f) {
				seen[id] = true
				match = append(match, t)
			}
		}
		slices.SortFunc(match, func(a, b *emuTask) int { return cmp.Compare(b.seq, a.seq) }) // newest first
	} else {
		for i := len(s.order) - 1; i >= 0; i-- { // newest first
			t := s.order[i]
			if t.key == c.key && listable(t, now, f) {
				match = append(match, t)
			}
		}
	}
	out := arkproto.ListAnswer{Items: []Task{}, Total: len(match)}
	start := (pageNum - 1) * pageSize
	for i := start; i < len(match) && i < start+pageSize; i++ {
		out.Items = append(out.Items, s.wireLocked(match[i]))
	}
	body, _ := json.Marshal(out)
	return reply{status: http.StatusOK, body: body}
}

// handleDelete cancels a queued task or deletes a finished one's record.
// Running and cancelled tasks are refused with 409 Conflict, code
// "OperationDenied.InvalidTaskStatus" (the spec says "refused" and names no
// code; 409 lets a client tell it from validation errors).
func (s *Server) handleDelete(c *call) reply {
	id := c.r.PathValue("id")
	now := s.opts.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.advanceLocked(now)
	t, ok := s.lookupLocked(c.key, id, now)
	if !ok {
		return notFound(c, id)
	}
	switch t.status {
	case task.StatusQueued:
		s.queued[t.key]--
		t.status = task.StatusCancelled
		t.updatedAt = now
	case task.StatusSucceeded, task.StatusFailed, task.StatusExpired:
		t.deletedAt = now
	default:
		return errReply(c, http.StatusConflict, "OperationDenied.InvalidTaskStatus", "id",
			fmt.Sprintf("The task %s is %s and cannot be cancelled or deleted.", id, t.status))
	}
	return reply{status: http.StatusOK}
}
