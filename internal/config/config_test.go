package config

import (
	"bytes"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := Load("serve", nil, env(nil), &bytes.Buffer{})
	require.NoError(t, err)
	require.Equal(t, ":8000", c.Listen)
	require.Equal(t, "./data", c.DataDir)
	require.Equal(t, filepath.Join("data", "seedgate.db"), c.DatabaseURL)
	require.Equal(t, "http://localhost:8000", c.PublicURL)
	require.Empty(t, c.APIKeys)
	require.Equal(t, 3*time.Second, c.SandboxRunTime)
	require.Equal(t, 2*time.Minute, c.SandboxRenderTimeout)
}

func TestEnvThenFlagsOverride(t *testing.T) {
	t.Parallel()
	c, err := Load("serve", []string{"--listen", "127.0.0.1:9000", "--api-keys", "a, b,,"},
		env(map[string]string{"SEEDGATE_LISTEN": ":7000", "SEEDGATE_DATA_DIR": "/tmp/x", "SEEDGATE_PUBLIC_URL": "https://gw.example.com/"}),
		&bytes.Buffer{})
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9000", c.Listen)
	require.Equal(t, []string{"a", "b"}, c.APIKeys)
	require.Equal(t, "/tmp/x/seedgate.db", c.DatabaseURL)
	require.Equal(t, "https://gw.example.com", c.PublicURL)
}

func TestInvalidValuesNameTheSetting(t *testing.T) {
	t.Parallel()
	_, err := Load("serve", nil, env(map[string]string{
		"SEEDGATE_LISTEN": "nope", "SEEDGATE_WORKERS": "0", "SEEDGATE_ALLOW_PRIVATE_URLS": "10.0.0.0/33",
		"SEEDGATE_PUBLIC_URL": "ftp://x",
	}), &bytes.Buffer{})
	require.Error(t, err)
	for _, name := range []string{"SEEDGATE_LISTEN", "SEEDGATE_WORKERS", "SEEDGATE_ALLOW_PRIVATE_URLS", "SEEDGATE_PUBLIC_URL"} {
		require.Contains(t, err.Error(), name)
	}
}

func TestHelpListsEverySetting(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	_, err := Load("serve", []string{"--help"}, env(nil), &out)
	require.True(t, errors.Is(err, flag.ErrHelp))
	for _, s := range settings {
		require.Contains(t, out.String(), s.env)
		require.Contains(t, out.String(), "--"+FlagName(s.env))
	}
	require.True(t, strings.Contains(out.String(), "SEEDGATE_PUBLIC_URL"))
}

func TestSQLitePath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"data/x.db": "data/x.db", "sqlite:///var/x.db": "/var/x.db", "file:x.db": "x.db", "postgres://u@h/db": "",
	} {
		require.Equal(t, want, (&Config{DatabaseURL: in}).SQLitePath(), in)
	}
}

func TestS3Settings(t *testing.T) {
	t.Parallel()
	c, err := Load("serve", []string{"--s3-path-style", "true"}, env(map[string]string{
		"SEEDGATE_S3_ENDPOINT": "http://minio:9000/", "SEEDGATE_S3_BUCKET": "b", "SEEDGATE_S3_DOWNLOADS": "redirect",
	}), &bytes.Buffer{})
	require.NoError(t, err)
	require.Equal(t, S3Config{Endpoint: "http://minio:9000", Bucket: "b", PathStyle: true, Downloads: "redirect"}, c.S3)

	c, err = Load("serve", nil, env(nil), &bytes.Buffer{})
	require.NoError(t, err)
	require.Empty(t, c.S3.Endpoint, "files stay in the data dir by default")
	require.Equal(t, "proxy", c.S3.Downloads)

	for name, e := range map[string]map[string]string{
		"SEEDGATE_S3_BUCKET":     {"SEEDGATE_S3_ENDPOINT": "https://s3.example.com"},
		"SEEDGATE_S3_PATH_STYLE": {"SEEDGATE_S3_PATH_STYLE": "maybe"},
		"SEEDGATE_S3_DOWNLOADS":  {"SEEDGATE_S3_DOWNLOADS": "sometimes"},
	} {
		_, err := Load("serve", nil, env(e), &bytes.Buffer{})
		require.ErrorContains(t, err, name)
	}
}

func TestEdgeSettings(t *testing.T) {
	t.Parallel()
	c, err := Load("serve", nil, env(nil), &bytes.Buffer{})
	require.NoError(t, err)
	require.Equal(t, 10*time.Second, c.ReadHeaderTimeout)
	require.Equal(t, 30*time.Second, c.ReadTimeout)
	require.Equal(t, 10*time.Minute, c.BodyTimeout)
	require.Equal(t, 60*time.Second, c.WriteTimeout)
	require.Equal(t, 2*time.Minute, c.IdleTimeout)
	require.Zero(t, c.MaxConnsPerClient, "off by default: behind a load balancer every client shares one address")
	require.Empty(t, c.CORSOrigins)
	require.Empty(t, c.AllowedHosts)

	c, err = Load("serve", nil, env(map[string]string{"SEEDGATE_CORS_ORIGINS": "https://a.example/, http://localhost:3000",
		"SEEDGATE_ALLOWED_HOSTS": "gw.example, *.gw.example", "SEEDGATE_MAX_CONNS_PER_CLIENT": "20"}), &bytes.Buffer{})
	require.NoError(t, err)
	require.Equal(t, []string{"https://a.example", "http://localhost:3000"}, c.CORSOrigins)
	require.Equal(t, []string{"gw.example", "*.gw.example"}, c.AllowedHosts)
	require.Equal(t, 20, c.MaxConnsPerClient)

	for name, v := range map[string]string{
		"SEEDGATE_CORS_ORIGINS": "a.example", "SEEDGATE_ALLOWED_HOSTS": "https://gw.example",
		"SEEDGATE_READ_TIMEOUT": "0s", "SEEDGATE_MAX_CONNS_PER_CLIENT": "-1",
	} {
		_, err := Load("serve", nil, env(map[string]string{name: v}), &bytes.Buffer{})
		require.ErrorContains(t, err, name)
	}
	_, err = Load("serve", nil, env(map[string]string{"SEEDGATE_CORS_ORIGINS": "https://a.example/path"}), &bytes.Buffer{})
	require.ErrorContains(t, err, "SEEDGATE_CORS_ORIGINS")
}

func TestDatabaseSettingNamesItsSource(t *testing.T) {
	t.Parallel()
	c, err := Load("serve", nil, env(map[string]string{"SEEDGATE_DATA_DIR": "/srv/d"}), &bytes.Buffer{})
	require.NoError(t, err)
	require.Contains(t, c.DatabaseSetting(), "SEEDGATE_DATA_DIR")
	c, err = Load("serve", nil, env(map[string]string{"SEEDGATE_DATABASE_URL": "postgres://u:pw@h/db"}), &bytes.Buffer{})
	require.NoError(t, err)
	require.Contains(t, c.DatabaseSetting(), "SEEDGATE_DATABASE_URL")
	require.NotContains(t, c.DatabaseSetting(), "pw@")
}
