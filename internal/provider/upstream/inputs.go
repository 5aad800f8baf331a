package upstream

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// Inputs turns the input URLs of a request into what an upstream can read.
type Inputs struct {
	// Media recognises and reads gateway file URLs (nil: every URL goes as given).
	Media *media.Resolver
	// FileURL returns the signed gateway URL of a file.
	FileURL func(id string) string
	// Public: the gateway's public URL is reachable from the internet, so
	// upstreams can fetch its files themselves.
	Public bool
}

// Media kinds URL takes: they decide the content type of an inlined file.
const (
	InputImage = "image"
	InputAudio = "audio"
	InputVideo = "video"
)

// Resolve is Call.Input: URL for an input of unknown kind (its content type
// is sniffed when the file goes inline), with no field named on errors.
func (in Inputs) Resolve(ctx context.Context, u string) (string, error) {
	return in.URL(ctx, "", "", u)
}

// GatewayFile reports whether u names a file stored in the gateway, and its id.
func (in Inputs) GatewayFile(u string) (string, bool) {
	if in.Media == nil {
		return "", false
	}
	return in.Media.FileID(u)
}

// URL returns what to send for one input URL of a request field. Anything
// but a gateway file URL goes as given (the upstream fetches http(s) itself,
// data: URLs are already inline). A gateway file goes as its signed gateway
// URL when the gateway is public; otherwise inline, as a base64 data URL.
// kind (InputImage, InputAudio, InputVideo or "") checks the content and
// names its type. Errors are *task.Error naming field, but for storage
// trouble (worth retrying).
func (in Inputs) URL(ctx context.Context, field, kind, u string) (string, error) {
	id, ok := in.GatewayFile(u)
	if !ok {
		return u, nil
	}
	if in.Public {
		return in.FileURL(id), nil
	}
	data, err := in.Media.ReadAll(ctx, u)
	if err != nil {
		if te := task.AsError(err); te.Code != task.CodeInternal {
			c := *te
			c.Field = field
			return "", &c
		}
		if errors.Is(err, store.ErrNotFound) {
			return "", task.Errorf(task.CodeInvalidParameter, field, "%s names a file the gateway no longer has", cmpField(field))
		}
		return "", err // storage trouble: worth retrying
	}
	ctype := ""
	switch kind {
	case InputImage:
		info, err := media.DecodeImageInfo(data)
		if err != nil {
			return "", task.Errorf(task.CodeInvalidParameter, field, "%s: %v", cmpField(field), err)
		}
		ctype = info.ContentType()
	case InputAudio:
		ctype = AudioType(data)
		if ctype == "" {
			return "", task.Errorf(task.CodeInvalidParameter, field, "%s is neither WAV nor MP3", cmpField(field))
		}
	case InputVideo:
		ctype = http.DetectContentType(data)
		if !strings.HasPrefix(ctype, "video/") {
			ctype = "video/mp4"
		}
	default:
		ctype = sniff(data)
	}
	return "data:" + ctype + ";base64," + base64.StdEncoding.EncodeToString(data), nil
}

func cmpField(field string) string {
	if field == "" {
		return "an input"
	}
	return field
}

// sniff names the type of a file of unknown kind.
func sniff(data []byte) string {
	if info, err := media.DecodeImageInfo(data); err == nil {
		return info.ContentType()
	}
	if t := AudioType(data); t != "" {
		return t
	}
	if len(data) >= 12 && string(data[4:8]) == "ftyp" {
		return "video/mp4" // ISO media: what upstreams take for video
	}
	return http.DetectContentType(data)
}

// AudioType names WAV and MP3 content ("" for anything else).
func AudioType(b []byte) string {
	switch {
	case len(b) >= 12 && string(b[0:4]) == "RIFF" && string(b[8:12]) == "WAVE":
		return "audio/wav"
	case len(b) >= 3 && (string(b[:3]) == "ID3" || (b[0] == 0xFF && b[1]&0xE0 == 0xE0)):
		return "audio/mpeg"
	}
	return ""
}

// PublicReachable reports whether a URL's host can be reached from the
// internet: not localhost, not a private, loopback or link-local address,
// not a single-label or .local/.internal/.lan name. Names are not resolved.
func PublicReachable(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return false
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if a, err := netip.ParseAddr(host); err == nil {
		a = a.Unmap()
		return a.IsGlobalUnicast() && !a.IsPrivate() && !cgnat.Contains(a)
	}
	if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return false
	}
	for _, suffix := range []string{".localhost", ".local", ".internal", ".lan", ".home.arpa", ".test", ".invalid"} {
		if strings.HasSuffix(host, suffix) {
			return false
		}
	}
	return host != "localhost"
}

var cgnat = netip.MustParsePrefix("100.64.0.0/10")
