// Package s3 is a blob.Store in S3-compatible object storage (AWS S3, MinIO,
// R2, GCS's XML API, …), on the minio-go client. Several gateway instances
// share files through it.
//
// Put streams: small objects go up in one PUT, larger ones as a multipart
// upload with a fixed part size, so memory stays bounded whatever the size.
// Open returns an object that reads with ranged GETs from where it was sought
// to, so http.ServeContent answers Range requests without fetching the rest.
// Downloads can also skip the gateway: RedirectURL presigns a GET.
package s3

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/seedgate/seedgate/internal/blob"
)

// Download modes: how clients get a file's bytes.
const (
	DownloadsRedirect = "redirect" // 302 to a presigned URL: the bytes never pass through the gateway
	DownloadsProxy    = "proxy"    // the gateway streams them
)

// Config names the bucket and how to reach it.
type Config struct {
	// Endpoint is the service's URL, e.g. https://s3.us-east-1.amazonaws.com or
	// http://minio:9000. Without a scheme, https is assumed.
	Endpoint  string
	Bucket    string
	Region    string
	AccessKey string
	SecretKey string
	// PathStyle addresses the bucket in the path (host/bucket/key), as MinIO
	// and most self-hosted servers need; otherwise the client picks (virtual
	// hosts on AWS).
	PathStyle bool
	// Prefix is put before every key, so that one bucket can hold several gateways.
	Prefix string
	// Downloads is DownloadsRedirect or DownloadsProxy (default).
	Downloads string
	// PresignTTL is how long a redirect URL stays valid (default 1 h).
	PresignTTL time.Duration
	// PartSize is the multipart upload's part size, and so the memory one
	// upload holds (default 16 MiB; at most 10,000 parts make an object).
	PartSize int64
	// Transport overrides the HTTP transport (tests).
	Transport http.RoundTripper
}

const (
	defaultPartSize   = 16 << 20
	defaultPresignTTL = time.Hour
	// S3's smallest part; smaller objects are sent in one PUT.
	minPartSize = 5 << 20
)

// Store keeps objects in one bucket.
type Store struct {
	c      *minio.Client
	cfg    Config
	bucket string
}

var (
	_ blob.Store      = (*Store)(nil)
	_ blob.Redirector = (*Store)(nil)
)

// New returns a Store for cfg. It does not contact the service; Check does.
func New(cfg Config) (*Store, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3: a bucket is required")
	}
	if cfg.Endpoint == "" {
		return nil, errors.New("s3: an endpoint is required")
	}
	raw := cfg.Endpoint
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") || (u.Path != "" && u.Path != "/") {
		return nil, fmt.Errorf("s3: endpoint %q: want a URL like https://host[:port] with no path", cfg.Endpoint)
	}
	switch cfg.Downloads {
	case "":
		cfg.Downloads = DownloadsProxy
	case DownloadsProxy, DownloadsRedirect:
	default:
		return nil, fmt.Errorf("s3: downloads %q: want %s or %s", cfg.Downloads, DownloadsRedirect, DownloadsProxy)
	}
	if cfg.PresignTTL <= 0 {
		cfg.PresignTTL = defaultPresignTTL
	}
	if cfg.PartSize <= 0 {
		cfg.PartSize = defaultPartSize
	}
	cfg.PartSize = max(cfg.PartSize, minPartSize)
	cfg.Prefix = strings.Trim(cfg.Prefix, "/")

	lookup := minio.BucketLookupAuto
	if cfg.PathStyle {
		lookup = minio.BucketLookupPath
	}
	opts := &minio.Options{
		Secure:       u.Scheme == "https",
		Region:       cfg.Region,
		BucketLookup: lookup,
		Transport:    cfg.Transport,
	}
	if cfg.AccessKey != "" || cfg.SecretKey != "" {
		opts.Creds = credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, "")
	} else {
		// No keys given: the usual places (environment, shared files, instance role).
		opts.Creds = credentials.NewChainCredentials([]credentials.Provider{
			&credentials.EnvAWS{}, &credentials.EnvMinio{}, &credentials.FileAWSCredentials{}, &credentials.IAM{},
		})
	}
	c, err := minio.New(u.Host, opts)
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	return &Store{c: c, cfg: cfg, bucket: cfg.Bucket}, nil
}

// Check verifies that the bucket exists and the credentials reach it.
func (s *Store) Check(ctx context.Context) error {
	ok, err := s.c.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("s3: bucket %s: %w", s.bucket, err)
	}
	if !ok {
		return fmt.Errorf("s3: bucket %s does not exist (create it first)", s.bucket)
	}
	return nil
}

