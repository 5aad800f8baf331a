package assetmirror

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/protocol/arkassets"
)

// Client calls the asset-library actions of Volcengine's OpenAPI with one
// access key pair (arkassets; requests signed by the Volcengine SDK's signer).
type Client struct {
	http     *http.Client
	endpoint string
	creds    arkassets.Credentials
}

// NewClient returns a client of endpoint (arkassets.DefaultEndpoint when "").
func NewClient(endpoint string, creds arkassets.Credentials, hc *http.Client) *Client {
	if endpoint == "" {
		endpoint = arkassets.DefaultEndpoint
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{http: hc, endpoint: strings.TrimSuffix(endpoint, "/"), creds: creds}
}

// APIError is an OpenAPI call the upstream refused.
type APIError struct {
	Status    int
	Action    string
	Code      string
	Message   string
	RequestID string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("%s: upstream %d %s: %s", e.Action, e.Status, e.Code, e.Message)
}

// Refused reports whether the upstream refused the call for good (a 4xx
// other than 429): asking again would change nothing.
func (e *APIError) Refused() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests
}

// maxAnswer bounds an answer's body.
const maxAnswer = 4 << 20

// Call runs one action: in is the JSON body, out (when not nil) receives the Result.
func (c *Client) Call(ctx context.Context, action string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: encode: %w", action, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+"/?"+arkassets.Query(action), bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := arkassets.Sign(req, c.creds); err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", action, err)
	}
	env, err := DecodeEnvelope(raw)
	if err != nil {
		if resp.StatusCode >= 400 {
			return &APIError{Status: resp.StatusCode, Action: action, Code: http.StatusText(resp.StatusCode), Message: "the answer is not an OpenAPI envelope"}
		}
		return fmt.Errorf("%s: %w", action, err)
	}
	if e := env.ResponseMetadata.Error; e != nil || resp.StatusCode != http.StatusOK {
		ae := &APIError{Status: resp.StatusCode, Action: action, RequestID: env.ResponseMetadata.RequestID}
		if e != nil {
			ae.Code, ae.Message = e.Code, e.Message
		}
		if ae.Status < 400 {
			// An error in a 2xx, or an answer other than the API's 200 that
			// is no HTTP error (another 2xx, a 3xx): the call failed all the same.
			ae.Status = http.StatusBadGateway
			if e != nil {
				ae.Status = http.StatusBadRequest
			}
		}
		return ae
	}
	if out != nil {
		if len(env.Result) == 0 {
			return fmt.Errorf("%s: the answer has no Result", action)
		}
		if err := json.Unmarshal(env.Result, out); err != nil {
			return fmt.Errorf("%s: decode Result: %w", action, err)
		}
	}
	return nil
}

// DecodeEnvelope reads an OpenAPI answer.
func DecodeEnvelope(raw []byte) (*arkassets.Envelope, error) {
	var env arkassets.Envelope
	if err := json.Unmarshal(raw, &env); err != nil {
		return nil, fmt.Errorf("decode answer: %w", err)
	}
	if env.ResponseMetadata.Error == nil && env.Result == nil && env.ResponseMetadata.RequestID == "" {
		return nil, fmt.Errorf("decode answer: no ResponseMetadata")
	}
	return &env, nil
}

// CreateAssetGroup makes a group and returns its id.
func (c *Client) CreateAssetGroup(ctx context.Context, name, description string) (string, error) {
	var out arkassets.IDResult
	if err := c.Call(ctx, arkassets.ActionCreateAssetGroup, arkassets.CreateAssetGroupRequest{Name: name, Description: description}, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("%s: the answer has no Id", arkassets.ActionCreateAssetGroup)
	}
	return out.ID, nil
}

// CreateAsset asks the upstream to fetch an asset from a URL; it returns the asset's id.
func (c *Client) CreateAsset(ctx context.Context, in arkassets.CreateAssetRequest) (string, error) {
	var out arkassets.IDResult
	if err := c.Call(ctx, arkassets.ActionCreateAsset, in, &out); err != nil {
		return "", err
	}
	if out.ID == "" {
		return "", fmt.Errorf("%s: the answer has no Id", arkassets.ActionCreateAsset)
	}
	return out.ID, nil
}

// GetAsset reads an asset.
func (c *Client) GetAsset(ctx context.Context, id string) (*arkassets.Asset, error) {
	var out arkassets.Asset
	if err := c.Call(ctx, arkassets.ActionGetAsset, arkassets.IDRequest{ID: id}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListAssets lists assets.
func (c *Client) ListAssets(ctx context.Context, in arkassets.ListAssetsRequest) (*arkassets.ListAssetsResult, error) {
	var out arkassets.ListAssetsResult
	if err := c.Call(ctx, arkassets.ActionListAssets, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteAsset removes an asset.
func (c *Client) DeleteAsset(ctx context.Context, id string) error {
	return c.Call(ctx, arkassets.ActionDeleteAsset, arkassets.IDRequest{ID: id}, nil)
}
