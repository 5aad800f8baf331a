package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const goodCatalog = `version: 1
models:
  - id: seedance-2-5
    durations: {max: 25}
  - id: seedance-9-test
    name: Seedance 9 Test
    family: "2.0"
    ids: {volcengine: doubao-seedance-9-test-991231}
    modes: [text]
    durations: {min: 2, max: 6, default: 2}
    resolutions: {allowed: [480p], default: 480p}
    ratios: {text: {default: "1:1"}, image: {default: "1:1"}, reference: {default: "1:1"}, fallback: "1:1"}
    output_formats: [mp4]
    rpm: 60
    concurrency: 2
`

const badCatalog = `version: 1
models:
  - id: seedance-2-5
    resolutions: {allowed: [480p, 720p], default: 1080p}
`

func writeFile(t *testing.T, name, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(body), 0o600))
	return path
}

func TestCatalogCheck(t *testing.T) {
	t.Parallel()
	good := writeFile(t, "good.yaml", goodCatalog)
	var out, errOut bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"catalog", "check", good}, os.Getenv, &out, &errOut))
	text := out.String()
	require.Contains(t, text, good+" is valid: 10 models loaded (embedded + "+good+")")
	require.Regexp(t, `(?m)^seedance-9-test\s+`+regexpQuote(good)+`\s+doubao-seedance-9-test-991231\s+-\s+2-6\s+480p\s+text\s`, text)
	require.Regexp(t, `(?m)^seedance-2-5\s+`+regexpQuote(good)+`\s.*4-25,-1\s+480p,720p,1080p\s.*mp4,mov$`, text)
	require.Regexp(t, `(?m)^seedance-1-0-pro\s+embedded\s`, text)

	bad := writeFile(t, "bad.yaml", badCatalog)
	out.Reset()
	err := run(context.Background(), []string{"catalog", "check", bad}, os.Getenv, &out, &errOut)
	require.EqualError(t, err, `catalog file `+bad+`: model "seedance-2-5": resolutions.default: "1080p" is not in resolutions.allowed (480p, 720p)`)
	require.Empty(t, out.String())

	require.Error(t, run(context.Background(), []string{"catalog", "check"}, os.Getenv, &out, &errOut))
	require.ErrorContains(t, run(context.Background(), []string{"catalog", "check", filepath.Join(t.TempDir(), "none.yaml")}, os.Getenv, &out, &errOut), "none.yaml")
}

func regexpQuote(s string) string {
	return strings.NewReplacer(".", `\.`, "+", `\+`, "(", `\(`, ")", `\)`).Replace(s)
}

// A broken catalog file stops the real binary before it serves, with one
// line naming the file, the model and the field, and exit code 1.
func TestBadCatalogStopsStartup(t *testing.T) {
	t.Parallel()
	bad := writeFile(t, "bad.yaml", badCatalog)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "serve")
	cmd.Env = append(os.Environ(), "SEEDGATE_DATA_DIR="+t.TempDir(), "SEEDGATE_LISTEN=127.0.0.1:0", "SEEDGATE_CATALOG_FILE="+bad)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	require.True(t, errors.As(err, &ee), "serve did not fail: %v\n%s", err, out)
	require.Equal(t, 1, ee.ExitCode(), "%s", out)
	require.Equal(t, `seedgate: catalog file `+bad+`: model "seedance-2-5": resolutions.default: "1080p" is not in resolutions.allowed (480p, 720p)`,
		strings.TrimRight(string(out), "\n"))
}
