package arkemu

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/protocol/arkassets"
	"github.com/seedgate/seedgate/internal/task"
)

// The access key pair the emulator's OpenAPI accepts when Options.AccessKeys is empty.
const (
	TestAccessKeyID     = "AKLTarkemu0000000000000000"
	TestSecretAccessKey = "arkemu-test-secret-access-key"
)

// FaceMarker in an input image's bytes (for example a PNG text chunk, see
// FaceImage) or URL makes the image one "with a real face": Seedance 2.x
// creates refuse it with InputImageSensitiveContentDetected.PrivacyInformation
// unless it comes as asset://<id> of the asset library.
const FaceMarker = "arkemu:face"

// CodeFacePrivacy is the error code of a refused face image.
const CodeFacePrivacy = "InputImageSensitiveContentDetected.PrivacyInformation"

// OpenAPI operations, for Calls and CallsByKey (counted per access key id).
const (
	OpCreateAssetGroup Op = arkassets.ActionCreateAssetGroup
	OpCreateAsset      Op = arkassets.ActionCreateAsset
	OpGetAsset         Op = arkassets.ActionGetAsset
	OpListAssets       Op = arkassets.ActionListAssets
	OpDeleteAsset      Op = arkassets.ActionDeleteAsset
)

type emuAssetGroup struct {
	id, account, name string
}

type emuAsset struct {
	arkassets.Asset
	account string
	ready   time.Time // Processing until then
	created time.Time
}

// maxAssetBytes bounds what CreateAsset downloads.
const maxAssetBytes = 50 << 20

// handleOpenAPI serves Volcengine's OpenAPI (POST /?Action=…&Version=…) for
// the asset library: signature checked, then the action.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	action, version := q.Get("Action"), q.Get("Version")
	now := s.opts.Now()
	meta := arkassets.ResponseMetadata{RequestID: newRequestID(now), Action: action, Version: version,
		Service: arkassets.Service, Region: arkassets.RegionVolcengine}
	fail := func(status int, code, msg string) {
		meta.Error = &arkassets.Error{Code: code, Message: msg}
		writeOpenAPI(w, status, arkassets.Envelope{ResponseMetadata: meta})
	}
	if r.Header.Get("Authorization") == "" {
		fail(http.StatusUnauthorized, arkassets.CodeMissingAuthentication, "The request is not signed.")
		return
	}
	auth, err := arkassets.Verify(r, now, s.secretOf)
	var unknown *arkassets.UnknownKeyError
	switch {
	case errors.As(err, &unknown):
		fail(http.StatusUnauthorized, arkassets.CodeInvalidAccessKey, "The access key id does not exist.")
		return
	case err != nil:
		fail(http.StatusUnauthorized, arkassets.CodeSignatureDoesNotMatch, "The request signature does not conform to Volcengine standards: "+err.Error()+".")
		return
	case auth.Service != arkassets.Service:
		fail(http.StatusUnauthorized, arkassets.CodeSignatureDoesNotMatch, "The credential scope names service "+auth.Service+", not ark.")
		return
	}
	meta.Region = auth.Region
	s.count(auth.AccessKeyID, Op(action))
	if version != arkassets.Version {
		fail(http.StatusNotFound, arkassets.CodeInvalidAction, fmt.Sprintf("The action %s of version %s does not exist.", action, version))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		fail(http.StatusBadRequest, arkassets.CodeInvalidParameter, "The request body cannot be read.")
		return
	}
	var (
		result any
		status = http.StatusOK
		e      *arkassets.Error
	)
	switch action {
	case arkassets.ActionCreateAssetGroup:
		result, e = s.createAssetGroup(auth.AccessKeyID, body, now)
	case arkassets.ActionCreateAsset:
		result, e = s.createAsset(r, auth.AccessKeyID, body, now)
	case arkassets.ActionGetAsset:
		result, e = s.getAsset(auth.AccessKeyID, body, now)
	case arkassets.ActionListAssets:
		result, e = s.listAssets(auth.AccessKeyID, body, now)
	case arkassets.ActionDeleteAsset:
		result, e = s.deleteAsset(auth.AccessKeyID, body)
	default:
		fail(http.StatusNotFound, arkassets.CodeInvalidAction, fmt.Sprintf("The action %s of version %s does not exist.", action, version))
		return
	}
	if e != nil {
		status = http.StatusBadRequest
		if e.Code == arkassets.CodeNotFound {
			status = http.StatusNotFound
		}
		fail(status, e.Code, e.Message)
		return
	}
	raw, _ := json.Marshal(result)
	writeOpenAPI(w, status, arkassets.Envelope{ResponseMetadata: meta, Result: raw})
}

