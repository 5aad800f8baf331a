package budget

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

func mustModel(t *testing.T, name string) *task.Model {
	t.Helper()
	m, _, ok := task.LookupModel(name)
	require.True(t, ok, name)
	return m
}

func TestRate(t *testing.T) {
	p, err := Load("testdata/prices.yaml")
	require.NoError(t, err)
	require.Equal(t, "micro-USD", p.Unit())
	for _, tc := range []struct {
		name  string
		model string
		req   task.Request
		want  int64
	}{
		{"model row", "seedance-1-0-pro", task.Request{Resolution: "720p"}, 2_500_000},
		{"flex is half price", "seedance-1-0-pro", task.Request{Resolution: "720p", ServiceTier: "flex"}, 1_250_000},
		{"explicit flex row", "seedance-1-0-pro", task.Request{Resolution: "1080p", ServiceTier: "flex"}, 1_000_000},
		{"audio row", "seedance-1-5-pro", task.Request{GenerateAudio: task.Bool(true)}, 2_400_000},
		{"silent row", "seedance-1-5-pro", task.Request{GenerateAudio: task.Bool(false)}, 1_200_000},
		{"fallback row", "seedance-1-0-pro-fast", task.Request{}, 3_000_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := p.Rate(&task.Task{Model: mustModel(t, tc.model).ID, Request: tc.req})
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	var tokens *Prices
	got, err := tokens.Rate(&task.Task{Model: "seedance-1-0-pro"})
	require.NoError(t, err)
	require.EqualValues(t, store.RateUnit, got, "no price table: one unit per token")
	require.Equal(t, "tokens", tokens.Unit())

	only, err := Parse([]byte("currency: cny\nprices: [{model: seedance-1-0-pro, per_million_tokens: 15}]"))
	require.NoError(t, err)
	require.Equal(t, "micro-CNY", only.Unit())
	_, err = only.Rate(&task.Task{Model: "seedance-1-5-pro"})
	require.Equal(t, task.CodeUnavailable, task.ErrorCode(err), "an unpriced model cannot be billed")
}

func TestParseErrors(t *testing.T) {
	for _, bad := range []string{
		"prices: [{per_million_tokens: 1}]",
		"currency: USD",
		"currency: USD\nprices: [{model: gpt-4, per_million_tokens: 1}]",
		"currency: USD\nprices: [{resolution: 8k, per_million_tokens: 1}]",
		"currency: USD\nprices: [{service_tier: cheap, per_million_tokens: 1}]",
		"currency: USD\nprices: [{per_million_tokens: -1}]",
		"currency: USD\nprices: [{per_million_tokens: 1e9}]",
		"currency: USD\nprices: [{per_million: 1}]",
		"currency: USD\nprices: [{per_million_tokens: .nan}]",
		"[1, 2",
	} {
		_, err := Parse([]byte(bad))
		require.Error(t, err, bad)
	}
}

func TestEstimate(t *testing.T) {
	pro := mustModel(t, "seedance-1-0-pro")
	req := task.Request{Resolution: "720p", Ratio: "16:9", Duration: task.Int(5)}
	require.EqualValues(t, 103818, Estimate(pro, &req), "1.0 renders 720p 16:9 at 1248×704")
	require.EqualValues(t, 108900, Estimate(mustModel(t, "seedance-1-5-pro"), &req), "1280×720 for 5 s (docs/upstream-ark.md#usage-and-pixel-sizes)")
	auto := req
	auto.Duration = task.Int(-1)
	require.Equal(t, Estimate(pro, &task.Request{Resolution: "720p", Ratio: "16:9", Duration: task.Int(12)}), Estimate(pro, &auto),
		"model-chosen duration reserves the longest")
	adaptive := req
	adaptive.Ratio = "adaptive"
	require.GreaterOrEqual(t, Estimate(pro, &adaptive), Estimate(pro, &req))
	require.Equal(t, req.Duration, task.Int(5), "the request is not changed")
}

func TestNewCharge(t *testing.T) {
	p, err := Load("testdata/prices.yaml")
	require.NoError(t, err)
	m := mustModel(t, "seedance-1-0-pro")
	tk := &task.Task{ID: "cgt-1", Tenant: "acme", Model: m.ID, Request: task.Request{Resolution: "720p", Ratio: "16:9", Duration: task.Int(5), KeyID: "key_a"}}
	c, err := p.NewCharge(tk, m)
	require.NoError(t, err)
	require.Equal(t, "acme", c.Tenant)
	require.Equal(t, "key_a", c.KeyID)
	require.EqualValues(t, Estimate(m, &tk.Request), c.EstimateTokens)
	require.EqualValues(t, store.Cost(c.EstimateTokens, 2_500_000), c.Reserved)
	require.Equal(t, "micro-USD", c.Unit)
}

func FuzzParse(f *testing.F) {
	seed, err := os.ReadFile("testdata/prices.yaml")
	require.NoError(f, err)
	f.Add(seed)
	f.Add([]byte(`{"currency":"USD","prices":[{"model":"seedance-1-5-pro","audio":true,"per_million_tokens":2.4}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}
		for _, m := range []string{"seedance-1-0-pro", "seedance-1-5-pro", "seedance-2-0"} {
			mm, _, ok := task.LookupModel(m)
			if !ok {
				continue
			}
			rate, err := p.Rate(&task.Task{Model: mm.ID, Request: task.Request{ServiceTier: "flex", Resolution: "720p"}})
			if err == nil && rate < 0 {
				t.Fatalf("negative rate %d", rate)
			}
		}
	})
}
