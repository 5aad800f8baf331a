// Package media reads the media a request points at (gateway files, data:
// URLs, http(s) URLs through the SSRF guard), tells what images are, and
// probes videos with ffprobe.
//
// Every error meant for clients is a *task.Error with CodeInvalidParameter and
// a message naming what is wrong; the caller sets its Field.
package media

import (
	"bufio"
	"bytes"
	"errors"
	"image"
	"io"
	"strings"

	// Decoders for every input format the upstream accepts (docs/upstream-ark.md).
	_ "image/gif"
	_ "image/jpeg"
	_ "image/png"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"

	arkproto "github.com/seedgate/seedgate/internal/protocol/ark"
	"github.com/seedgate/seedgate/internal/task"
)

// MaxImageBytes is the upstream's limit for one input image.
const MaxImageBytes = arkproto.MaxImageBytes

// MaxImagePixels bounds full decodes, so a tiny file that claims a huge canvas
// (a decompression bomb) is refused before memory is allocated for it.
// The upstream takes sides below 6000 px.
const MaxImagePixels = 6000 * 6000

// SupportedImageFormats lists the formats DecodeImageInfo recognizes, as image.DecodeConfig names them.
var SupportedImageFormats = []string{"jpeg", "png", "webp", "bmp", "tiff", "gif"}

// ImageInfo describes an image without decoding its pixels.
type ImageInfo struct {
	Format string // one of SupportedImageFormats
	Width  int
	Height int
	Size   int64 // bytes
}

// ContentType is the image's MIME type.
func (i ImageInfo) ContentType() string { return "image/" + i.Format }

// Ext is the usual file name extension for the format, with its dot.
func (i ImageInfo) Ext() string {
	switch i.Format {
	case "jpeg":
		return ".jpg"
	case "tiff":
		return ".tif"
	}
	return "." + i.Format
}

// DecodeImageInfo reads the format and dimensions from an image's header.
func DecodeImageInfo(data []byte) (ImageInfo, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return ImageInfo{}, imageError(data, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return ImageInfo{}, task.Errorf(task.CodeInvalidParameter, "", "image has no pixels (%dx%d)", cfg.Width, cfg.Height)
	}
	return ImageInfo{Format: format, Width: cfg.Width, Height: cfg.Height, Size: int64(len(data))}, nil
}

// DecodeImageInfoFrom is DecodeImageInfo over a stream: it reads the header,
// then counts the rest without keeping it.
func DecodeImageInfoFrom(r io.Reader) (ImageInfo, error) {
	head := make([]byte, 512)
	k, err := io.ReadFull(r, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return ImageInfo{}, err
	}
	head = head[:k]
	cr := &countingReader{r: io.MultiReader(bytes.NewReader(head), r)}
	cfg, format, err := image.DecodeConfig(bufio.NewReader(cr))
	if err != nil {
		return ImageInfo{}, imageError(head, err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return ImageInfo{}, task.Errorf(task.CodeInvalidParameter, "", "image has no pixels (%dx%d)", cfg.Width, cfg.Height)
	}
	if _, err := io.Copy(io.Discard, cr); err != nil {
		return ImageInfo{}, err
	}
	return ImageInfo{Format: format, Width: cfg.Width, Height: cfg.Height, Size: cr.n}, nil
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// DecodeImage decodes the whole image, which also catches truncated or corrupt
// pixel data that the header alone does not show.
func DecodeImage(data []byte) (image.Image, ImageInfo, error) {
	info, err := DecodeImageInfo(data)
	if err != nil {
		return nil, ImageInfo{}, err
	}
	if int64(info.Width)*int64(info.Height) > MaxImagePixels {
		return nil, ImageInfo{}, task.Errorf(task.CodeInvalidParameter, "",
			"image is too large: %dx%d pixels (at most %d pixels)", info.Width, info.Height, MaxImagePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return nil, ImageInfo{}, task.Errorf(task.CodeInvalidParameter, "", "image is corrupt (%s): %v", info.Format, err)
	}
	return img, info, nil
}

func imageError(data []byte, err error) error {
	if errors.Is(err, image.ErrFormat) {
		if f := sniffUnsupported(data); f != "" {
			return task.Errorf(task.CodeInvalidParameter, "", "%s images are not supported (use %s)", f, formatList())
		}
		return task.Errorf(task.CodeInvalidParameter, "", "not an image in a supported format (%s)", formatList())
	}
	return task.Errorf(task.CodeInvalidParameter, "", "image header is corrupt: %v", err)
}

func formatList() string { return strings.Join(SupportedImageFormats, ", ") }

// sniffUnsupported names image formats people send that Go cannot decode,
// for a clearer message than "unknown format".
func sniffUnsupported(data []byte) string {
	if len(data) >= 12 && string(data[4:8]) == "ftyp" {
		switch string(data[8:12]) {
		case "heic", "heix", "hevc", "heim", "heis", "mif1", "msf1":
			return "HEIC/HEIF"
		case "avif", "avis":
			return "AVIF"
		}
	}
	switch {
	case bytes.HasPrefix(data, []byte("<svg")), bytes.HasPrefix(data, []byte("<?xml")):
		return "SVG"
	case bytes.HasPrefix(data, []byte{0xff, 0x0a}), bytes.HasPrefix(data, []byte("\x00\x00\x00\x0cJXL ")):
		return "JPEG XL"
	}
	return ""
}
