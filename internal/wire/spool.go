package wire

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/seedgate/seedgate/internal/task"
)

// SpoolMin is the length from which a base64 data: URL in a JSON body is
// spooled to a temp file while the body is read; shorter strings stay in the body.
const SpoolMin = 64 << 10

// spoolParam marks the placeholder URL that stands for a spooled payload:
// data:<type>;seedgate-spool=<n>;base64, with nothing after the comma.
const spoolParam = ";seedgate-spool="

// Spool keeps the payloads of the big data: URLs DecodeJSON took out of a
// request body while reading it: each went to a temp file as decoded bytes,
// and the body kept a short placeholder URL in its place, so an image sent
// inline is never held in memory whole. A Spool belongs to one request
// (WithSpool); Close removes its files.
type Spool struct {
	mu     sync.Mutex
	items  []*Spooled
	closed bool
}

// Spooled is one data: URL payload in a temp file.
type Spooled struct {
	Path      string // the decoded bytes
	MediaType string // lower case, as the URL declared it
	Size      int64
	SHA256    string // hex, of the decoded bytes
	// Err says why the payload is not valid base64; the file is then incomplete.
	Err error
}

type spoolKey struct{}

// WithSpool returns ctx carrying sp, where DecodeJSON and the service find it.
func WithSpool(ctx context.Context, sp *Spool) context.Context {
	return context.WithValue(ctx, spoolKey{}, sp)
}

// SpoolFrom returns the request's Spool, or nil: then bodies are decoded in memory.
func SpoolFrom(ctx context.Context) *Spool {
	sp, _ := ctx.Value(spoolKey{}).(*Spool)
	return sp
}

// Lookup returns the payload a placeholder URL stands for, or false for any
// other URL (a client cannot name another request's payloads: each request
// has its own Spool).
func (s *Spool) Lookup(url string) (*Spooled, bool) {
	if s == nil || len(url) > 256 || !strings.HasPrefix(url, "data:") || !strings.HasSuffix(url, ";base64,") {
		return nil, false
	}
	_, rest, ok := strings.Cut(url, spoolParam)
	if !ok {
		return nil, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(rest, ";base64,"))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil || n < 0 || n >= len(s.items) {
		return nil, false
	}
	return s.items[n], true
}

// Close removes the spooled files. Safe to call twice.
func (s *Spool) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, it := range s.items {
		_ = os.Remove(it.Path)
	}
	s.items, s.closed = nil, true
}

// add registers a new payload file and returns its placeholder URL.
func (s *Spool) add(it *Spooled) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = os.Remove(it.Path)
		return "", errors.New("the request has ended")
	}
	s.items = append(s.items, it)
	return "data:" + it.MediaType + spoolParam + strconv.Itoa(len(s.items)-1) + ";base64,", nil
}

// readBody reads a JSON body into memory, except that string values of at
// least SpoolMin bytes that are base64 data: URLs go to files of sp (when sp
// is not nil) and leave a placeholder URL behind. It checks JSON only as far
// as it must to find strings; the decoder checks the rest.
func readBody(r io.Reader, sp *Spool) ([]byte, error) {
	sc := &scanner{spool: sp}
	bp := readBufs.Get().(*[]byte)
	defer readBufs.Put(bp)
	buf := *bp
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if serr := sc.write(buf[:n]); serr != nil {
				sc.abort()
				return nil, serr
			}
		}
		if errors.Is(err, io.EOF) {
			sc.abort() // a string still open: the decoder says the JSON ends early
			break
		}
		if err != nil {
			sc.abort()
			return nil, err
		}
	}
	return sc.out.Bytes(), nil
}

// readBufs are readBody's read buffers: every request needs one, briefly.
var readBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// scanner copies a JSON document, tracking only whether it is inside a string.
type scanner struct {
	spool    *Spool
	out      bytes.Buffer
	offset   int64 // bytes consumed
	inStr    bool
	esc      bool
	strStart int  // where the current string's content starts in out
	decided  bool // whether the current string was judged for spooling
	sink     *dataSink
}

