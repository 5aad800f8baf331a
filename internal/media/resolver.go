package media

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/safehttp"
	"github.com/seedgate/seedgate/internal/task"
)

// ResolverConfig configures a Resolver.
type ResolverConfig struct {
	// PublicURL is the gateway's public base URL (e.g. https://gw.example.com or
	// https://example.com/seedgate). URLs of the form <PublicURL>/v1/files/{id}/content
	// are read from blob storage instead of over the network.
	PublicURL string
	// GetFile looks a file up by id. It decides who may read what: scope it (for
	// example by the tenant in ctx) when tenants must not reach each other's files.
	GetFile func(ctx context.Context, id string) (*task.File, error)
	Blobs   blob.Store
	// VerifySignature, when set, must accept the URL's "sig" query parameter.
	VerifySignature func(id, sig string) bool
	// HTTP fetches everything else; it should come from safehttp.New.
	// nil means safehttp.New(safehttp.Options{}).
	HTTP *http.Client
	// MaxBytes bounds what Open returns; 0 means MaxImageBytes.
	MaxBytes int64
	// AssetFile, when set, returns the file holding an asset's content, for
	// asset://<id> URLs (the service has checked the request's tenant owns it).
	AssetFile func(ctx context.Context, id string) (*task.File, error)
}

// Resolver opens the bytes behind the media URLs a request may carry.
type Resolver struct {
	cfg        ResolverConfig
	public     *url.URL // nil when PublicURL is empty
	publicPath string   // public.Path without a trailing slash
}

// NewResolver checks cfg and returns a Resolver.
func NewResolver(cfg ResolverConfig) (*Resolver, error) {
	if cfg.HTTP == nil {
		cfg.HTTP = safehttp.New(safehttp.Options{})
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = MaxImageBytes
	}
	r := &Resolver{cfg: cfg}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("media: public URL %q is not an absolute http(s) URL", cfg.PublicURL)
		}
		if cfg.GetFile == nil || cfg.Blobs == nil {
			return nil, errors.New("media: a public URL needs GetFile and Blobs to read gateway files")
		}
		r.public = u
		r.publicPath = strings.TrimSuffix(u.Path, "/")
	}
	return r, nil
}

// MaxBytes is the size limit Open enforces.
func (r *Resolver) MaxBytes() int64 { return r.cfg.MaxBytes }

// FileID returns the file id of a gateway file URL, or false for any other URL.
func (r *Resolver) FileID(rawURL string) (string, bool) {
	if r.public == nil {
		return "", false
	}
	u, err := url.Parse(rawURL)
	if err != nil || !strings.EqualFold(u.Scheme, r.public.Scheme) || !strings.EqualFold(u.Host, r.public.Host) {
		return "", false
	}
	rest, ok := strings.CutPrefix(u.Path, r.publicPath+"/v1/files/")
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, "/content")
	if !ok || id == "" || strings.Contains(id, "/") {
		return "", false
	}
	return id, true
}

