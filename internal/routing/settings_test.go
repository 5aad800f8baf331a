package routing

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const yamlFile = `
checks:
  min_interval: 1s
  max_interval: 2m
  expected_time: 45s
  reconcile_after: 3s
  batch_size: 100
channels:
  - name: volc-main
    base_url: https://ark.cn-beijing.volces.com/api/v3/
    keys: [sk-aaa, sk-bbb]
    models:
      seedance-1-0-pro:
      seedance-1.5-pro: ep-20250101000000-abcde
    priority: 10
    weight: 3
    concurrency: 4
    rpm: 100
    timeout: 45s
  - name: byteplus
    base_url: https://ark.ap-southeast.bytepluses.com/api/v3
    keys: [sk-ccc]
    models:
      - seedance-2-0
      - model: seedance-1-0-lite-t2v
        upstream: my-custom-id
`

func TestParseYAML(t *testing.T) {
	t.Parallel()
	s, err := ParseSettings([]byte(yamlFile))
	require.NoError(t, err)
	require.Equal(t, CheckSettings{MinInterval: time.Second, MaxInterval: 2 * time.Minute, ExpectedTime: 45 * time.Second,
		ReconcileAfter: 3 * time.Second, BatchSize: 100}, s.Checks)
	require.Len(t, s.Channels, 2)

	v := s.Channels[0]
	require.Equal(t, "https://ark.cn-beijing.volces.com/api/v3", v.BaseURL, "trailing slash trimmed")
	require.Equal(t, FlavorVolcengine, v.Flavor)
	require.Equal(t, 10, v.Priority)
	require.Equal(t, 3, v.Weight)
	require.Equal(t, 45*time.Second, v.Timeout)
	up, ok := v.UpstreamModel("seedance-1-0-pro")
	require.True(t, ok)
	require.Equal(t, "doubao-seedance-1-0-pro-250528", up, "Volcengine id from the catalog")
	up, _ = v.UpstreamModel("seedance-1-5-pro")
	require.Equal(t, "ep-20250101000000-abcde", up, "an alias resolves; the endpoint is kept")
	require.False(t, v.Serves("seedance-2-0"))
	require.Len(t, v.keys, 2)
	for _, k := range v.keys {
		require.True(t, strings.HasPrefix(k.ID, "k-"))
		require.NotContains(t, k.ID, k.Secret)
	}
	require.NotEqual(t, v.keys[0].ID, v.keys[1].ID)

	b := s.Channels[1]
	require.Equal(t, FlavorBytePlus, b.Flavor, "from the host")
	require.Equal(t, 1, b.Weight, "default weight")
	up, _ = b.UpstreamModel("seedance-2-0")
	require.Equal(t, "dreamina-seedance-2-0-260128", up, "BytePlus id from the catalog")
	up, _ = b.UpstreamModel("seedance-1-0-lite-t2v")
	require.Equal(t, "my-custom-id", up)
}

func TestParseJSONAndDefaults(t *testing.T) {
	t.Parallel()
	s, err := ParseSettings([]byte(`{"channels":[{"name":"only","base_url":"http://127.0.0.1:9000/api/v3","keys":["k1"]}]}`))
	require.NoError(t, err)
	ch := s.Channels[0]
	require.Len(t, ch.Served(), len(catalogIDs()), "no models: every catalog model")
	conc, rpm := ch.Limits(mustModel(t, "seedance-1-0-lite-t2v"))
	require.Equal(t, 5, conc, "the model's Ark limits by default")
	require.Equal(t, 300, rpm)
}

func TestKeyIDsAreStable(t *testing.T) {
	t.Parallel()
	a, err := ParseSettings([]byte("channels: [{name: c, base_url: 'https://x.example/api/v3', keys: [one, two]}]"))
	require.NoError(t, err)
	b, err := ParseSettings([]byte("channels: [{name: c, base_url: 'https://x.example/api/v3', keys: [two, one]}]"))
	require.NoError(t, err)
	require.Equal(t, a.Channels[0].keys[0].ID, b.Channels[0].keys[1].ID, "reordering keys keeps their ids")
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, doc, want string }{
		{"empty", "", "empty"},
		{"no channels", "checks: {min_interval: 1s}", "no channels"},
		{"unknown field", "channels: [{name: a, base_url: 'https://x.example', keys: [k], wieght: 2}]", "wieght"},
		{"bad name", "channels: [{name: 'a b', base_url: 'https://x.example', keys: [k]}]", "name"},
		{"bad url", "channels: [{name: a, base_url: 'ftp://x', keys: [k]}]", "base_url"},
		{"no keys", "channels: [{name: a, base_url: 'https://x.example'}]", "keys"},
		{"empty key", "channels: [{name: a, base_url: 'https://x.example', keys: ['']}]", "empty"},
		{"twice key", "channels: [{name: a, base_url: 'https://x.example', keys: [k, k]}]", "twice"},
		{"unknown model", "channels: [{name: a, base_url: 'https://x.example', keys: [k], models: [sora-9]}]", "unknown model"},
		{"suffix model", "channels: [{name: a, base_url: 'https://x.example', keys: [k], models: [seedance-1-0-pro-1080p]}]", "unknown model"},
		{"dup model", "channels: [{name: a, base_url: 'https://x.example', keys: [k], models: [seedance-1-0-pro, doubao-seedance-1-0-pro]}]", "twice"},
		{"negative", "channels: [{name: a, base_url: 'https://x.example', keys: [k], rpm: -1}]", "negative"},
		{"flavor", "channels: [{name: a, base_url: 'https://x.example', keys: [k], flavor: azure}]", "flavor"},
		{"dup name", "channels: [{name: a, base_url: 'https://x.example', keys: [k]}, {name: a, base_url: 'https://y.example', keys: [j]}]", "twice"},
		{"batch", "checks: {batch_size: 501}\nchannels: [{name: a, base_url: 'https://x.example', keys: [k]}]", "batch_size"},
		{"intervals", "checks: {min_interval: 1m, max_interval: 1s}\nchannels: [{name: a, base_url: 'https://x.example', keys: [k]}]", "min_interval"},
		{"models type", "channels: [{name: a, base_url: 'https://x.example', keys: [k], models: 3}]", "models"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSettings([]byte(tc.doc))
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestLoadSettingsNamesTheFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "channels.yaml")
	require.NoError(t, os.WriteFile(path, []byte("channels: [{name: a}]"), 0o600))
	_, err := LoadSettings(path)
	require.ErrorContains(t, err, path)
	_, err = LoadSettings(filepath.Join(t.TempDir(), "missing.yaml"))
	require.Error(t, err)
}

func TestShortcutChannel(t *testing.T) {
	t.Parallel()
	s := &Settings{Channels: []Channel{ShortcutChannel([]string{"sk-1", "sk-2"}, "")}}
	require.NoError(t, s.Validate())
	ch := s.Channels[0]
	require.Equal(t, VolcengineBaseURL, ch.BaseURL)
	require.Len(t, ch.keys, 2)
	require.True(t, ch.Serves("seedance-2-0-fast"))

	s = &Settings{Channels: []Channel{ShortcutChannel([]string{"sk-1"}, BytePlusBaseURL)}}
	require.NoError(t, s.Validate())
	up, _ := s.Channels[0].UpstreamModel("seedance-1-0-pro")
	require.Equal(t, "seedance-1-0-pro-250528", up)
}
