package service

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// URLSigner makes the gateway's stable, unguessable file URLs
// (<public>/v1/files/<id>/content?sig=…), usable without an API key by players,
// browsers and upstreams, and checks them.
type URLSigner struct {
	PublicURL string
	Secret    []byte
}

// FileURL returns the signed URL of a file.
func (u *URLSigner) FileURL(id string) string {
	return u.PublicURL + "/v1/files/" + url.PathEscape(id) + "/content?sig=" + u.sign(id)
}

// Valid reports whether sig is the signature of file id.
func (u *URLSigner) Valid(id, sig string) bool {
	return sig != "" && hmac.Equal([]byte(sig), []byte(u.sign(id)))
}

func (u *URLSigner) sign(id string) string {
	m := hmac.New(sha256.New, u.Secret)
	m.Write([]byte("file:" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// upload kinds and the content types each accepts (what the upstream reads).
var uploadTypes = map[string][]string{
	"image": {"image/jpeg", "image/png", "image/webp", "image/bmp", "image/tiff", "image/gif"},
	"video": {"video/mp4", "video/quicktime"},
	"audio": {"audio/wav", "audio/x-wav", "audio/wave", "audio/mpeg"},
}

// upload size limits per kind (docs/upstream-ark.md#input-limits); videos use MaxUploadBytes.
var uploadLimits = map[string]int64{"image": media.MaxImageBytes, "audio": 15 << 20}

// UploadInput is one file to store.
type UploadInput struct {
	Tenant  string
	Kind    string // image | video | audio
	Purpose string
	Name    string
	Body    io.Reader
}

// Upload stores a file after checking its kind, type, size and (for images) its
// geometry. The bytes are spooled to a temp file first so nothing half-checked
// ever reaches blob storage.
func (s *Service) Upload(ctx context.Context, in UploadInput) (*task.File, error) {
	if _, ok := uploadTypes[in.Kind]; !ok {
		return nil, task.Errorf(task.CodeInvalidParameter, "kind", "kind %q is not supported: use image, video or audio", in.Kind)
	}
	if in.Purpose == "" {
		in.Purpose = "reference"
	}
	if len(in.Purpose) > 64 {
		return nil, task.Errorf(task.CodeInvalidParameter, "purpose", "purpose is longer than 64 characters")
	}
	tmp, err := os.CreateTemp("", "seedgate-upload-*")
	if err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	limit := s.uploadLimit(in.Kind)
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), io.LimitReader(in.Body, limit+1))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, task.Errorf(task.CodeBodyTooLarge, "file", "the upload is larger than %d bytes", mbe.Limit)
		}
		return nil, task.Errorf(task.CodeInvalidParameter, "file", "reading the upload failed: %v", err)
	}
	return s.storeFile(ctx, in, "file", tmp, n, hex.EncodeToString(h.Sum(nil)))
}

func (s *Service) uploadLimit(kind string) int64 {
	limit := s.MaxUploadBytes
	if l, ok := uploadLimits[kind]; ok && l < limit {
		limit = l
	}
	return limit
}

// storeFile checks a file of n bytes held by tmp (its size, type and, for
// images, geometry; errors name field) and puts it into blob storage.
func (s *Service) storeFile(ctx context.Context, in UploadInput, field string, tmp io.ReaderAt, n int64, sum string) (*task.File, error) {
	allowed := uploadTypes[in.Kind]
	if in.Purpose == "" {
		in.Purpose = "reference"
	}
	limit := s.uploadLimit(in.Kind)
	if n == 0 {
		return nil, task.Errorf(task.CodeInvalidParameter, field, "the file is empty")
	}
	if n > limit {
		return nil, task.Errorf(task.CodeBodyTooLarge, field, "%s files may be at most %d bytes", in.Kind, limit)
	}
	if err := s.checkUploadStorage(ctx, in.Tenant, n); err != nil {
		return nil, err
	}
	head := make([]byte, 512)
	k, _ := tmp.ReadAt(head, 0)
	ctype := sniff(head[:k])
	if !contains(allowed, ctype) {
		return nil, task.Errorf(task.CodeUnsupportedMedia, field, "the file is %s, not a supported %s (%s)", ctype, in.Kind, strings.Join(allowed, ", "))
	}

	f := &task.File{
		ID: NewFileID(), Tenant: in.Tenant, Kind: in.Kind, Purpose: in.Purpose, Name: cleanName(in.Name),
		ContentType: ctype, Size: n, SHA256: sum,
		CreatedAt: s.now().UTC().Truncate(time.Millisecond),
	}
	if in.Kind == "image" {
		cfg, _, err := image.DecodeConfig(io.NewSectionReader(tmp, 0, n))
		if err != nil {
			return nil, task.Errorf(task.CodeInvalidParameter, field, "the image cannot be decoded: %v", err)
		}
		if err := task.ValidateImageGeometry(field, cfg.Width, cfg.Height); err != nil {
			return nil, err
		}
		f.Width, f.Height = cfg.Width, cfg.Height
	}
	f.BlobKey = "uploads/" + f.ID
	if _, err := s.blobs.Put(ctx, f.BlobKey, io.NewSectionReader(tmp, 0, n)); err != nil {
		return nil, fmt.Errorf("upload: %w", err)
	}
	if err := s.store.CreateFile(ctx, f); err != nil {
		_ = s.blobs.Delete(ctx, f.BlobKey)
		return nil, fmt.Errorf("upload: %w", err)
	}
	return f, nil
}

