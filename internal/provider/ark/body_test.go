package ark

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/png"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/blob/disk"
	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/routing"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlite"
	"github.com/seedgate/seedgate/internal/task"
)

func mustModel(t *testing.T, name string) *task.Model {
	t.Helper()
	m, _, ok := task.LookupModel(name)
	require.True(t, ok, name)
	return m
}

type unitEnv struct {
	p     *Kind
	store store.Store
	blobs *disk.Store
}

// newUnit builds a provider on a temp store and blob dir, with the gateway at publicURL.
func newUnit(t *testing.T, publicURL string, mutate func(*upstream.Env)) *unitEnv {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	blobs, err := disk.New(filepath.Join(dir, "files"))
	require.NoError(t, err)
	res, err := media.NewResolver(media.ResolverConfig{PublicURL: publicURL, GetFile: st.GetFile, Blobs: blobs})
	require.NoError(t, err)
	s, err := routing.ParseSettings([]byte("channels: [{name: c1, base_url: 'http://127.0.0.1:1/api/v3', keys: [sk-1]}]"))
	require.NoError(t, err)
	cfg := upstream.Env{Settings: s, Store: st, Media: res, PublicURL: publicURL,
		FileURL: func(id string) string { return publicURL + "/v1/files/" + id + "/content?sig=SIGNED" }}
	if mutate != nil {
		mutate(&cfg)
	}
	p, err := New(cfg)
	require.NoError(t, err)
	return &unitEnv{p: p, store: st, blobs: blobs}
}

// putFile stores a gateway file and returns its URL.
func (u *unitEnv) putFile(t *testing.T, id, kind string, data []byte) string {
	t.Helper()
	_, err := u.blobs.Put(context.Background(), "uploads/"+id, bytes.NewReader(data))
	require.NoError(t, err)
	require.NoError(t, u.store.CreateFile(context.Background(), &task.File{ID: id, Kind: kind, Purpose: "reference",
		ContentType: "application/octet-stream", Size: int64(len(data)), BlobKey: "uploads/" + id, CreatedAt: time.Now()}))
	return u.p.cfg.PublicURL + "/v1/files/" + id + "/content?sig=x"
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, image.NewRGBA(image.Rect(0, 0, w, h))))
	return b.Bytes()
}

func decodeBody(t *testing.T, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(data, &m))
	return m
}

// Every field of a normalized request reaches the create body.
func TestCreateBodyHasEveryField(t *testing.T) {
	t.Parallel()
	u := newUnit(t, "https://gw.example.com", nil)
	m := mustModel(t, "seedance-1-5-pro")
	r := task.Request{
		Prompt: "a fox", FirstFrame: "https://img.example/a.png", LastFrame: "https://img.example/b.png",
		Resolution: "1080p", Ratio: "adaptive", Duration: task.Int(8), Seed: task.Int64(42),
		CameraFixed: task.Bool(true), Watermark: task.Bool(true), GenerateAudio: task.Bool(false),
		ReturnLastFrame: task.Bool(true), Draft: task.Bool(false), ServiceTier: "flex",
		ExecutionExpiresAfter: task.Int(7200), SafetyIdentifier: "user-7",
	}
	require.NoError(t, m.Normalize(&r))
	now := time.Now()
	tk := &task.Task{ID: "cgt-1", Model: m.ID, Request: r, CreatedAt: now, ExpiresAt: now.Add(7200 * time.Second)}
	content, err := u.p.content(context.Background(), &tk.Request, "")
	require.NoError(t, err)
	data, err := u.p.createBody(tk, "ep-123", content, now)
	require.NoError(t, err)
	got := decodeBody(t, data)
	require.Equal(t, map[string]any{
		"model": "ep-123",
		"content": []any{
			map[string]any{"type": "text", "text": "a fox"},
			map[string]any{"type": "image_url", "image_url": map[string]any{"url": "https://img.example/a.png"}, "role": "first_frame"},
			map[string]any{"type": "image_url", "image_url": map[string]any{"url": "https://img.example/b.png"}, "role": "last_frame"},
		},
		"resolution": "1080p", "ratio": "adaptive", "duration": 8.0, "seed": 42.0, "camera_fixed": true,
		"watermark": true, "generate_audio": false, "return_last_frame": true, "draft": false, "service_tier": "flex",
		"execution_expires_after": 7200.0,
		"safety_identifier":       "user-7", // the client's, passed through
	}, got)
}