func (sc *scanner) write(p []byte) error {
	for _, c := range p {
		sc.offset++
		if !sc.inStr {
			sc.out.WriteByte(c)
			if c == '"' {
				sc.inStr, sc.esc, sc.decided, sc.strStart = true, false, false, sc.out.Len()
			}
			continue
		}
		end := !sc.esc && c == '"'
		sc.esc = !sc.esc && c == '\\'
		if sc.sink != nil {
			if end {
				if err := sc.endSink(); err != nil {
					return err
				}
				sc.out.WriteByte('"')
				sc.inStr = false
				continue
			}
			if err := sc.sink.feed(c); err != nil {
				return task.Errorf(task.CodeInvalidJSON, "", "malformed JSON at byte %d: %v", sc.offset, err)
			}
			continue
		}
		sc.out.WriteByte(c)
		if end {
			sc.inStr = false
			continue
		}
		if !sc.decided && sc.spool != nil && sc.out.Len()-sc.strStart >= SpoolMin {
			sc.decided = true
			if err := sc.startSink(); err != nil {
				return err
			}
		}
	}
	return nil
}

// startSink turns the current string into a spooled payload if it is a base64
// data: URL whose header needs no JSON unescaping.
func (sc *scanner) startSink() error {
	raw := sc.out.Bytes()[sc.strStart:]
	comma := bytes.IndexByte(raw[:min(len(raw), 512)], ',')
	if comma < 0 || len(raw) < 5 || !strings.EqualFold(string(raw[:5]), "data:") {
		return nil
	}
	meta := strings.ToLower(strings.TrimSpace(string(raw[5:comma])))
	meta, ok := strings.CutSuffix(meta, ";base64")
	if !ok || strings.ContainsAny(meta, `\"`) {
		return nil
	}
	mediaType, _, _ := strings.Cut(meta, ";")
	mediaType = strings.TrimSpace(mediaType)
	if !validMediaType(mediaType) {
		return nil
	}
	f, err := os.CreateTemp("", "seedgate-dataurl-*")
	if err != nil {
		return errSpoolStorage
	}
	sc.sink = &dataSink{f: f, w: bufio.NewWriterSize(f, 64<<10), h: sha256.New(), mediaType: mediaType}
	payload := append([]byte(nil), raw[comma+1:]...)
	sc.out.Truncate(sc.strStart)
	for _, c := range payload {
		if err := sc.sink.feed(c); err != nil {
			return task.Errorf(task.CodeInvalidJSON, "", "malformed JSON at byte %d: %v", sc.offset, err)
		}
	}
	return nil
}

func (sc *scanner) endSink() error {
	s := sc.sink
	sc.sink = nil
	it, err := s.finish()
	if errors.Is(err, errSpoolStorage) {
		return errSpoolStorage
	}
	if err != nil {
		return task.Errorf(task.CodeInvalidJSON, "", "malformed JSON at byte %d: %v", sc.offset, err)
	}
	url, err := sc.spool.add(it)
	if err != nil {
		return errSpoolStorage
	}
	sc.out.WriteString(url)
	return nil
}

// abort drops a payload being spooled; finished ones go with the Spool.
func (sc *scanner) abort() {
	if sc.sink != nil {
		sc.sink.f.Close()
		_ = os.Remove(sc.sink.f.Name())
		sc.sink = nil
	}
}

// errSpoolStorage is a temp file that could not be written (no server path in it).
var errSpoolStorage = task.Errorf(task.CodeInternal, "", "the gateway could not store the request body; try again later")

// dataSink decodes a data: URL's payload as it arrives, still JSON-escaped:
// JSON escapes, then percent-encoding, then base64 (either alphabet, padding
// optional, ASCII white space anywhere), as media.ParseDataURL reads it.
type dataSink struct {
	f         *os.File
	w         *bufio.Writer
	h         hash.Hash
	mediaType string
	size      int64

	esc  int  // 0; 1 after a backslash; 2-5 reading \u's hex digits
	u    rune // the \u value so far
	pct  int  // 0; 1 after '%'; 2 after its first hex digit
	pv   byte
	pad  bool // '=' seen: only more '=' and white space may follow
	b64  []byte
	dec  []byte
	bad  error // the payload is not valid base64 (decoding stopped)
	werr error // writing the file failed
}

const b64Chunk = 48 << 10 // a multiple of 4