// DiscardUpload removes a file uploaded as part of a request that then failed
// (a multipart create whose task was refused), so a refused request leaves
// nothing stored. Failures are logged: the file is only an orphan then.
func (s *Service) DiscardUpload(ctx context.Context, f *task.File) {
	ctx = context.WithoutCancel(ctx)
	if err := s.store.DeleteFile(ctx, f.ID); err != nil {
		s.log.WarnContext(ctx, "discarding an upload failed", "file", f.ID, "err", err)
	}
	if err := s.blobs.Delete(ctx, f.BlobKey); err != nil {
		s.log.WarnContext(ctx, "discarding an upload's content failed", "file", f.ID, "err", err)
	}
}

// File returns a file's record if the tenant owns it.
func (s *Service) File(ctx context.Context, tenant, id string) (*task.File, error) {
	f, err := s.store.GetFile(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && f.Tenant != tenant) {
		return nil, task.Errorf(task.CodeNotFound, "id", "file %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("get file: %w", err)
	}
	return f, nil
}

// OpenFile returns a file's record and content. Callers have checked access
// (tenant or URL signature).
func (s *Service) OpenFile(ctx context.Context, id string) (*task.File, blob.Object, error) {
	f, err := s.store.GetFile(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, task.Errorf(task.CodeNotFound, "id", "file %s not found", id)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("get file: %w", err)
	}
	if f.ExpiredAt != nil {
		return nil, nil, s.expiredError(f)
	}
	o, err := s.blobs.Open(ctx, f.BlobKey)
	if errors.Is(err, blob.ErrNotFound) {
		return nil, nil, task.Errorf(task.CodeNotFound, "id", "file %s has no content", id)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open file: %w", err)
	}
	return f, o, nil
}

// FileRedirect returns a URL the client can fetch a file's bytes from directly
// (a presigned S3 URL) when the blob store is set to redirect downloads, or ""
// to stream them through OpenFile. Callers have checked access.
func (s *Service) FileRedirect(ctx context.Context, id string) (string, error) {
	r, ok := s.blobs.(blob.Redirector)
	if !ok || !r.Redirects() {
		return "", nil
	}
	f, err := s.store.GetFile(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", task.Errorf(task.CodeNotFound, "id", "file %s not found", id)
	}
	if err != nil {
		return "", fmt.Errorf("get file: %w", err)
	}
	if f.ExpiredAt != nil {
		return "", s.expiredError(f)
	}
	u, err := r.RedirectURL(ctx, f.BlobKey, f.ContentType, f.Name)
	if err != nil {
		return "", fmt.Errorf("file redirect: %w", err)
	}
	return u, nil
}

// FileURL is the signed URL of a file.
func (s *Service) FileURL(id string) string { return s.urls.FileURL(id) }

// ValidFileSignature reports whether sig grants access to file id.
func (s *Service) ValidFileSignature(id, sig string) bool { return s.urls.Valid(id, sig) }

// sniff names the content type of a file from its first bytes; the standard
// sniffer misses several formats the upstream takes.
func sniff(head []byte) string {
	switch {
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WEBP":
		return "image/webp"
	case len(head) >= 12 && string(head[0:4]) == "RIFF" && string(head[8:12]) == "WAVE":
		return "audio/wav"
	case len(head) >= 4 && (bytes.Equal(head[:4], []byte("II*\x00")) || bytes.Equal(head[:4], []byte("MM\x00*"))):
		return "image/tiff"
	case len(head) >= 12 && string(head[4:8]) == "ftyp":
		if string(head[8:10]) == "qt" {
			return "video/quicktime"
		}
		return "video/mp4"
	case len(head) >= 3 && (string(head[:3]) == "ID3" || (head[0] == 0xFF && head[1]&0xE0 == 0xE0)):
		return "audio/mpeg"
	}
	return strings.Split(http.DetectContentType(head), ";")[0]
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// cleanName keeps an uploaded file's name displayable and harmless.
func cleanName(name string) string {
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '/' || r == '\\' {
			return -1
		}
		return r
	}, name)
	if len(name) > 200 {
		name = name[:200]
	}
	return name
}
