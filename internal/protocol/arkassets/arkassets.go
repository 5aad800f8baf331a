// Package arkassets is the asset library of Ark as Volcengine's OpenAPI
// serves it (service "ark", version 2024-01-01): the actions CreateAssetGroup,
// CreateAsset (from a URL), GetAsset, ListAssets and DeleteAsset, their
// request and result types, the OpenAPI envelope and error shape, and the
// request signature (Volcengine's HMAC-SHA256 scheme, computed by the
// Volcengine SDK's signer). The gateway's client (provider/assetmirror) and
// the Ark emulator (arkemu) both use these declarations.
//
// A call is POST <endpoint>/?Action=<action>&Version=2024-01-01 with a JSON
// body, signed with an access key pair; the answer is
// {"ResponseMetadata": {...}, "Result": {...}}, with
// ResponseMetadata.Error set instead of Result when the call failed.
package arkassets

import (
	"bytes"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/volcengine/volcengine-go-sdk/volcengine/credentials"
)

// What every call names.
const (
	Service = "ark"
	Version = "2024-01-01"
	// DefaultEndpoint is Volcengine's OpenAPI host.
	DefaultEndpoint = "https://open.volcengineapi.com"
	// Regions the signature is scoped to, per upstream.
	RegionVolcengine = "cn-beijing"
	RegionBytePlus   = "ap-southeast-1"
)

// Actions.
const (
	ActionCreateAssetGroup = "CreateAssetGroup"
	ActionCreateAsset      = "CreateAsset"
	ActionGetAsset         = "GetAsset"
	ActionListAssets       = "ListAssets"
	ActionDeleteAsset      = "DeleteAsset"
)

// Asset states. The SDK's constants leave out Expired; the API returns it.
const (
	StatusProcessing = "Processing"
	StatusActive     = "Active"
	StatusFailed     = "Failed"
	StatusExpired    = "Expired"
)

// Asset types.
const (
	TypeImage = "Image"
	TypeVideo = "Video"
	TypeAudio = "Audio"
)

// CreateAssetGroupRequest is CreateAssetGroup's body.
type CreateAssetGroupRequest struct {
	Name        string `json:"Name"`
	Description string `json:"Description,omitempty"`
}

// IDResult is the result of the creates: the new object's id.
type IDResult struct {
	ID string `json:"Id"`
}

// CreateAssetRequest is CreateAsset's body: the upstream fetches URL.
type CreateAssetRequest struct {
	GroupID   string `json:"GroupId"`
	URL       string `json:"URL"`
	Name      string `json:"Name,omitempty"`
	AssetType string `json:"AssetType"`
}

// IDRequest is the body of GetAsset and DeleteAsset.
type IDRequest struct {
	ID string `json:"Id"`
}

// Asset is GetAsset's result and an item of ListAssets.
type Asset struct {
	ID         string      `json:"Id"`
	GroupID    string      `json:"GroupId"`
	Name       string      `json:"Name"`
	AssetType  string      `json:"AssetType"`
	URL        string      `json:"URL,omitempty"`
	Status     string      `json:"Status"`
	Error      *AssetError `json:"Error,omitempty"`
	CreateTime string      `json:"CreateTime,omitempty"` // RFC 3339
	UpdateTime string      `json:"UpdateTime,omitempty"`
}

// AssetError says why an asset Failed.
type AssetError struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
}

// ListAssetsRequest is ListAssets' body.
type ListAssetsRequest struct {
	Filter     *ListFilter `json:"Filter,omitempty"`
	PageNumber int         `json:"PageNumber,omitempty"`
	PageSize   int         `json:"PageSize,omitempty"`
}

// ListFilter narrows ListAssets.
type ListFilter struct {
	GroupIDs []string `json:"GroupIds,omitempty"`
	Statuses []string `json:"Statuses,omitempty"`
}

// ListAssetsResult is ListAssets' result.
type ListAssetsResult struct {
	Items      []Asset `json:"Items"`
	TotalCount int     `json:"TotalCount"`
	PageNumber int     `json:"PageNumber"`
	PageSize   int     `json:"PageSize"`
}

// Envelope is every answer.
type Envelope struct {
	ResponseMetadata ResponseMetadata `json:"ResponseMetadata"`
	Result           json.RawMessage  `json:"Result,omitempty"`
}

// ResponseMetadata identifies the call, and carries its error.
type ResponseMetadata struct {
	RequestID string `json:"RequestId"`
	Action    string `json:"Action"`
	Version   string `json:"Version"`
	Service   string `json:"Service"`
	Region    string `json:"Region"`
	Error     *Error `json:"Error,omitempty"`
}

// Error is a failed call's error.
type Error struct {
	CodeN   int    `json:"CodeN,omitempty"`
	Code    string `json:"Code"`
	Message string `json:"Message"`
}

