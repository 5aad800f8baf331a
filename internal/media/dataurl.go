package media

import (
	"encoding/base64"
	"errors"
	"mime"
	"strings"
)

// DataURL is a parsed RFC 2397 data URL.
type DataURL struct {
	// MediaType is lower case without parameters, e.g. "image/png";
	// "text/plain" when the URL names none.
	MediaType string
	Data      []byte
}

// IsDataURL reports whether s uses the data: scheme.
func IsDataURL(s string) bool {
	return len(s) >= 5 && strings.EqualFold(s[:5], "data:")
}

// ParseDataURL parses data:[<media type>][;param=value]*[;base64],<data>.
// It is lenient where clients commonly are sloppy (whitespace inside the
// base64, missing padding, URL-safe alphabet, percent-encoded characters) and
// strict about everything else.
func ParseDataURL(s string) (*DataURL, error) {
	if !IsDataURL(s) {
		return nil, errors.New("not a data URL")
	}
	meta, payload, ok := strings.Cut(s[5:], ",")
	if !ok {
		return nil, errors.New("data URL has no comma before its data")
	}
	meta = strings.TrimSpace(meta)
	isBase64 := false
	if i := strings.LastIndexByte(meta, ';'); i >= 0 && strings.EqualFold(strings.TrimSpace(meta[i+1:]), "base64") {
		isBase64 = true
		meta = meta[:i]
	}
	mediaType, _, _ := strings.Cut(meta, ";")
	mediaType = strings.ToLower(strings.TrimSpace(mediaType))
	if mediaType == "" {
		mediaType = "text/plain"
	} else if !validMediaType(mediaType) {
		return nil, errors.New("data URL has an invalid media type")
	}

	data := percentDecode(payload)
	if !isBase64 {
		return &DataURL{MediaType: mediaType, Data: []byte(data)}, nil
	}
	decoded, err := decodeBase64(data)
	if err != nil {
		return nil, errors.New("data URL has invalid base64 data")
	}
	return &DataURL{MediaType: mediaType, Data: decoded}, nil
}

// validMediaType accepts type/subtype and nothing else (no parameters).
func validMediaType(s string) bool {
	mt, params, err := mime.ParseMediaType(s)
	return err == nil && len(params) == 0 && strings.Count(mt, "/") == 1 && !strings.ContainsAny(s, " \t;")
}

// percentDecode decodes %XX escapes and leaves malformed ones as they are
// (the WHATWG fetch standard's "percent-decode").
func percentDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// decodeBase64 takes the standard or URL-safe alphabet, padded or not, with
// ASCII whitespace anywhere.
func decodeBase64(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\r', '\f':
			return -1
		}
		return r
	}, s)
	s = strings.TrimRight(s, "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	return enc.DecodeString(s)
}
