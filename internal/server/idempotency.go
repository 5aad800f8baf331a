package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/dialect/responses"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

const (
	idempotencyTTL  = 24 * time.Hour
	idempotencyLock = 2 * time.Minute // an unfinished first request older than this died
	maxKeyLength    = 255
	sweepEvery      = 10 * time.Minute
)

// idempotencyKeys implements Idempotency-Key on create endpoints: the first
// request under a key runs and its answer is kept for 24 hours; a repeat with
// the same body gets that answer again (same task, same status and body, with
// Idempotent-Replayed: true), a repeat with another body is refused (422), and
// a repeat while the first is still running is refused (409). Keys are scoped
// per API key. Answers of 5xx, 429 and 402 are not kept: the client may retry them.
type idempotencyKeys struct {
	store     store.IdempotencyStore
	log       *slog.Logger
	now       func() time.Time
	lastSweep atomic.Int64
}

func newIdempotencyKeys(st store.Store, log *slog.Logger) *idempotencyKeys {
	return &idempotencyKeys{store: st, log: log, now: time.Now}
}

// idempotent wraps a create handler (inside s.authed: it needs the caller).
func (s *Server) idempotent(d dialect, next http.HandlerFunc) http.HandlerFunc {
	return s.idempotentWhen(d, next, nil)
}

// idempotentWhen is idempotent for a route that creates only for some bodies
// (the responses dialect's POST also queries): applies(body) says whether this
// one creates; nil means always.
func (s *Server) idempotentWhen(d dialect, next http.HandlerFunc, applies func(body []byte) bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		k := s.idem
		if key == "" || k == nil {
			next(w, r)
			return
		}
		if len(key) > maxKeyLength || !printable(key) {
			d.WriteError(w, r, task.Errorf(task.CodeInvalidParameter, "Idempotency-Key",
				"Idempotency-Key must be 1 to %d printable ASCII characters (a UUID is a good choice)", maxKeyLength))
			return
		}
		limit := s.cfg.MaxBodyBytes
		if limit <= 0 {
			limit = 64 << 20
		}
		body, err := keepBody(r.Body, limit)
		if err != nil {
			if task.ErrorCode(err) == "" {
				err = task.Errorf(task.CodeInvalidJSON, "", "reading the request body: %v", err)
			}
			d.WriteError(w, r, err)
			return
		}
		defer body.close()
		r.Body = io.NopCloser(body.reader())
		// A body big enough to be kept in a file is no query.
		if applies != nil && body.small != nil && !applies(body.small) {
			next(w, r)
			return
		}

		p, _ := auth.FromContext(r.Context())
		now := k.now().UTC()
		// A blocking create (seedance without callback_url) runs up to SyncWait.
		lock := max(idempotencyLock, s.cfg.SyncWait+time.Minute)
		rec := &store.IdempotencyRecord{KeyID: p.KeyID, Key: key, Fingerprint: fingerprintAt(r, body.at(), body.size),
			CreatedAt: now, LockedUntil: now.Add(lock), ExpiresAt: now.Add(idempotencyTTL)}
		prior, err := k.store.BeginIdempotency(r.Context(), rec, now)
		if err != nil {
			d.WriteError(w, r, err)
			return
		}
		k.sweep(r, now)
		switch {
		case prior != nil && prior.Fingerprint != rec.Fingerprint:
			d.WriteError(forceStatus(w, http.StatusUnprocessableEntity), r, task.Errorf(task.CodeInvalidParameter, "Idempotency-Key",
				"Idempotency-Key %q was already used with a different request body; use a new key for a new request", key))
			return
		case prior != nil && !prior.Done:
			w.Header().Set("Retry-After", "1")
			d.WriteError(forceStatus(w, http.StatusConflict), r, task.Errorf(task.CodeConflict, "Idempotency-Key",
				"a request with Idempotency-Key %q is still being processed; retry in a moment to get its answer", key))
			return
		case prior != nil:
			if prior.ContentType != "" {
				w.Header().Set("Content-Type", prior.ContentType)
			}
			w.Header().Set("Idempotent-Replayed", "true")
			w.WriteHeader(prior.StatusCode)
			_, _ = w.Write(prior.Body)
			return
		}

		tee := &teeWriter{ResponseWriter: w}
		completed := false
		defer func() {
			if !completed { // a panic or an answer not worth keeping: free the key
				if err := k.store.ReleaseIdempotency(r.Context(), rec.KeyID, rec.Key); err != nil {
					k.log.WarnContext(r.Context(), "releasing an idempotency key failed", "err", err)
				}
			}
		}()
		next(tee, r)
		if tee.status == 0 {
			tee.status = http.StatusOK
		}
		// 402 too: nothing was created, and after a top-up the same
		// request under the same key should go through.
		if tee.status >= 500 || tee.status == http.StatusTooManyRequests || tee.status == http.StatusPaymentRequired {
			return
		}
		rec.Done, rec.StatusCode, rec.ContentType, rec.Body = true, tee.status, w.Header().Get("Content-Type"), tee.body.Bytes()
		if err := k.store.CompleteIdempotency(r.Context(), rec); err != nil {
			k.log.WarnContext(r.Context(), "storing an idempotent answer failed", "err", err)
			return
		}
		completed = true
	}
}

