package metrics

import (
	"context"
	"io"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seedgate/seedgate/internal/blob"
)

// Blobs wraps a blob store so that the bytes written to it and read from it
// are counted; it returns s itself on a nil *Metrics. A store that redirects
// downloads (blob.Redirector) stays one.
func (m *Metrics) Blobs(s blob.Store) blob.Store {
	if m == nil {
		return s
	}
	c := countedBlobs{Store: s, written: m.blobWritten, read: m.blobRead}
	if r, ok := s.(blob.Redirector); ok {
		return redirectingBlobs{c, r}
	}
	return c
}

type countedBlobs struct {
	blob.Store
	written, read prometheus.Counter
}

func (c countedBlobs) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	n, err := c.Store.Put(ctx, key, r)
	if err == nil {
		c.written.Add(float64(n))
	}
	return n, err
}

func (c countedBlobs) Open(ctx context.Context, key string) (blob.Object, error) {
	o, err := c.Store.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	return &countedObject{Object: o, read: c.read}, nil
}

type redirectingBlobs struct {
	countedBlobs
	blob.Redirector
}

// countedObject counts the bytes read from an object; the count is added
// as reads happen, so a download cut short counts what was sent.
type countedObject struct {
	blob.Object
	read prometheus.Counter
}

func (o *countedObject) Read(p []byte) (int, error) {
	n, err := o.Object.Read(p)
	if n > 0 {
		o.read.Add(float64(n))
	}
	return n, err
}
