package arkemu_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/arkemu"
	"github.com/seedgate/seedgate/internal/protocol/arkassets"
	"github.com/seedgate/seedgate/internal/provider/assetmirror"
)

// assetBundle is an emulator on a settable clock near real time (request
// signatures carry the real time), its OpenAPI client and a file server.
type assetBundle struct {
	srv    *arkemu.Server
	url    string
	clock  *fakeClock
	client *assetmirror.Client
	files  string // base URL of a server of face.png and plain.png
}

func newAssetBundle(t *testing.T) *assetBundle {
	t.Helper()
	clock := &fakeClock{now: time.Now()}
	srv := arkemu.New(arkemu.Options{Now: clock.Now, APIKeys: []string{testKey}, AssetProcessTime: time.Minute})
	ts := httptest.NewServer(srv)
	files := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/face.png":
			_, _ = w.Write(arkemu.FaceImage(640, 480))
		case "/plain.png":
			_, _ = w.Write(pngOf(640, 480))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() { ts.Close(); files.Close(); srv.Close() })
	c := assetmirror.NewClient(ts.URL, arkassets.Credentials{AccessKeyID: arkemu.TestAccessKeyID, SecretAccessKey: arkemu.TestSecretAccessKey}, ts.Client())
	return &assetBundle{srv: srv, url: ts.URL, clock: clock, client: c, files: files.URL}
}

func pngOf(w, h int) []byte {
	var b bytes.Buffer
	_ = png.Encode(&b, image.NewGray(image.Rect(0, 0, w, h)))
	return b.Bytes()
}

func TestAssetLibraryActions(t *testing.T) {
	t.Parallel()
	b := newAssetBundle(t)
	ctx := context.Background()
	group, err := b.client.CreateAssetGroup(ctx, "people", "")
	require.NoError(t, err)
	id, err := b.client.CreateAsset(ctx, arkassets.CreateAssetRequest{GroupID: group, URL: b.files + "/face.png", Name: "Ada", AssetType: arkassets.TypeImage})
	require.NoError(t, err)
	a, err := b.client.GetAsset(ctx, id)
	require.NoError(t, err)
	require.Equal(t, arkassets.StatusProcessing, a.Status)
	require.Equal(t, "Ada", a.Name)
	require.Equal(t, group, a.GroupID)
	b.clock.Advance(time.Minute)
	a, err = b.client.GetAsset(ctx, id)
	require.NoError(t, err)
	require.Equal(t, arkassets.StatusActive, a.Status)

	// A URL the library cannot read fails the asset.
	broken, err := b.client.CreateAsset(ctx, arkassets.CreateAssetRequest{GroupID: group, URL: b.files + "/missing.png", AssetType: arkassets.TypeImage})
	require.NoError(t, err)
	a, err = b.client.GetAsset(ctx, broken)
	require.NoError(t, err)
	require.Equal(t, arkassets.StatusFailed, a.Status)
	require.NotNil(t, a.Error)

	list, err := b.client.ListAssets(ctx, arkassets.ListAssetsRequest{Filter: &arkassets.ListFilter{Statuses: []string{arkassets.StatusActive}}})
	require.NoError(t, err)
	require.Equal(t, 1, list.TotalCount)
	require.Equal(t, id, list.Items[0].ID)

	// Refusals in the OpenAPI's shape.
	var ae *assetmirror.APIError
	_, err = b.client.CreateAsset(ctx, arkassets.CreateAssetRequest{GroupID: "group-missing", URL: b.files + "/face.png", AssetType: arkassets.TypeImage})
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusNotFound, ae.Status)
	_, err = b.client.CreateAsset(ctx, arkassets.CreateAssetRequest{GroupID: group, URL: b.files + "/face.png", AssetType: "Hologram"})
	require.ErrorAs(t, err, &ae)
	require.Equal(t, arkassets.CodeInvalidParameter, ae.Code)
	require.NoError(t, b.client.DeleteAsset(ctx, broken))
	_, err = b.client.GetAsset(ctx, broken)
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusNotFound, ae.Status)

	// Another account sees none of it.
	other := assetmirror.NewClient(b.url, arkassets.Credentials{AccessKeyID: "AKLTother", SecretAccessKey: "x"}, nil)
	_, err = other.GetAsset(ctx, id)
	require.ErrorAs(t, err, &ae)
	require.Equal(t, arkassets.CodeInvalidAccessKey, ae.Code)
	require.Equal(t, http.StatusUnauthorized, ae.Status)

	require.Equal(t, 4, b.srv.Calls(arkemu.OpCreateAsset), "every signed call counts, refused or not")
	require.Equal(t, 1, b.srv.CallsByKey(arkemu.TestAccessKeyID, arkemu.OpCreateAssetGroup))
}

