package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// readmeBlock is a shell example of README.md.
type readmeBlock struct {
	line   int    // of its opening fence
	text   string // the commands
	notRun string // why it is not run ("": it is)
}

// notRunMark, on the line before a block (blank lines between allowed), says
// why the README test does not run it.
var notRunMark = regexp.MustCompile(`^<!--\s*not-run:\s*(\S.*?)\s*-->$`)

// readmeBlocks returns the ```sh (bash, shell) blocks of a markdown text, in order.
func readmeBlocks(md string) ([]readmeBlock, error) {
	var (
		out     []readmeBlock
		in      *readmeBlock
		fence   string
		pending string // a not-run reason waiting for its block
		pendAt  int
	)
	lines := strings.Split(md, "\n")
	for i, l := range lines {
		n := i + 1
		t := strings.TrimSpace(l)
		if in != nil || fence != "" {
			if strings.HasPrefix(t, fence) && strings.Trim(t, "`~") == "" {
				if in != nil {
					out = append(out, *in)
				}
				in, fence = nil, ""
			} else if in != nil {
				in.text += l + "\n"
			}
			continue
		}
		if strings.HasPrefix(t, "```") || strings.HasPrefix(t, "~~~") {
			fence = t[:3]
			switch strings.ToLower(strings.TrimSpace(strings.Trim(t, "`~"))) {
			case "sh", "bash", "shell":
				in = &readmeBlock{line: n, notRun: pending}
			default:
				if pending != "" {
					return nil, fmt.Errorf("line %d: a not-run mark is followed by a block that is not a shell example", pendAt)
				}
			}
			pending = ""
			continue
		}
		if m := notRunMark.FindStringSubmatch(t); m != nil {
			pending, pendAt = m[1], n
			continue
		}
		if t != "" && pending != "" {
			return nil, fmt.Errorf("line %d: a not-run mark must come right before its ```sh block", pendAt)
		}
	}
	if in != nil || fence != "" {
		return nil, fmt.Errorf("a code block is not closed")
	}
	if pending != "" {
		return nil, fmt.Errorf("line %d: a not-run mark without a block", pendAt)
	}
	return out, nil
}

func TestReadmeBlocks(t *testing.T) {
	t.Parallel()
	md := "# x\n```sh\necho one\n```\n\n<!-- not-run: it serves -->\n\n```sh\nmake run\n```\n```json\n{}\n```\n~~~bash\necho two\n~~~\n"
	bs, err := readmeBlocks(md)
	require.NoError(t, err)
	require.Equal(t, []readmeBlock{{line: 2, text: "echo one\n"}, {line: 8, text: "make run\n", notRun: "it serves"},
		{line: 14, text: "echo two\n"}}, bs)
	for _, bad := range []string{"<!-- not-run: x -->\n```json\n{}\n```\n", "<!-- not-run: x -->\ntext\n```sh\nls\n```\n",
		"```sh\nls\n", "<!-- not-run: x -->\n"} {
		_, err := readmeBlocks(bad)
		require.Error(t, err, bad)
	}
}

// Every shell example of README.md works as written. The ```sh blocks run in
// order in one bash session (variables set by one are there for the next, as
// in a reader's terminal), with `set -euo pipefail` and curl failing on an
// HTTP error, in a directory laid out like a checkout after `make build`
// (./bin/seedgate), against the real binary started as `make run` starts it:
// open, sandbox, SQLite in ./data — on a free port instead of 8000 (the
// examples' localhost:8000 is rewritten to it), with a shorter sandbox time.
// A block that cannot run here (it starts a server, needs real upstream keys
// or other services) is marked `<!-- not-run: why -->` right before it.
func TestReadmeExamples(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"bash", "curl", "jq", "ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("the README's examples need %s: run scripts/ensure-deps.sh", tool)
		}
	}
	md, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	require.NoError(t, err)
	blocks, err := readmeBlocks(string(md))
	require.NoError(t, err)

	work := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(work, "bin"), 0o755))
	require.NoError(t, os.Link(binary, filepath.Join(work, "bin", "seedgate")))

	ln, addr := listener(t)
	_, port, _ := net.SplitHostPort(addr)
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SEEDGATE_") {
			env = append(env, kv)
		}
	}
	// make run's gateway works in the checkout: ./data is its data dir.
	g := &gateway{t: t, url: "http://" + addr, dataDir: filepath.Join(work, "data"), logs: &bytes.Buffer{}, ln: ln, dir: work,
		env: append(env, "SEEDGATE_LISTEN_FD="+listenFD, "SEEDGATE_PUBLIC_URL=http://localhost:"+port,
			"SEEDGATE_SANDBOX_QUEUE_DELAY=200ms", "SEEDGATE_SANDBOX_RUN_TIME=500ms")}
	g.start()
	t.Cleanup(g.stop)

	var script strings.Builder
	script.WriteString("set -euo pipefail\n" +
		"curl() { command curl --fail-with-body \"$@\"; } # an HTTP error fails the example\n")
	var run []readmeBlock
	for _, b := range blocks {
		if b.notRun != "" {
			t.Logf("not run: README.md:%d (%s)", b.line, b.notRun)
			continue
		}
		fmt.Fprintf(&script, "printf '\\n::readme-block %d\\n'\n", len(run))
		script.WriteString(strings.NewReplacer("localhost:8000", "localhost:"+port, "127.0.0.1:8000", "127.0.0.1:"+port).Replace(b.text))
		run = append(run, b)
	}
	script.WriteString("printf '\\n::readme-done\\n'\n")
	require.NotEmpty(t, run, "README.md has shell examples to run")
	path := filepath.Join(t.TempDir(), "readme.sh")
	require.NoError(t, os.WriteFile(path, []byte(script.String()), 0o644))

	// Bounded: every example that waits for a job waits with a bound of its own.
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "--noprofile", "--norc", path)
	cmd.Dir, cmd.Env = work, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()

	// Which block ran last, and what it printed.
	last, lastOut, done := -1, "", false
	sc := bufio.NewScanner(bytes.NewReader(out.Bytes()))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		l := sc.Text()
		if n, ok := strings.CutPrefix(l, "::readme-block "); ok {
			last, lastOut = atoi(n), ""
			continue
		}
		if l == "::readme-done" {
			done = true
			continue
		}
		lastOut += l + "\n"
	}
	if err != nil || !done {
		msg := fmt.Sprintf("the README's shell examples failed (%v) after %s", err, time.Since(start).Round(time.Millisecond))
		if last >= 0 {
			b := run[last]
			msg += fmt.Sprintf(" in the block at README.md:%d:\n%s\nits output:\n%s", b.line, b.text, tail(lastOut, 4000))
		} else {
			msg += ":\n" + tail(out.String(), 4000)
		}
		t.Fatal(msg)
	}
	t.Logf("%d shell examples of README.md ran in %s", len(run), time.Since(start).Round(time.Millisecond))
}

func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return -1
	}
	return n
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}