// Open returns the bytes behind rawURL: a gateway file, a data: URL, or an
// http(s) URL fetched through the SSRF guard. Reading more than MaxBytes fails
// with a *task.Error. The caller closes the reader.
func (r *Resolver) Open(ctx context.Context, rawURL string) (io.ReadCloser, error) {
	if IsDataURL(rawURL) {
		d, err := ParseDataURL(rawURL)
		if err != nil {
			return nil, invalid("invalid data URL: %v", err)
		}
		if int64(len(d.Data)) > r.cfg.MaxBytes {
			return nil, invalid("the data URL holds %s, more than the limit of %s",
				safehttp.FormatBytes(int64(len(d.Data))), safehttp.FormatBytes(r.cfg.MaxBytes))
		}
		return io.NopCloser(bytes.NewReader(d.Data)), nil
	}
	if id, ok := r.FileID(rawURL); ok {
		return r.openFile(ctx, id, rawURL)
	}
	if id, ok := strings.CutPrefix(rawURL, "asset://"); ok && r.cfg.AssetFile != nil {
		f, err := r.cfg.AssetFile(ctx, id)
		if err != nil {
			if task.ErrorCode(err) == task.CodeNotFound {
				return nil, invalid("asset %s does not exist", id)
			}
			return nil, fmt.Errorf("media: look up asset %s: %w", id, err)
		}
		return r.openBlob(ctx, f)
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Host == "" {
		return nil, invalid("%q is not a valid URL", shorten(rawURL))
	}
	if err := safehttp.CheckScheme(u); err != nil {
		return nil, invalid("unsupported URL scheme %q (use http, https or a data: URL)", u.Scheme)
	}
	resp, err := safehttp.Get(ctx, r.cfg.HTTP, rawURL, r.cfg.MaxBytes)
	if err != nil {
		return nil, r.fetchError(rawURL, err)
	}
	return &mappedBody{rc: resp.Body, r: r, url: rawURL}, nil
}

func (r *Resolver) openFile(ctx context.Context, id, rawURL string) (io.ReadCloser, error) {
	if r.cfg.VerifySignature != nil {
		u, _ := url.Parse(rawURL) // parsed before by FileID
		if !r.cfg.VerifySignature(id, u.Query().Get("sig")) {
			return nil, invalid("file URL of %s has a missing or invalid signature", id)
		}
	}
	f, err := r.cfg.GetFile(ctx, id)
	if err != nil {
		switch task.ErrorCode(err) {
		case task.CodeNotFound, task.CodeForbidden, task.CodeUnauthorized:
			// Another tenant's file looks like no file at all.
			return nil, invalid("file %s does not exist", id)
		}
		return nil, fmt.Errorf("media: look up file %s: %w", id, err)
	}
	return r.openBlob(ctx, f)
}

// openBlob opens a stored file's content, within MaxBytes.
func (r *Resolver) openBlob(ctx context.Context, f *task.File) (io.ReadCloser, error) {
	id := f.ID
	if f.Size > r.cfg.MaxBytes {
		return nil, invalid("file %s is %s, more than the limit of %s",
			id, safehttp.FormatBytes(f.Size), safehttp.FormatBytes(r.cfg.MaxBytes))
	}
	obj, err := r.cfg.Blobs.Open(ctx, f.BlobKey)
	if err != nil {
		if errors.Is(err, blob.ErrNotFound) {
			return nil, invalid("the content of file %s is gone", id)
		}
		return nil, fmt.Errorf("media: open file %s: %w", id, err)
	}
	return obj, nil
}

// ReadAll reads everything behind rawURL (at most MaxBytes).
func (r *Resolver) ReadAll(ctx context.Context, rawURL string) ([]byte, error) {
	rc, err := r.Open(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	return data, nil
}

// ProbeImage reads the header of the image behind rawURL and returns its
// format, size in pixels and size in bytes (counted by reading on to the end,
// which holds no more than a buffer in memory).
func (r *Resolver) ProbeImage(ctx context.Context, rawURL string) (ImageInfo, error) {
	rc, err := r.Open(ctx, rawURL)
	if err != nil {
		return ImageInfo{}, err
	}
	defer rc.Close()
	info, err := DecodeImageInfoFrom(rc)
	if err != nil {
		return ImageInfo{}, prefixed(err, describeURL(rawURL)+": ")
	}
	return info, nil
}

// ServesFiles reports whether gateway file URLs are read from blob storage
// (the resolver knows the public URL), so a request may point at stored files.
func (r *Resolver) ServesFiles() bool { return r != nil && r.public != nil }

// fetchError turns a network failure into a message for the client.
func (r *Resolver) fetchError(rawURL string, err error) error {
	var (
		refused  *safehttp.RefusedError
		tooLarge *safehttp.TooLargeError
		status   *safehttp.StatusError
	)
	where := describeURL(rawURL)
	switch {
	case errors.As(err, &refused):
		return invalid("cannot fetch %s: %s (only public internet addresses are allowed)", where, refused.Error())
	case errors.As(err, &tooLarge):
		return invalid("%s is larger than the limit of %s", where, safehttp.FormatBytes(tooLarge.Limit))
	case errors.As(err, &status):
		return invalid("cannot fetch %s: the server answered %s", where, status.Status)
	case errors.Is(err, context.DeadlineExceeded):
		return invalid("cannot fetch %s: timed out", where)
	case errors.Is(err, context.Canceled):
		return err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the url.Error repeats the full URL, query string included
	}
	return invalid("cannot fetch %s: unreachable (%v)", where, err)
}

// mappedBody turns read errors (too large, connection reset) into client errors.
type mappedBody struct {
	rc  io.ReadCloser
	r   *Resolver
	url string
}

func (m *mappedBody) Read(p []byte) (int, error) {
	n, err := m.rc.Read(p)
	if err != nil && err != io.EOF {
		err = m.r.fetchError(m.url, err)
	}
	return n, err
}

func (m *mappedBody) Close() error { return m.rc.Close() }

func invalid(format string, args ...any) *task.Error {
	return task.Errorf(task.CodeInvalidParameter, "", format, args...)
}

// prefixed returns a copy of a *task.Error with prefix added to its message.
func prefixed(err error, prefix string) error {
	var te *task.Error
	if !errors.As(err, &te) {
		return err
	}
	c := *te
	c.Message = prefix + c.Message
	return &c
}

// describeURL names a URL in messages without its query string (which may
// hold credentials such as presigned signatures) and without data URL payloads.
func describeURL(rawURL string) string {
	if IsDataURL(rawURL) {
		return "the data URL"
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return shorten(rawURL)
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return shorten(u.String())
}

func shorten(s string) string {
	const max = 120
	if len(s) <= max {
		return s
	}
	return strings.ToValidUTF8(s[:max], "") + "…"
}
