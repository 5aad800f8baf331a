package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// File is an uploaded or produced file.
type File struct {
	ID          string  `json:"id"`
	Object      string  `json:"object"`
	Kind        string  `json:"kind"` // image | video | audio
	Purpose     string  `json:"purpose"`
	Filename    string  `json:"filename,omitempty"`
	Bytes       int64   `json:"bytes"`
	ContentType string  `json:"content_type"`
	SHA256      string  `json:"sha256"`
	Width       int     `json:"width,omitempty"`
	Height      int     `json:"height,omitempty"`
	Duration    float64 `json:"duration,omitempty"`
	URL         string  `json:"url"` // signed: usable in any *_url field, and downloadable without a key
	Created     int64   `json:"created"`
}

// Upload is a file to send with UploadFile.
type Upload struct {
	Kind        string    // image, video or audio; "" lets the gateway tell from ContentType
	Purpose     string    // e.g. "reference" (the default) or "first_frame"
	Filename    string    // the name to record
	ContentType string    // e.g. "image/png"; "" sends application/octet-stream and the gateway sniffs
	Body        io.Reader // streamed, never held in memory
}

// UploadFile uploads a file (POST /v1/files/upload, multipart) and returns it with
// the URL to put in a job's first_frame_url, last_frame_url or reference fields.
func (c *Client) UploadFile(ctx context.Context, up Upload) (*File, error) {
	u, err := c.endpoint("/v1/files/upload", nil)
	if err != nil {
		return nil, err
	}
	if up.Body == nil {
		return nil, errors.New("seedgate: UploadFile: Body is nil")
	}
	if up.Purpose == "" {
		up.Purpose = "reference"
	}
	if up.ContentType == "" {
		up.ContentType = "application/octet-stream"
	}
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() { // stream the form: the body may be large
		err := func() error {
			if up.Kind != "" {
				if err := mw.WriteField("kind", up.Kind); err != nil {
					return err
				}
			}
			if err := mw.WriteField("purpose", up.Purpose); err != nil {
				return err
			}
			h := textproto.MIMEHeader{}
			h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, up.Filename))
			h.Set("Content-Type", up.ContentType)
			part, err := mw.CreatePart(h)
			if err != nil {
				return err
			}
			if _, err := io.Copy(part, up.Body); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	req, err := c.newRequest(ctx, "POST", u, pr)
	if err != nil {
		pr.Close()
		return nil, err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	var f File
	if err := c.send(req, &f); err != nil {
		pr.CloseWithError(err) // unblocks the writer if the server answered early
		return nil, err
	}
	return &f, nil
}

// UploadPath uploads a local file, guessing its kind and type from its extension.
func (c *Client) UploadPath(ctx context.Context, path, purpose string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("seedgate: %w", err)
	}
	defer f.Close()
	ct := contentTypeOf(path)
	kind, _, _ := strings.Cut(ct, "/")
	if kind != "image" && kind != "video" && kind != "audio" {
		kind = ""
	}
	return c.UploadFile(ctx, Upload{Kind: kind, Purpose: purpose, Filename: filepath.Base(path), ContentType: ct, Body: f})
}

// contentTypeOf knows the media types a job takes; anything else is sniffed by the gateway.
func contentTypeOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png":
		return "image/png"
	case ".jpg", ".jpeg":
		return "image/jpeg"
	case ".webp":
		return "image/webp"
	case ".gif":
		return "image/gif"
	case ".bmp":
		return "image/bmp"
	case ".tif", ".tiff":
		return "image/tiff"
	case ".heic":
		return "image/heic"
	case ".heif":
		return "image/heif"
	case ".mp4":
		return "video/mp4"
	case ".mov":
		return "video/quicktime"
	case ".webm":
		return "video/webm"
	case ".mp3":
		return "audio/mpeg"
	case ".wav":
		return "audio/wav"
	case ".m4a":
		return "audio/mp4"
	}
	return "application/octet-stream"
}

