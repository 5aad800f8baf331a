// Package blob stores files (uploads and mirrored results) by key: on local disk
// by default, in S3-compatible storage when configured.
package blob

import (
	"context"
	"errors"
	"io"
	"mime"
	"time"
)

// ErrNotFound is returned by Open for a missing key.
var ErrNotFound = errors.New("blob: not found")

// Store keeps immutable objects by key. Keys are slash-separated, made by the
// gateway (never by clients).
type Store interface {
	// Put stores r under key atomically (readers never see a partial object) and
	// returns the number of bytes written. Writing an existing key replaces it.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Open returns the object for reading with seeking (for HTTP Range), or ErrNotFound.
	Open(ctx context.Context, key string) (Object, error)
	Delete(ctx context.Context, key string) error
}

// Object is an open stored object.
type Object interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// Redirector is a Store whose objects clients can fetch without the gateway
// (S3's presigned URLs), when Redirects says it is configured to.
type Redirector interface {
	Redirects() bool
	// RedirectURL returns a URL serving key's bytes with the given content
	// type and file name, valid for a while.
	RedirectURL(ctx context.Context, key, contentType, filename string) (string, error)
}

// InlineDisposition is the Content-Disposition header naming a file shown inline.
func InlineDisposition(filename string) string {
	return mime.FormatMediaType("inline", map[string]string{"filename": filename})
}