// Error codes the gateway and the emulator name.
const (
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	CodeInvalidAccessKey      = "InvalidAccessKey"
	CodeMissingAuthentication = "MissingAuthenticationToken"
	CodeInvalidParameter      = "InvalidParameter"
	CodeNotFound              = "NotFound"
	CodeInvalidAction         = "InvalidActionOrVersion"
)

// Credentials are an access key pair and where its signature is scoped.
type Credentials struct {
	AccessKeyID, SecretAccessKey string
	Region                       string // default RegionVolcengine
}

// Sign signs a request for the ark service with the Volcengine SDK's signer
// (it sets X-Date, X-Content-Sha256 and Authorization). The body is read and
// put back.
func Sign(r *http.Request, c Credentials) error {
	region := c.Region
	if region == "" {
		region = RegionVolcengine
	}
	b, err := credentials.NewStaticCredentials(c.AccessKeyID, c.SecretAccessKey, "").GetBase(region, Service)
	if err != nil {
		return fmt.Errorf("arkassets: credentials: %w", err)
	}
	if r.Body == nil {
		r.Body = http.NoBody
	}
	b.Sign(r)
	return nil
}

// Authorization is what a signed request's Authorization header says.
type Authorization struct {
	AccessKeyID   string
	Date          string // yyyymmdd of the credential scope
	Region        string
	Service       string
	SignedHeaders []string
	Signature     string
}

// ParseAuthorization reads "HMAC-SHA256 Credential=AK/date/region/service/request,
// SignedHeaders=a;b, Signature=hex".
func ParseAuthorization(h string) (Authorization, error) {
	var a Authorization
	rest, ok := strings.CutPrefix(h, "HMAC-SHA256 ")
	if !ok {
		return a, errors.New("the Authorization header is not HMAC-SHA256")
	}
	for _, part := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return a, fmt.Errorf("the Authorization header has a malformed part %q", part)
		}
		switch k {
		case "Credential":
			f := strings.Split(v, "/")
			if len(f) != 5 || f[4] != "request" || f[0] == "" {
				return a, errors.New("the Authorization header's Credential is malformed")
			}
			a.AccessKeyID, a.Date, a.Region, a.Service = f[0], f[1], f[2], f[3]
		case "SignedHeaders":
			a.SignedHeaders = strings.Split(v, ";")
		case "Signature":
			a.Signature = v
		}
	}
	if a.AccessKeyID == "" || a.Signature == "" || len(a.SignedHeaders) == 0 {
		return a, errors.New("the Authorization header lacks Credential, SignedHeaders or Signature")
	}
	return a, nil
}

// MaxSkew is how far a request's X-Date may be from the server's clock.
const MaxSkew = 15 * time.Minute

// Verify checks a received request's signature (server side): it signs a
// copy holding only what the client signed with secretOf(access key id)
// and the SDK's signer, and compares. The body is read and put back.
func Verify(r *http.Request, now time.Time, secretOf func(accessKeyID string) (string, bool)) (Authorization, error) {
	a, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return a, err
	}
	secret, ok := secretOf(a.AccessKeyID)
	if !ok {
		return a, &UnknownKeyError{AccessKeyID: a.AccessKeyID}
	}
	date := r.Header.Get("X-Date")
	at, err := time.Parse("20060102T150405Z", date)
	if err != nil || !strings.HasPrefix(date, a.Date) {
		return a, errors.New("X-Date is missing or does not match the credential scope")
	}
	if d := now.Sub(at); d > MaxSkew || d < -MaxSkew {
		return a, fmt.Errorf("X-Date %s is more than %s from the server's time", date, MaxSkew)
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return a, fmt.Errorf("read body: %w", err)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	u := *r.URL
	u.Scheme, u.Host = "http", r.Host
	cp, err := http.NewRequest(r.Method, u.String(), bytes.NewReader(body))
	if err != nil {
		return a, fmt.Errorf("copy request: %w", err)
	}
	cp.Host = r.Host
	for _, h := range a.SignedHeaders {
		switch strings.ToLower(h) {
		case "host", "x-content-sha256":
			continue // the signer sets these itself
		}
		cp.Header.Set(h, r.Header.Get(h))
	}
	if err := Sign(cp, Credentials{AccessKeyID: a.AccessKeyID, SecretAccessKey: secret, Region: a.Region}); err != nil {
		return a, err
	}
	want, err := ParseAuthorization(cp.Header.Get("Authorization"))
	if err != nil {
		return a, err
	}
	if !hmac.Equal([]byte(want.Signature), []byte(a.Signature)) || strings.Join(want.SignedHeaders, ";") != strings.Join(a.SignedHeaders, ";") {
		return a, errors.New("the request signature we calculated does not match the signature you provided")
	}
	return a, nil
}

// UnknownKeyError is a signature by an access key the server does not know.
type UnknownKeyError struct{ AccessKeyID string }

func (e *UnknownKeyError) Error() string {
	return "the access key id " + e.AccessKeyID + " does not exist"
}

// Query is the query string of a call.
func Query(action string) string {
	return url.Values{"Action": {action}, "Version": {Version}}.Encode()
}