func writeOpenAPI(w http.ResponseWriter, status int, env arkassets.Envelope) {
	body, _ := json.Marshal(env)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func (s *Server) secretOf(ak string) (string, bool) {
	if len(s.opts.AccessKeys) == 0 {
		return TestSecretAccessKey, ak == TestAccessKeyID
	}
	sk, ok := s.opts.AccessKeys[ak]
	return sk, ok
}

func badParam(format string, args ...any) *arkassets.Error {
	return &arkassets.Error{Code: arkassets.CodeInvalidParameter, Message: fmt.Sprintf(format, args...)}
}

func notFoundErr(what, id string) *arkassets.Error {
	return &arkassets.Error{Code: arkassets.CodeNotFound, Message: fmt.Sprintf("The %s %s does not exist.", what, id)}
}

func decodeStrict(body []byte, v any) *arkassets.Error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badParam("The request body is not valid: %v.", err)
	}
	return nil
}

func (s *Server) createAssetGroup(account string, body []byte, now time.Time) (any, *arkassets.Error) {
	var in arkassets.CreateAssetGroupRequest
	if e := decodeStrict(body, &in); e != nil {
		return nil, e
	}
	if in.Name == "" || len(in.Name) > 64 {
		return nil, badParam("Name must be 1 to 64 characters.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	g := &emuAssetGroup{id: fmt.Sprintf("group-%s-%05d", now.UTC().Format("20060102150405"), s.seq), account: account, name: in.Name}
	s.assetGroups[g.id] = g
	return arkassets.IDResult{ID: g.id}, nil
}

var assetTypes = map[string]string{arkassets.TypeImage: "image", arkassets.TypeVideo: "video", arkassets.TypeAudio: "audio"}

func (s *Server) createAsset(r *http.Request, account string, body []byte, now time.Time) (any, *arkassets.Error) {
	var in arkassets.CreateAssetRequest
	if e := decodeStrict(body, &in); e != nil {
		return nil, e
	}
	if _, ok := assetTypes[in.AssetType]; !ok {
		return nil, badParam("AssetType must be Image, Video or Audio.")
	}
	if !strings.HasPrefix(in.URL, "http://") && !strings.HasPrefix(in.URL, "https://") {
		return nil, badParam("URL must be a publicly reachable http(s) URL.")
	}
	if len(in.Name) > 64 {
		return nil, badParam("Name must be at most 64 characters.")
	}
	s.mu.Lock()
	g, ok := s.assetGroups[in.GroupID]
	s.mu.Unlock()
	if !ok || g.account != account {
		return nil, notFoundErr("asset group", in.GroupID)
	}
	a := &emuAsset{Asset: arkassets.Asset{GroupID: in.GroupID, Name: in.Name, AssetType: in.AssetType, URL: in.URL,
		Status: arkassets.StatusProcessing, CreateTime: now.UTC().Format(time.RFC3339)}, account: account, created: now,
		ready: now.Add(s.opts.AssetProcessTime)}
	// The library keeps its own copy: a URL it cannot read fails the asset.
	data, err := s.downloadLimited(r, in.URL, maxAssetBytes)
	switch {
	case err != nil:
		a.Status, a.Error = arkassets.StatusFailed, &arkassets.AssetError{Code: "DownloadFailed", Message: "The asset URL could not be downloaded."}
	case in.AssetType == arkassets.TypeImage:
		if _, _, err := image.DecodeConfig(bytes.NewReader(data)); err != nil {
			a.Status, a.Error = arkassets.StatusFailed, &arkassets.AssetError{Code: "InvalidFormat", Message: "The image could not be decoded."}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	a.ID = fmt.Sprintf("asset-%s-%05d", now.UTC().Format("20060102150405"), s.seq)
	s.assets[a.ID] = a
	return arkassets.IDResult{ID: a.ID}, nil
}

func (s *Server) downloadLimited(r *http.Request, u string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer drain(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errors.New("too large")
	}
	return data, nil
}

// assetLocked returns an asset's current state (Processing turns Active when ready).
func (s *Server) assetLocked(id string, now time.Time) (*emuAsset, bool) {
	a, ok := s.assets[id]
	if !ok {
		return nil, false
	}
	if a.Status == arkassets.StatusProcessing && !now.Before(a.ready) {
		a.Status, a.UpdateTime = arkassets.StatusActive, now.UTC().Format(time.RFC3339)
	}
	return a, true
}

func (s *Server) getAsset(account string, body []byte, now time.Time) (any, *arkassets.Error) {
	var in arkassets.IDRequest
	if e := decodeStrict(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.assetLocked(in.ID, now)
	if !ok || a.account != account {
		return nil, notFoundErr("asset", in.ID)
	}
	return a.Asset, nil
}

func (s *Server) listAssets(account string, body []byte, now time.Time) (any, *arkassets.Error) {
	var in arkassets.ListAssetsRequest
	if e := decodeStrict(body, &in); e != nil {
		return nil, e
	}
	if in.PageNumber <= 0 {
		in.PageNumber = 1
	}
	if in.PageSize <= 0 {
		in.PageSize = 10
	}
	if in.PageSize > 100 {
		return nil, badParam("PageSize must be at most 100.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []*emuAsset
	for id := range s.assets {
		a, _ := s.assetLocked(id, now)
		if a.account != account {
			continue
		}
		if f := in.Filter; f != nil && ((len(f.GroupIDs) > 0 && !slices.Contains(f.GroupIDs, a.GroupID)) ||
			(len(f.Statuses) > 0 && !slices.Contains(f.Statuses, a.Status))) {
			continue
		}
		all = append(all, a)
	}
	slices.SortFunc(all, func(a, b *emuAsset) int { return strings.Compare(b.ID, a.ID) }) // newest first
	out := arkassets.ListAssetsResult{Items: []arkassets.Asset{}, TotalCount: len(all), PageNumber: in.PageNumber, PageSize: in.PageSize}
	for i := (in.PageNumber - 1) * in.PageSize; i >= 0 && i < len(all) && len(out.Items) < in.PageSize; i++ {
		out.Items = append(out.Items, all[i].Asset)
	}
	return out, nil
}

func (s *Server) deleteAsset(account string, body []byte) (any, *arkassets.Error) {
	var in arkassets.IDRequest
	if e := decodeStrict(body, &in); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.assets[in.ID]
	if !ok || a.account != account {
		return nil, notFoundErr("asset", in.ID)
	}
	delete(s.assets, in.ID)
	return struct{}{}, nil
}

// Assets returns a snapshot of the asset library, every account's.
func (s *Server) Assets() []arkassets.Asset {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now()
	out := []arkassets.Asset{}
	for id := range s.assets {
		a, _ := s.assetLocked(id, now)
		out = append(out, a.Asset)
	}
	slices.SortFunc(out, func(a, b arkassets.Asset) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// checkAssetInput accepts asset://<id> of an Active asset of any account's library.
func (s *Server) checkAssetInput(u string) *badRequest {
	id := strings.TrimPrefix(u, "asset://")
	s.mu.Lock()
	a, ok := s.assetLocked(id, s.opts.Now())
	s.mu.Unlock()
	switch {
	case !ok:
		return invalidParam("content", "The asset %s does not exist.", id)
	case a.Status != arkassets.StatusActive:
		return invalidParam("content", "The asset %s is %s, not Active.", id, a.Status)
	}
	return nil
}

// faceRefused is the answer to a face image sent other than as an asset.
func faceRefused() *badRequest {
	return &badRequest{status: http.StatusBadRequest, code: CodeFacePrivacy, param: "image_url",
		msg: "The request failed because the input image may contain real person information. Use an asset from your asset library for images of real people."}
}

// hasFace reports whether an image (its bytes or its URL) carries FaceMarker,
// on models that check for faces (Seedance 2.x).
func hasFace(m *task.Model, u string, data []byte) bool {
	if m.Family == task.Family10 || m.Family == task.Family15 {
		return false
	}
	return strings.Contains(u, FaceMarker) || bytes.Contains(data, []byte(FaceMarker))
}

// FaceImage returns a w×h PNG carrying FaceMarker in a text chunk: an image
// "with a real face" for the emulator.
func FaceImage(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetRGBA(x, y, color.RGBA{R: 230, G: uint8(160 + x*60/w), B: uint8(120 + y*60/h), A: 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	data := b.Bytes()
	// A tEXt chunk right after IHDR (8-byte signature + 25-byte IHDR chunk).
	text := append([]byte("Comment\x00"), FaceMarker...)
	chunk := make([]byte, 0, len(text)+12)
	chunk = append(chunk, byte(len(text)>>24), byte(len(text)>>16), byte(len(text)>>8), byte(len(text)))
	chunk = append(chunk, "tEXt"...)
	chunk = append(chunk, text...)
	crc := crc32.ChecksumIEEE(chunk[4:])
	chunk = append(chunk, byte(crc>>24), byte(crc>>16), byte(crc>>8), byte(crc))
	out := append([]byte{}, data[:33]...)
	out = append(out, chunk...)
	return append(out, data[33:]...)
}
