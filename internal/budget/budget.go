// Package budget prices tasks: the token estimate reserved at submit, and the
// rate a task's tokens are charged at — one unit per token when balances are
// kept in tokens, or the price table's (SEEDGATE_PRICES_FILE) when they are
// kept in a currency. The store holds the balances and charges
// (store.AccountStore); this package only computes.
package budget

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// TokenUnit is the unit of balances kept in tokens.
const TokenUnit = "tokens"

// Prices is a price table: balances are then kept in micro-units (millionths)
// of Currency. A nil *Prices means balances in tokens.
type Prices struct {
	Currency string  `yaml:"currency" json:"currency"`
	Rows     []Price `yaml:"prices" json:"prices"`
}

// Price is the price of a million tokens for the tasks it matches. Empty
// fields match anything; the row matching the most fields wins (the first
// of equals). A flex task matched by a row without service_tier pays half
// (docs/upstream-ark.md#usage-and-pixel-sizes: flex is half price); draft tasks pay the same price for their
// 0.6× usage, which the token count already carries.
type Price struct {
	Model       string  `yaml:"model" json:"model,omitempty"`               // a model id or any of its names
	Resolution  string  `yaml:"resolution" json:"resolution,omitempty"`     // 480p 720p 1080p 4k
	Audio       *bool   `yaml:"audio" json:"audio,omitempty"`               // generate_audio
	ServiceTier string  `yaml:"service_tier" json:"service_tier,omitempty"` // default | flex
	PerMillion  float64 `yaml:"per_million_tokens" json:"per_million_tokens"`
}

// Unit is the balance unit: "tokens", or "micro-<currency>".
func (p *Prices) Unit() string {
	if p == nil {
		return TokenUnit
	}
	return "micro-" + p.Currency
}

// Load reads a price table (YAML or JSON, which is YAML) from path.
func Load(path string) (*Prices, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("prices file: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("prices file %s: %w", path, err)
	}
	return p, nil
}

// maxPerMillion bounds a price so that rates stay far from overflowing.
const maxPerMillion = 1e6

// Parse reads a price table and checks it: a currency, known models,
// resolutions and tiers, and non-negative prices.
func Parse(data []byte) (*Prices, error) {
	var p Prices
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
	if p.Currency == "" || strings.ContainsAny(p.Currency, " \t") {
		return nil, errors.New(`"currency" is required (e.g. USD or CNY)`)
	}
	if len(p.Rows) == 0 {
		return nil, errors.New(`"prices" lists no price`)
	}
	for i := range p.Rows {
		r := &p.Rows[i]
		if r.Model != "" && r.Model != "*" {
			m, _, ok := task.LookupModel(r.Model)
			if !ok {
				return nil, fmt.Errorf("prices[%d]: unknown model %q", i, r.Model)
			}
			r.Model = m.ID
		} else {
			r.Model = ""
		}
		r.Resolution = strings.ToLower(r.Resolution)
		switch r.Resolution {
		case "", task.Res480p, task.Res720p, task.Res1080p, task.Res4K:
		default:
			return nil, fmt.Errorf("prices[%d]: unknown resolution %q", i, r.Resolution)
		}
		switch r.ServiceTier {
		case "", task.TierDefault, task.TierFlex:
		default:
			return nil, fmt.Errorf("prices[%d]: service_tier must be default or flex, not %q", i, r.ServiceTier)
		}
		if r.PerMillion < 0 || r.PerMillion > maxPerMillion || math.IsNaN(r.PerMillion) {
			return nil, fmt.Errorf("prices[%d]: per_million_tokens must be between 0 and %g", i, float64(maxPerMillion))
		}
	}
	return &p, nil
}

// Rate is what t's tokens cost: micro-units of the currency per
// store.RateUnit tokens, or one unit per token without a price table.
func (p *Prices) Rate(t *task.Task) (int64, error) {
	if p == nil {
		return store.RateUnit, nil
	}
	res := strings.ToLower(t.Request.Resolution)
	if task.Or(t.Request.Draft, false) {
		res = task.Res480p
	}
	audio := task.Or(t.Request.GenerateAudio, false)
	tier := t.Request.ServiceTier
	if tier == "" {
		tier = task.TierDefault
	}
	best, bestScore := -1, -1
	for i, r := range p.Rows {
		score := 0
		switch {
		case r.Model != "" && r.Model != t.Model,
			r.Resolution != "" && r.Resolution != res,
			r.Audio != nil && *r.Audio != audio,
			r.ServiceTier != "" && r.ServiceTier != tier:
			continue
		}
		for _, set := range []bool{r.Model != "", r.Resolution != "", r.Audio != nil, r.ServiceTier != ""} {
			if set {
				score++
			}
		}
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return 0, task.Errorf(task.CodeUnavailable, "model", "the gateway has no price for %s at %s (audio %t, %s tier): it cannot be billed", t.Model, res, audio, tier)
	}
	r := p.Rows[best]
	perMillion := r.PerMillion
	if tier == task.TierFlex && r.ServiceTier == "" {
		perMillion /= 2
	}
	// micro-units per million tokens = currency per million × 1e6.
	return int64(math.Round(perMillion * 1e6)), nil
}

// Estimate is the most tokens the request can use: the catalog's estimate,
// with "model chooses" (-1) taken as the longest duration and adaptive as
// the largest frame of the resolution.
func Estimate(m *task.Model, r *task.Request) int64 {
	c := *r
	if c.Frames == nil && c.Duration != nil && *c.Duration == -1 {
		c.Duration = task.Int(m.Durations.Max)
	}
	if !strings.EqualFold(c.Ratio, task.RatioAdaptive) {
		return m.EstimateTokens(&c, 0, 0)
	}
	var most int64
	for _, ratio := range task.FixedRatios {
		c.Ratio = ratio
		most = max(most, m.EstimateTokens(&c, 0, 0))
	}
	return most
}

// NewCharge is the charge of t (a normalized task about to be stored) for
// its tenant and key: the estimate, and its cost reserved at the rate in
// force now (snapshotted: later price changes do not touch it).
func (p *Prices) NewCharge(t *task.Task, m *task.Model) (*store.Charge, error) {
	rate, err := p.Rate(t)
	if err != nil {
		return nil, err
	}
	est := Estimate(m, &t.Request)
	return &store.Charge{
		TaskID: t.ID, Tenant: t.Tenant, KeyID: t.Request.KeyID, Model: t.Model,
		EstimateTokens: est, Reserved: store.Cost(est, rate), Rate: rate, Unit: p.Unit(),
		CreatedAt: t.CreatedAt,
	}, nil
}