func TestOpenAPIRefusesBadSignatures(t *testing.T) {
	t.Parallel()
	b := newAssetBundle(t)
	ctx := context.Background()
	var ae *assetmirror.APIError
	wrong := assetmirror.NewClient(b.url, arkassets.Credentials{AccessKeyID: arkemu.TestAccessKeyID, SecretAccessKey: "guess"}, nil)
	_, err := wrong.CreateAssetGroup(ctx, "people", "")
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusUnauthorized, ae.Status)
	require.Equal(t, arkassets.CodeSignatureDoesNotMatch, ae.Code)

	post := func(h map[string]string, query, body string) (int, arkassets.Envelope) {
		req, err := http.NewRequest(http.MethodPost, b.url+"/?"+query, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		require.NoError(t, arkassets.Sign(req, arkassets.Credentials{AccessKeyID: arkemu.TestAccessKeyID, SecretAccessKey: arkemu.TestSecretAccessKey}))
		for k, v := range h {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var env arkassets.Envelope
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
		return resp.StatusCode, env
	}
	status, env := post(map[string]string{"Authorization": ""}, arkassets.Query(arkassets.ActionGetAsset), `{}`)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, arkassets.CodeMissingAuthentication, env.ResponseMetadata.Error.Code)
	// A signed header changed after signing.
	status, env = post(map[string]string{"X-Date": "20200101T000000Z"}, arkassets.Query(arkassets.ActionGetAsset), `{}`)
	require.Equal(t, http.StatusUnauthorized, status)
	require.Equal(t, arkassets.CodeSignatureDoesNotMatch, env.ResponseMetadata.Error.Code)
	// An action or version that does not exist.
	status, env = post(nil, "Action=CreateHologram&Version=2024-01-01", `{}`)
	require.Equal(t, http.StatusNotFound, status)
	require.Equal(t, arkassets.CodeInvalidAction, env.ResponseMetadata.Error.Code)
	status, _ = post(nil, "Action=GetAsset&Version=2019-01-01", `{}`)
	require.Equal(t, http.StatusNotFound, status)
	require.Zero(t, b.srv.Calls(arkemu.OpCreateAssetGroup))
}

// A Seedance 2.x create refuses an image carrying the face marker unless it
// is an Active asset of the library; 1.x models do not check.
func TestFaceCheck(t *testing.T) {
	t.Parallel()
	b := newAssetBundle(t)
	ctx := context.Background()
	face := "data:image/png;base64," + base64.StdEncoding.EncodeToString(arkemu.FaceImage(640, 480))
	create := func(model, url string) (int, map[string]any) {
		body := `{"model":"` + model + `","content":[{"type":"text","text":"a portrait"},{"type":"image_url","image_url":{"url":"` + url + `"},"role":"first_frame"}]}`
		req, err := http.NewRequest(http.MethodPost, b.url+arkemu.BasePath+"/contents/generations/tasks", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+testKey)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var out map[string]any
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
		return resp.StatusCode, out
	}
	code := func(out map[string]any) string {
		e, _ := out["error"].(map[string]any)
		c, _ := e["code"].(string)
		return c
	}
	status, out := create(v20, face)
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, arkemu.CodeFacePrivacy, code(out))
	status, out = create(v20, b.files+"/face.png") // by URL too
	require.Equal(t, http.StatusBadRequest, status)
	require.Equal(t, arkemu.CodeFacePrivacy, code(out))
	status, out = create(v20, b.files+"/plain.png")
	require.Equal(t, http.StatusOK, status, "%v", out)
	status, out = create(pro10, face)
	require.Equal(t, http.StatusOK, status, "%v", out)

	group, err := b.client.CreateAssetGroup(ctx, "people", "")
	require.NoError(t, err)
	id, err := b.client.CreateAsset(ctx, arkassets.CreateAssetRequest{GroupID: group, URL: b.files + "/face.png", AssetType: arkassets.TypeImage})
	require.NoError(t, err)
	status, out = create(v20, "asset://"+id)
	require.Equal(t, http.StatusBadRequest, status, "still Processing")
	require.Contains(t, out["error"].(map[string]any)["message"], "Processing")
	b.clock.Advance(time.Minute)
	status, out = create(v20, "asset://"+id)
	require.Equal(t, http.StatusOK, status, "%v", out)
	status, _ = create(v20, "asset://asset-missing")
	require.Equal(t, http.StatusBadRequest, status)
}

// FuzzOpenAPI: any action and body, correctly signed: a 200 envelope with a
// Result or a 4xx envelope with an error; never a 5xx or a panic.
func FuzzOpenAPI(f *testing.F) {
	for _, s := range [][2]string{
		{arkassets.ActionCreateAssetGroup, `{"Name":"people"}`},
		{arkassets.ActionCreateAsset, `{"GroupId":"group-x","URL":"https://example.com/a.png","AssetType":"Image"}`},
		{arkassets.ActionGetAsset, `{"Id":"asset-1"}`},
		{arkassets.ActionListAssets, `{"Filter":{"GroupIds":["g"],"Statuses":["Active"]},"PageNumber":2,"PageSize":5}`},
		{arkassets.ActionListAssets, `{"PageNumber":-9223372036854775808,"PageSize":1}`},
		{arkassets.ActionDeleteAsset, `{"Id":""}`},
		{"Nope", `[]`},
	} {
		f.Add(s[0], []byte(s[1]))
	}
	noNetwork := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("no network in fuzzing")
	})}
	srv := arkemu.New(arkemu.Options{HTTPClient: noNetwork})
	f.Cleanup(srv.Close)
	f.Fuzz(func(t *testing.T, action string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "http://open.example.com/?"+arkassets.Query(action), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if err := arkassets.Sign(req, arkassets.Credentials{AccessKeyID: arkemu.TestAccessKeyID, SecretAccessKey: arkemu.TestSecretAccessKey}); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		var env arkassets.Envelope
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatalf("status %d, body not JSON: %q", rec.Code, rec.Body.String())
		}
		switch {
		case rec.Code == http.StatusOK && env.ResponseMetadata.Error == nil && env.Result != nil:
		case rec.Code >= 400 && rec.Code < 500 && env.ResponseMetadata.Error != nil && env.ResponseMetadata.Error.Code != "":
		default:
			t.Fatalf("status %d, body %q", rec.Code, rec.Body.String())
		}
	})
}