// Downloads is the configured download mode.
func (s *Store) Downloads() string { return s.cfg.Downloads }

// objectName maps a key to the object's name, refusing the keys blob/disk
// refuses (keys are made by the gateway, so a bad one is a bug; still, both
// stores must agree on what a key is).
func (s *Store) objectName(key string) (string, error) {
	if strings.Contains(key, "\\") || !fs.ValidPath(key) || key == "." {
		return "", fmt.Errorf("blob: invalid key %q", key)
	}
	if s.cfg.Prefix == "" {
		return key, nil
	}
	return s.cfg.Prefix + "/" + key, nil
}

// Put uploads r under key. An object becomes visible only once complete
// (a PUT, or the multipart upload's completion), so readers never see part of one.
func (s *Store) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	name, err := s.objectName(key)
	if err != nil {
		return 0, err
	}
	// Read up to one part: a smaller object goes up in one PUT of known size,
	// a larger one streams as a multipart upload holding one part at a time.
	var head bytes.Buffer
	n, err := io.CopyN(&head, r, s.cfg.PartSize)
	opts := minio.PutObjectOptions{
		PartSize:    uint64(s.cfg.PartSize),
		ContentType: "application/octet-stream",
		// Content-MD5 lets the service verify every request's bytes; signing
		// the payload as well (SHA-256, chunked) would cost a second pass over
		// each part, and not every S3-compatible server decodes the chunked
		// signing of multipart parts.
		SendContentMd5:       true,
		DisableContentSha256: true,
	}
	var info minio.UploadInfo
	switch {
	case errors.Is(err, io.EOF):
		info, err = s.c.PutObject(ctx, s.bucket, name, &head, n, opts)
	case err != nil:
		return 0, fmt.Errorf("blob put %s: %w", key, err)
	default:
		info, err = s.c.PutObject(ctx, s.bucket, name, io.MultiReader(&head, r), -1, opts)
	}
	if err != nil {
		return 0, fmt.Errorf("blob put %s: %w", key, err)
	}
	return info.Size, nil
}

// Open returns the object, reading lazily with ranged GETs; ErrNotFound if missing.
func (s *Store) Open(ctx context.Context, key string) (blob.Object, error) {
	name, err := s.objectName(key)
	if err != nil {
		return nil, err
	}
	o, err := s.c.GetObject(ctx, s.bucket, name, minio.GetObjectOptions{})
	if err != nil {
		return nil, fmt.Errorf("blob open %s: %w", key, err)
	}
	info, err := o.Stat() // a HEAD; the bytes come with the first Read
	if err != nil {
		_ = o.Close()
		if isNotFound(err) {
			return nil, blob.ErrNotFound
		}
		return nil, fmt.Errorf("blob open %s: %w", key, err)
	}
	return &object{Object: o, size: info.Size, mod: info.LastModified}, nil
}

// Delete removes the object; a missing one is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	name, err := s.objectName(key)
	if err != nil {
		return err
	}
	if err := s.c.RemoveObject(ctx, s.bucket, name, minio.RemoveObjectOptions{}); err != nil && !isNotFound(err) {
		return fmt.Errorf("blob delete %s: %w", key, err)
	}
	return nil
}

// Redirects reports whether downloads are redirected to presigned URLs.
func (s *Store) Redirects() bool { return s.cfg.Downloads == DownloadsRedirect }

// RedirectURL presigns a GET of key that answers with the given content type
// and file name.
func (s *Store) RedirectURL(ctx context.Context, key, contentType, filename string) (string, error) {
	name, err := s.objectName(key)
	if err != nil {
		return "", err
	}
	params := url.Values{}
	if contentType != "" {
		params.Set("response-content-type", contentType)
	}
	if filename != "" {
		params.Set("response-content-disposition", blob.InlineDisposition(filename))
	}
	u, err := s.c.PresignedGetObject(ctx, s.bucket, name, s.cfg.PresignTTL, params)
	if err != nil {
		return "", fmt.Errorf("blob presign %s: %w", key, err)
	}
	return u.String(), nil
}

func isNotFound(err error) bool {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey, minio.NoSuchBucket, "NotFound":
		return true
	}
	return false
}

// object is an open S3 object. minio.Object reads from its offset with a
// ranged GET, and Seek only moves the offset, which is what ServeContent needs.
type object struct {
	*minio.Object
	size int64
	mod  time.Time
}

func (o *object) Size() int64        { return o.size }
func (o *object) ModTime() time.Time { return o.mod }
