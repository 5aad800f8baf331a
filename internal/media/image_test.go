package media

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/image/bmp"
	"golang.org/x/image/tiff"

	"github.com/seedgate/seedgate/internal/task"
)

func testImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 128, 255})
		}
	}
	return img
}

// encodeImage returns img in one of the formats the upstream accepts.
func encodeImage(t testing.TB, format string, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, img)
	case "jpeg":
		err = jpeg.Encode(&buf, img, nil)
	case "gif":
		err = gif.Encode(&buf, img, nil)
	case "bmp":
		err = bmp.Encode(&buf, img)
	case "tiff":
		err = tiff.Encode(&buf, img, nil)
	default:
		t.Fatalf("no encoder for %s", format)
	}
	require.NoError(t, err)
	return buf.Bytes()
}

func TestDecodeImageInfo(t *testing.T) {
	t.Parallel()
	img := testImage(64, 48)
	for _, format := range []string{"png", "jpeg", "gif", "bmp", "tiff"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			data := encodeImage(t, format, img)
			info, err := DecodeImageInfo(data)
			require.NoError(t, err)
			require.Equal(t, ImageInfo{Format: format, Width: 64, Height: 48, Size: int64(len(data))}, info)
			_, full, err := DecodeImage(data)
			require.NoError(t, err)
			require.Equal(t, info, full)
		})
	}
	t.Run("webp", func(t *testing.T) {
		t.Parallel()
		data, err := os.ReadFile("testdata/tiny.webp") // made by ffmpeg: Go has no webp encoder
		require.NoError(t, err)
		info, err := DecodeImageInfo(data)
		require.NoError(t, err)
		require.Equal(t, ImageInfo{Format: "webp", Width: 40, Height: 30, Size: int64(len(data))}, info)
		require.Equal(t, "image/webp", info.ContentType())
		require.Equal(t, ".webp", info.Ext())
	})
}

func TestDecodeImageErrors(t *testing.T) {
	t.Parallel()
	png := encodeImage(t, "png", testImage(64, 48))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"text", []byte("hello, I am not an image"), "not an image in a supported format (jpeg, png, webp, bmp, tiff, gif)"},
		{"empty", nil, "not an image in a supported format"},
		{"heic", []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), "HEIC/HEIF images are not supported"},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), "SVG images are not supported"},
		{"truncated header", png[:20], "image header is corrupt"},
		{"truncated pixels", png[:len(png)-30], "image is corrupt (png)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := DecodeImage(tt.data)
			require.Error(t, err)
			require.Equal(t, task.CodeInvalidParameter, task.ErrorCode(err))
			require.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestDecodeImageRefusesBombs(t *testing.T) {
	t.Parallel()
	// A GIF whose header claims a 10000x10000 canvas: a few bytes that would
	// cost 400 MB to decode.
	data := encodeImage(t, "gif", testImage(1, 1))
	data[6], data[7], data[8], data[9] = 0x10, 0x27, 0x10, 0x27 // little-endian 10000
	info, err := DecodeImageInfo(data)
	require.NoError(t, err, "the header alone is fine")
	require.Equal(t, 10000, info.Width)
	_, _, err = DecodeImage(data)
	require.ErrorContains(t, err, "image is too large: 10000x10000 pixels")
}