func TestCreateBody2x(t *testing.T) {
	t.Parallel()
	u := newUnit(t, "https://gw.example.com", func(c *upstream.Env) {
		c.CallbackURL, c.CallbackSecret = "https://gw.example.com", []byte("0123456789abcdef0123")
	})
	m := mustModel(t, "seedance-2-0")
	r := task.Request{Prompt: "a band", ReferenceImages: []string{"https://i.example/1.png", "https://i.example/2.png"},
		ReferenceVideos: []string{"https://v.example/1.mp4"}, ReferenceAudio: []string{"https://a.example/1.mp3"},
		Frames: nil, Priority: task.Int(5), WebSearch: true}
	require.NoError(t, m.Normalize(&r))
	now := time.Now()
	tk := &task.Task{ID: "cgt-20250101000000-abcdefghij", Model: m.ID, Request: r, CreatedAt: now, ExpiresAt: now.Add(48 * time.Hour)}
	content, err := u.p.content(context.Background(), &tk.Request, "")
	require.NoError(t, err)
	data, err := u.p.createBody(tk, "doubao-seedance-2-0-260128", content, now)
	require.NoError(t, err)
	got := decodeBody(t, data)
	require.Equal(t, []any{map[string]any{"type": "web_search"}}, got["tools"])
	require.Equal(t, 5.0, got["priority"])
	require.NotContains(t, got, "service_tier", "2.x takes no service_tier; default is implied")
	require.NotContains(t, got, "camera_fixed", "not a 2.x switch")
	require.Equal(t, "sg-"+tk.ID, got["safety_identifier"], "the reconcile marker")
	require.Equal(t, 172800.0, got["execution_expires_after"])
	cb, _ := got["callback_url"].(string)
	require.True(t, strings.HasPrefix(cb, "https://gw.example.com/upstream/ark/callbacks/"+tk.ID+"/"), cb)
	items := got["content"].([]any)
	require.Len(t, items, 5)
	require.Equal(t, "reference_image", items[1].(map[string]any)["role"])
	require.Equal(t, map[string]any{"type": "video_url", "video_url": map[string]any{"url": "https://v.example/1.mp4"}, "role": "reference_video"}, items[3])
	require.Equal(t, map[string]any{"type": "audio_url", "audio_url": map[string]any{"url": "https://a.example/1.mp3"}, "role": "reference_audio"}, items[4])
}

func TestMarker(t *testing.T) {
	t.Parallel()
	plain := &task.Task{ID: "cgt-x", Request: task.Request{Seed: task.Int64(-1)}}
	require.Equal(t, marker{safety: "sg-cgt-x"}, markerOf(plain))

	own := &task.Task{ID: "cgt-x", Request: task.Request{SafetyIdentifier: "user-1", Seed: task.Int64(-1)}}
	mk := markerOf(own)
	require.Empty(t, mk.safety)
	require.NotNil(t, mk.seed)
	require.GreaterOrEqual(t, *mk.seed, int64(0))
	require.Equal(t, mk, markerOf(&task.Task{ID: "cgt-x", Request: own.Request}), "derived from the task alone")
	require.NotEqual(t, *mk.seed, *markerOf(&task.Task{ID: "cgt-y", Request: own.Request}).seed)

	fixed := &task.Task{ID: "cgt-x", Request: task.Request{SafetyIdentifier: "user-1", Seed: task.Int64(7)}}
	require.Equal(t, marker{}, markerOf(fixed), "nothing to mark: matched by parameters")

	long := &task.Task{ID: strings.Repeat("z", 100)}
	require.LessOrEqual(t, len(markerOf(long).safety), 64)
}