// feed takes one raw byte of the JSON string; errors are JSON syntax errors.
func (d *dataSink) feed(c byte) error {
	switch {
	case d.esc == 0:
		if c == '\\' {
			d.esc = 1
			return nil
		}
		if c < 0x20 {
			return errors.New("a control character in a string")
		}
		d.char(c)
	case d.esc == 1:
		d.esc = 0
		switch c {
		case '"', '\\', '/':
			d.char(c)
		case 'b', 'f', 'n', 'r', 't':
			d.char(' ') // white space, which base64 skips (\b is not, and fails below)
			if c == 'b' {
				d.fail()
			}
		case 'u':
			d.esc, d.u = 2, 0
		default:
			return fmt.Errorf("invalid escape \\%c in a string", c)
		}
	default:
		v, ok := hexVal(c)
		if !ok {
			return errors.New(`invalid \u escape in a string`)
		}
		d.u = d.u<<4 | rune(v)
		if d.esc++; d.esc == 6 {
			d.esc = 0
			if d.u < 0x80 {
				d.char(byte(d.u))
			} else {
				d.fail()
			}
		}
	}
	return nil
}

// char takes one unescaped character of the URL.
func (d *dataSink) char(c byte) {
	switch d.pct {
	case 1:
		if v, ok := hexVal(c); ok {
			d.pv, d.pct = v, 2
			return
		}
		d.pct = 0
		d.fail()
		return
	case 2:
		d.pct = 0
		if v, ok := hexVal(c); ok {
			d.b64char(d.pv<<4 | v)
			return
		}
		d.fail()
		return
	}
	if c == '%' {
		d.pct = 1
		return
	}
	d.b64char(c)
}

func (d *dataSink) b64char(c byte) {
	switch c {
	case ' ', '\t', '\n', '\r', '\f':
		return
	case '=':
		d.pad = true
		return
	case '-':
		c = '+'
	case '_':
		c = '/'
	}
	if d.pad || !isBase64(c) {
		d.fail()
		return
	}
	if d.bad != nil {
		return
	}
	d.b64 = append(d.b64, c)
	if len(d.b64) >= b64Chunk {
		d.flush()
	}
}

func (d *dataSink) fail() {
	if d.bad == nil {
		d.bad = errors.New("invalid base64 data")
	}
}

// flush decodes the pending base64 (a multiple of 4 characters unless last).
func (d *dataSink) flush() {
	if d.bad != nil || len(d.b64) == 0 {
		return
	}
	if d.dec == nil {
		d.dec = make([]byte, base64.RawStdEncoding.DecodedLen(b64Chunk)+3)
	}
	n, err := base64.RawStdEncoding.Decode(d.dec, d.b64)
	d.b64 = d.b64[:0]
	if err != nil {
		d.fail()
		return
	}
	d.h.Write(d.dec[:n])
	d.size += int64(n)
	if _, err := d.w.Write(d.dec[:n]); err != nil && d.werr == nil {
		d.werr = err
	}
}

// finish closes the file and describes it.
func (d *dataSink) finish() (*Spooled, error) {
	if d.esc != 0 {
		d.f.Close()
		_ = os.Remove(d.f.Name())
		return nil, errors.New(`an unfinished \u escape in a string`)
	}
	if d.pct != 0 {
		d.fail()
	}
	d.flush()
	if err := d.w.Flush(); err != nil && d.werr == nil {
		d.werr = err
	}
	if err := d.f.Close(); err != nil && d.werr == nil {
		d.werr = err
	}
	if d.werr != nil {
		_ = os.Remove(d.f.Name())
		return nil, errSpoolStorage
	}
	return &Spooled{Path: d.f.Name(), MediaType: d.mediaType, Size: d.size,
		SHA256: hex.EncodeToString(d.h.Sum(nil)), Err: d.bad}, nil
}

func isBase64(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/'
}

func hexVal(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// validMediaType accepts type/subtype and nothing else (no parameters).
func validMediaType(s string) bool {
	mt, params, err := mime.ParseMediaType(s)
	return err == nil && len(params) == 0 && strings.Count(mt, "/") == 1 && !strings.ContainsAny(s, " \t;")
}
