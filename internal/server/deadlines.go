package server

import (
	"io"
	"net/http"
	"time"
)

// How long the gateway waits on a connection. The http.Server's timeouts
// (app) bound every request: its headers and body must arrive within
// ReadTimeout and its answer be written within WriteTimeout. Routes that need
// longer move the connection's deadlines themselves, and only once the caller
// is authenticated:
//
//   - a request with a body (a JSON create with data URLs, an upload) may
//     send it for BodyTimeout (authed);
//   - a wait ("Prefer: wait", the seedance and responses calls that wait for
//     the result) adds its length to the write deadline (holding);
//   - a stream (events, file downloads) may run as long as it makes progress:
//     each write gets WriteTimeout (streaming).
//
// A request that has no body to read any more has no read deadline: the
// server's background read of an idle connection would otherwise hit the
// request's ReadTimeout and cancel a long answer's context.

// refuse answers a request the gateway will not serve without reading its
// body first: a caller without a key does not get to hold a connection by
// sending a body slowly (Go would otherwise read up to 256 KiB of it before
// answering). The connection is closed after the answer; until then, for at
// most refusedBodyGrace, what the client still sends is read and dropped, so
// that a client that is sending its body quickly reads the answer rather than
// a connection reset.
func refuse(w http.ResponseWriter, r *http.Request, d dialect, err error) {
	if r.ContentLength != 0 { // a body is coming (-1: chunked)
		w.Header().Set("Connection", "close")
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(refusedBodyGrace))
	}
	d.WriteError(w, r, err)
}

const refusedBodyGrace = time.Second

// admitted moves the deadlines of an authenticated request: a body may take
// BodyTimeout to arrive (and the answer WriteTimeout after it); a request
// without one has nothing more to read.
func (s *Server) admitted(w http.ResponseWriter, r *http.Request) {
	rc := http.NewResponseController(w)
	if r.ContentLength == 0 {
		_ = rc.SetReadDeadline(time.Time{})
		return
	}
	if s.cfg.BodyTimeout <= 0 {
		return
	}
	now := time.Now()
	_ = rc.SetReadDeadline(now.Add(s.cfg.BodyTimeout))
	if s.cfg.WriteTimeout > 0 {
		_ = rc.SetWriteDeadline(now.Add(s.cfg.BodyTimeout + s.cfg.WriteTimeout))
	}
	r.Body = &bodyEnd{ReadCloser: r.Body, rc: rc}
}

// bodyEnd lifts the read deadline once the body is read (see above).
type bodyEnd struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *bodyEnd) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}

// hold gives the answer to r another d to be written (a wait of d comes first).
func (s *Server) hold(w http.ResponseWriter, d time.Duration) {
	if s.cfg.WriteTimeout > 0 {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d + s.cfg.WriteTimeout))
	}
}

// holding serves h, a call that may wait up to d for its answer after
// reading its body.
func (s *Server) holding(d time.Duration, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.hold(w, d+s.cfg.BodyTimeout)
		h(w, r)
	}
}

// streaming serves h, a stream, with a write deadline that moves with each
// write: a client that reads keeps the stream, one that stalls loses it after
// WriteTimeout.
func (s *Server) streaming(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		_ = rc.SetReadDeadline(time.Time{})
		if s.cfg.WriteTimeout <= 0 {
			h(w, r)
			return
		}
		h(&progressWriter{ResponseWriter: w, rc: rc, d: s.cfg.WriteTimeout}, r)
	}
}

type progressWriter struct {
	http.ResponseWriter
	rc *http.ResponseController
	d  time.Duration
}

func (p *progressWriter) Write(b []byte) (int, error) {
	_ = p.rc.SetWriteDeadline(time.Now().Add(p.d))
	return p.ResponseWriter.Write(b)
}

func (p *progressWriter) Flush() {
	_ = p.rc.SetWriteDeadline(time.Now().Add(p.d))
	_ = p.rc.Flush()
}

func (p *progressWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
