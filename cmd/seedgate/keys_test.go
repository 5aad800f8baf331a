package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// keysCLI runs `seedgate keys …` on dataDir.
func keysCLI(t *testing.T, dataDir string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"keys"}, args...)...)
	cmd.Env = append(os.Environ(), "SEEDGATE_DATA_DIR="+dataDir)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	return o.String(), e.String(), err
}

// Bootstrapping with `seedgate keys`: the first key is made in the database,
// works against the gateway (which it closes), is listed, and once revoked
// stops within the key cache's TTL; the database never holds it in clear.
func TestKeysCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stdout, stderr, err := keysCLI(t, dir, "create", "--name", "bootstrap", "--tenant", "acme", "--scopes", "admin,read,submit", "--rpm", "100")
	require.NoError(t, err, "%s", stderr)
	key := strings.TrimSpace(strings.SplitN(stdout, "\n", 2)[0])
	require.Regexp(t, `^sgk_[a-z2-7]{16}_[a-z2-7]{52}$`, key)
	require.Contains(t, stdout, "tenant:  acme")
	require.Contains(t, stdout, "webhook: whsec_")
	id := "key_" + key[4:20]
	require.Contains(t, stdout, "id:      "+id)

	g := startGateway(t, dir, "SEEDGATE_API_KEYS=", "SEEDGATE_KEY_CACHE_TTL=300ms")
	call := func(method, path, body string) int {
		req, _ := http.NewRequest(method, g.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp.StatusCode
	}
	resp, err := http.Get(g.url + "/v1/jobs")
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "a stored key closes the gateway")
	require.Equal(t, http.StatusOK, call("GET", "/admin/v1/keys", ""))
	require.Equal(t, http.StatusOK, call("POST", "/v1/jobs", `{"model":"seedance-1.0-lite-t2v","input":{"prompt":"hi","resolution":"480p","duration":2}}`))

	stdout, stderr, err = keysCLI(t, dir, "list", "--tenant", "acme")
	require.NoError(t, err, "%s", stderr)
	require.Contains(t, stdout, id)
	require.Contains(t, stdout, "bootstrap")
	require.Contains(t, stdout, "active")
	require.NotContains(t, stdout, "never", "the gateway recorded its use")

	stdout, stderr, err = keysCLI(t, dir, "revoke", id)
	require.NoError(t, err, "%s", stderr)
	require.Contains(t, stdout, "revoked "+id)
	require.Eventually(t, func() bool { return call("GET", "/v1/jobs", "") == http.StatusUnauthorized },
		3*time.Second, 50*time.Millisecond, "the running gateway refuses the revoked key")

	_, stderr, err = keysCLI(t, dir, "revoke", "key_nothere")
	require.Error(t, err)
	require.Contains(t, stderr, "no API key key_nothere")
	_, stderr, err = keysCLI(t, dir, "create", "--scopes", "root")
	require.Error(t, err)
	require.Contains(t, stderr, `unknown scope "root"`)
	_, _, err = keysCLI(t, dir, "rotate")
	require.Error(t, err)

	files, err := filepath.Glob(filepath.Join(dir, "seedgate.db*"))
	require.NoError(t, err)
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.False(t, bytes.Contains(b, []byte(key)), "%s holds the key in clear", f)
		require.False(t, bytes.Contains(b, []byte(key[21:])), "%s holds the key's secret", f)
	}
}