// sweep deletes expired keys now and then, off the request path.
func (k *idempotencyKeys) sweep(r *http.Request, now time.Time) {
	last := k.lastSweep.Load()
	if now.UnixNano()-last < int64(sweepEvery) || !k.lastSweep.CompareAndSwap(last, now.UnixNano()) {
		return
	}
	ctx := context.WithoutCancel(r.Context())
	go func() {
		if n, err := k.store.DeleteExpiredIdempotency(ctx, now); err != nil {
			k.log.Warn("deleting expired idempotency keys failed", "err", err)
		} else if n > 0 {
			k.log.Debug("deleted expired idempotency keys", "count", n)
		}
	}()
}

// fingerprint identifies a request's content: method, path and body. A
// multipart body is hashed part by part (names, file names, contents), since
// its boundary differs between two sends of the same form.
func fingerprint(r *http.Request, body []byte) string {
	return fingerprintAt(r, bytes.NewReader(body), int64(len(body)))
}

// fingerprintAt is fingerprint over a body of size bytes read from body,
// which it streams rather than holds.
func fingerprintAt(r *http.Request, body io.ReaderAt, size int64) string {
	h := sha256.New()
	length := func(n int64) {
		var b [8]byte
		binary.BigEndian.PutUint64(b[:], uint64(n))
		h.Write(b[:])
	}
	field := func(b []byte) {
		length(int64(len(b)))
		h.Write(b)
	}
	field([]byte(r.Method))
	field([]byte(r.URL.Path))
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && mt == "multipart/form-data" && params["boundary"] != "" {
		// Two passes: the lengths of the parts first, since each is hashed after its length.
		var sizes []int64
		err := eachPart(body, size, params["boundary"], func(p *multipart.Part) error {
			n, err := io.Copy(io.Discard, p)
			sizes = append(sizes, n)
			return err
		})
		if err == nil {
			i := 0
			err = eachPart(body, size, params["boundary"], func(p *multipart.Part) error {
				field([]byte(p.FormName()))
				field([]byte(p.FileName()))
				length(sizes[i])
				i++
				_, err := io.Copy(h, p)
				return err
			})
		}
		if err == nil {
			return hex.EncodeToString(h.Sum(nil))
		}
		h.Reset() // not valid multipart: fall back to the raw body
		field([]byte(r.Method))
		field([]byte(r.URL.Path))
	}
	length(size)
	_, _ = io.Copy(h, io.NewSectionReader(body, 0, size))
	return hex.EncodeToString(h.Sum(nil))
}

// eachPart calls fn with every part of a multipart body.
func eachPart(body io.ReaderAt, size int64, boundary string, fn func(p *multipart.Part) error) error {
	mr := multipart.NewReader(io.NewSectionReader(body, 0, size), boundary)
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(part); err != nil {
			return err
		}
	}
}

// keptBody is a request body read ahead of its handler: in memory when small,
// else in a temp file, so a big body is never held whole.
type keptBody struct {
	small []byte   // the body, when it is in memory
	file  *os.File // the body, when it is not
	size  int64
}

// keepInMemory is the largest body kept in memory.
const keepInMemory = 1 << 20

func keepBody(r io.Reader, limit int64) (*keptBody, error) {
	head, err := io.ReadAll(io.LimitReader(r, keepInMemory+1))
	if err != nil {
		return nil, err
	}
	if len(head) <= keepInMemory {
		if int64(len(head)) > limit {
			return nil, task.Errorf(task.CodeBodyTooLarge, "", "the request body is larger than %d bytes", limit)
		}
		return &keptBody{small: head, size: int64(len(head))}, nil
	}
	f, err := os.CreateTemp("", "seedgate-body-*")
	if err != nil {
		return nil, task.Errorf(task.CodeInternal, "", "the gateway could not store the request body; try again later")
	}
	_ = os.Remove(f.Name()) // the open file stays readable, and nothing is left behind
	b := &keptBody{file: f}
	n, err := io.Copy(f, io.LimitReader(io.MultiReader(bytes.NewReader(head), r), limit+1))
	b.size = n
	if err == nil && n > limit {
		err = task.Errorf(task.CodeBodyTooLarge, "", "the request body is larger than %d bytes", limit)
	}
	if err != nil {
		b.close()
		return nil, err
	}
	return b, nil
}

func (b *keptBody) at() io.ReaderAt {
	if b.file != nil {
		return b.file
	}
	return bytes.NewReader(b.small)
}

func (b *keptBody) reader() io.Reader { return io.NewSectionReader(b.at(), 0, b.size) }

func (b *keptBody) close() {
	if b.file != nil {
		_ = b.file.Close()
	}
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// teeWriter passes the answer through and keeps a copy of it.
type teeWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (t *teeWriter) WriteHeader(code int) {
	if t.status == 0 {
		t.status = code
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *teeWriter) Write(p []byte) (int, error) {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	t.body.Write(p)
	return t.ResponseWriter.Write(p)
}

func (t *teeWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// Flush lets a streaming create answer (seedance's wait) through.
func (t *teeWriter) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// forceStatus makes a dialect's error writer answer with status, whatever its
// own table says for the error's code (the body keeps the dialect's shape).
func forceStatus(w http.ResponseWriter, status int) http.ResponseWriter {
	return &statusForcer{ResponseWriter: w, status: status}
}

type statusForcer struct {
	http.ResponseWriter
	status int
}

func (f *statusForcer) WriteHeader(int) { f.ResponseWriter.WriteHeader(f.status) }

func (f *statusForcer) Write(p []byte) (int, error) { return f.ResponseWriter.Write(p) }

// responsesSubmit tells the responses dialect's submits (which Idempotency-Key
// covers) from its seedance-get queries (which it does not: they create nothing).
func responsesSubmit(body []byte) bool {
	c, err := responses.Decode(body)
	return err != nil || c.TaskID == ""
}