// GetFile returns a file's record (GET /v1/files/{id}).
func (c *Client) GetFile(ctx context.Context, id string) (*File, error) {
	var f File
	if err := c.do(ctx, "GET", "/v1/files/"+url.PathEscape(id), nil, nil, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// downloadAttempts bounds how often Download resumes a broken transfer.
const downloadAttempts = 4

// Download writes the content at rawURL (a job's video or last-frame URL, or a
// file's URL; a path such as "/v1/files/{id}/content" is taken relative to the
// gateway) to w and returns the number of bytes written. When the connection
// breaks part way, it resumes with an HTTP Range request for the rest (checked
// with If-Range against the file's ETag), so w receives each byte once.
// The API key is sent only to the gateway's own origin.
func (c *Client) Download(ctx context.Context, rawURL string, w io.Writer) (int64, error) {
	u, err := c.resolve(rawURL)
	if err != nil {
		return 0, err
	}
	var written int64
	var etag string
	var lastErr error
	dst := writerFunc(func(p []byte) (int, error) { // tells the destination's failures from the network's
		n, err := w.Write(p)
		if err != nil {
			err = &writeError{err}
		}
		return n, err
	})
	for attempt := 0; attempt < downloadAttempts; attempt++ {
		req, err := c.newRequest(ctx, "GET", u, nil)
		if err != nil {
			return written, err
		}
		if written > 0 {
			req.Header.Set("Range", "bytes="+strconv.FormatInt(written, 10)+"-")
			if etag != "" {
				req.Header.Set("If-Range", etag)
			}
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return written, ctx.Err()
			}
			lastErr = err
			continue
		}
		switch {
		case written == 0 && resp.StatusCode == http.StatusOK:
			etag = resp.Header.Get("ETag")
		case written > 0 && resp.StatusCode == http.StatusPartialContent:
			if !rangeStartsAt(resp.Header.Get("Content-Range"), written) {
				resp.Body.Close()
				return written, fmt.Errorf("seedgate: download %s: resumed at the wrong offset (%s)", redact(u), resp.Header.Get("Content-Range"))
			}
		case written > 0 && resp.StatusCode == http.StatusOK:
			// The server ignored the range or the content changed: bytes already
			// written cannot be taken back.
			resp.Body.Close()
			return written, fmt.Errorf("seedgate: download %s: the server cannot resume after %d bytes", redact(u), written)
		default:
			err := decodeError(resp)
			resp.Body.Close()
			return written, err
		}
		n, err := io.Copy(dst, resp.Body)
		resp.Body.Close()
		written += n
		if err == nil {
			return written, nil
		}
		var we *writeError
		if errors.As(err, &we) || ctx.Err() != nil {
			return written, err
		}
		if resp.Header.Get("Accept-Ranges") != "bytes" && resp.StatusCode == http.StatusOK {
			return written, fmt.Errorf("seedgate: download %s: %w", redact(u), err)
		}
		lastErr = err
	}
	return written, fmt.Errorf("seedgate: download %s: giving up after %d attempts: %w", redact(u), downloadAttempts, lastErr)
}

// writeError marks a failure of the destination writer (not worth a retry).
type writeError struct{ err error }

func (e *writeError) Error() string { return e.err.Error() }
func (e *writeError) Unwrap() error { return e.err }

// DownloadFile downloads rawURL into the file at path, writing a temporary file
// beside it and renaming it into place only when complete.
func (c *Client) DownloadFile(ctx context.Context, rawURL, path string) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".part-*")
	if err != nil {
		return 0, fmt.Errorf("seedgate: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := c.Download(ctx, rawURL, tmp)
	if cerr := tmp.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return n, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return n, fmt.Errorf("seedgate: %w", err)
	}
	return n, nil
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// resolve makes a gateway-relative URL absolute.
func (c *Client) resolve(rawURL string) (string, error) {
	if c.baseErr != nil {
		return "", c.baseErr
	}
	ref, err := url.Parse(rawURL)
	if err != nil {
		return "", fmt.Errorf("seedgate: URL %q: %w", rawURL, err)
	}
	if ref.IsAbs() {
		return ref.String(), nil
	}
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/" + strings.TrimLeft(ref.Path, "/")
	u.RawQuery = ref.RawQuery
	return u.String(), nil
}

// rangeStartsAt checks "bytes <start>-<end>/<size>".
func rangeStartsAt(contentRange string, start int64) bool {
	rest, ok := strings.CutPrefix(contentRange, "bytes ")
	if !ok {
		return false
	}
	first, _, ok := strings.Cut(rest, "-")
	n, err := strconv.ParseInt(first, 10, 64)
	return ok && err == nil && n == start
}

// redact hides a URL's signature in messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}