// Gateway files go upstream by signed URL when the gateway is public; else
// images and audio inline, videos not at all.
func TestInputURLs(t *testing.T) {
	t.Parallel()
	img := pngBytes(t, 640, 480)
	wav := append([]byte("RIFF\x00\x00\x00\x00WAVEfmt "), make([]byte, 64)...)
	ctx := context.Background()

	pub := newUnit(t, "https://gw.example.com", nil)
	u := pub.putFile(t, "file-img", "image", img)
	got, err := pub.p.inputURL(ctx, "first_frame", "image", u)
	require.NoError(t, err)
	require.Equal(t, "https://gw.example.com/v1/files/file-img/content?sig=SIGNED", got)
	got, err = pub.p.inputURL(ctx, "reference_videos[0]", "video", pub.putFile(t, "file-vid", "video", []byte("....ftypisom")))
	require.NoError(t, err)
	require.Contains(t, got, "/v1/files/file-vid/content")
	got, err = pub.p.inputURL(ctx, "first_frame", "image", "https://elsewhere.example/x.png")
	require.NoError(t, err)
	require.Equal(t, "https://elsewhere.example/x.png", got, "other URLs go as they are")

	priv := newUnit(t, "http://localhost:8000", nil)
	got, err = priv.p.inputURL(ctx, "first_frame", "image", priv.putFile(t, "file-img", "image", img))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(got, "data:image/png;base64,"), got[:40])
	got, err = priv.p.inputURL(ctx, "reference_audio[0]", "audio", priv.putFile(t, "file-wav", "audio", wav))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(got, "data:audio/wav;base64,"))
	_, err = priv.p.inputURL(ctx, "reference_videos[0]", "video", priv.putFile(t, "file-vid", "video", []byte("....ftypisom")))
	te := task.AsError(err)
	require.Equal(t, task.CodeInvalidParameter, te.Code)
	require.Equal(t, "reference_videos[0]", te.Field)
	require.Contains(t, te.Message, "SEEDGATE_PUBLIC_URL")
	_, err = priv.p.inputURL(ctx, "reference_videos[0]", "video", "data:video/mp4;base64,AAAA")
	require.Contains(t, task.AsError(err).Message, "by URL only")
	_, err = priv.p.inputURL(ctx, "first_frame", "image", "http://localhost:8000/v1/files/file-missing/content")
	require.Equal(t, "first_frame", task.AsError(err).Field)
}

// output_format and omni_reference_task_type go upstream when they say
// something other than the defaults, which stay unsaid.
func TestCreateBodyOutputFormatAndTaskType(t *testing.T) {
	t.Parallel()
	u := newUnit(t, "https://gw.example.com", nil)
	now := time.Now()
	for _, tc := range []struct {
		format, kind         string
		wantFormat, wantKind any
	}{
		{"mov", "extend", "mov", "extend"},
		{"MOV", "edit", "mov", "edit"},
		{"mp4", "auto", nil, nil},
		{"", "", nil, nil},
	} {
		r := task.Request{Prompt: "go on", ReferenceVideos: []string{"https://v.example/1.mp4"}, Resolution: "720p",
			Ratio: "adaptive", OutputFormat: tc.format, ReferenceTaskType: tc.kind}
		tk := &task.Task{ID: "cgt-1", Model: "seedance-2-0", Request: r, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		content, err := u.p.content(context.Background(), &tk.Request, "")
		require.NoError(t, err)
		data, err := u.p.createBody(tk, "doubao-seedance-2-5-260628", content, now)
		require.NoError(t, err)
		got := decodeBody(t, data)
		require.Equal(t, tc.wantFormat, got["output_format"], "%+v", tc)
		require.Equal(t, tc.wantKind, got["omni_reference_task_type"], "%+v", tc)
	}
}
