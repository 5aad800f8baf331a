package service

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/wire"
)

// storeDataURLs turns every data: URL among r's images and audio into a file
// of the tenant, the kind an upload makes, and puts the file's URL in its
// place: the task then keeps a reference, never the bytes, and every answer
// that shows the request stays small. Big ones were spooled to temp files
// while the body was read (wire.Spool) and are copied from there. On error
// nothing stays stored; otherwise the caller discards the files if the task
// is not created after all.
func (s *Service) storeDataURLs(ctx context.Context, tenant string, r *task.Request) (stored []*task.File, err error) {
	if s.media == nil || !s.media.ServesFiles() {
		return nil, nil // no public URL to name files by: data URLs stay as they are
	}
	defer func() {
		if err != nil {
			s.discardFiles(ctx, stored)
			stored = nil
		}
	}()
	if _, ok := wire.SpoolFrom(ctx).Lookup(r.Prompt); ok {
		return nil, task.Errorf(task.CodeInvalidParameter, "prompt", "prompt is a data: URL, not text: send images in their own fields")
	}
	one := func(field, kind, purpose string, u *string) error {
		if !media.IsDataURL(*u) {
			return nil
		}
		f, err := s.storeDataURL(ctx, UploadInput{Tenant: tenant, Kind: kind, Purpose: purpose, Name: field}, field, *u)
		if err != nil {
			return err
		}
		stored = append(stored, f)
		*u = s.urls.FileURL(f.ID)
		return nil
	}
	if err := one("first_frame", "image", "first_frame", &r.FirstFrame); err != nil {
		return stored, err
	}
	if err := one("last_frame", "image", "last_frame", &r.LastFrame); err != nil {
		return stored, err
	}
	for i := range r.ReferenceImages {
		if err := one(fmt.Sprintf("reference_images[%d]", i), "image", "reference_image", &r.ReferenceImages[i]); err != nil {
			return stored, err
		}
	}
	for i := range r.ReferenceAudio {
		if err := one(fmt.Sprintf("reference_audio[%d]", i), "audio", "reference_audio", &r.ReferenceAudio[i]); err != nil {
			return stored, err
		}
	}
	return stored, nil
}

// storeDataURL stores one data: URL's bytes as the file in describes, checked
// as an upload is; errors are 400s naming field.
func (s *Service) storeDataURL(ctx context.Context, in UploadInput, field, u string) (*task.File, error) {
	var (
		src  io.ReaderAt
		size int64
		sum  string
	)
	if sp, ok := wire.SpoolFrom(ctx).Lookup(u); ok {
		if sp.Err != nil {
			return nil, task.Errorf(task.CodeInvalidParameter, field, "%s: invalid data URL: %v", field, sp.Err)
		}
		f, err := os.Open(sp.Path)
		if err != nil {
			return nil, fmt.Errorf("open spooled data URL: %w", err)
		}
		defer f.Close()
		src, size, sum = f, sp.Size, sp.SHA256
	} else {
		d, err := media.ParseDataURL(u)
		if err != nil {
			return nil, task.Errorf(task.CodeInvalidParameter, field, "%s: invalid data URL: %v", field, err)
		}
		h := sha256.Sum256(d.Data)
		src, size, sum = bytes.NewReader(d.Data), int64(len(d.Data)), hex.EncodeToString(h[:])
	}
	if in.Kind == "image" {
		// The image checks of media, for the same messages as any other image URL.
		if size > s.media.MaxBytes() {
			return nil, task.Errorf(task.CodeInvalidParameter, field, "%s: the data URL holds %d bytes, more than the limit of %d", field, size, s.media.MaxBytes())
		}
		if _, err := media.DecodeImageInfoFrom(io.NewSectionReader(src, 0, size)); err != nil {
			return nil, withField(prefixedErr(err, field+": the data URL: "), field)
		}
	}
	if err := s.checkUploadStorage(ctx, in.Tenant, size); err != nil {
		if te := task.AsError(err); te.Code != task.CodeInternal {
			// A task past the storage quota is refused as any new task is then (402).
			return nil, task.Errorf(task.CodePaymentRequired, field, "%s: %s", field, te.Message)
		}
		return nil, err
	}
	f, err := s.storeFile(ctx, in, field, src, size, sum)
	if err != nil {
		if te := task.AsError(err); te.Code == task.CodeUnsupportedMedia || te.Code == task.CodeBodyTooLarge {
			c := *te // a bad value inside the JSON, not a bad body
			c.Code, c.Message = task.CodeInvalidParameter, field+": the data URL: "+c.Message
			return nil, &c
		}
		return nil, err
	}
	return f, nil
}

func prefixedErr(err error, prefix string) error {
	te := task.AsError(err)
	if te.Code == task.CodeInternal {
		return err
	}
	c := *te
	c.Message = prefix + c.Message
	return &c
}

// discardFiles removes files stored for a create that then failed.
func (s *Service) discardFiles(ctx context.Context, files []*task.File) {
	for _, f := range files {
		s.DiscardUpload(ctx, f)
	}
}
