package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a process the bench started: the gateway or the Ark emulator,
// both the real binary.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{}
	err  error
	// debug is the gateway's profiler address (SEEDGATE_DEBUG_LISTEN).
	debug string
}

// start runs bin with args and env (added to the bench's own), its output
// going to dir/<name>.log; ln, when set, is its descriptor 3.
func start(dir, name, bin string, args, env []string, ln *os.File) (*proc, error) {
	lf, err := os.Create(filepath.Join(dir, name+".log"))
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if ln != nil {
		cmd.ExtraFiles = []*os.File{ln}
	}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: lf, done: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.done) }()
	return p, nil
}

// waitHTTP polls url until it answers want, the process dies, or 30 s pass.
func (p *proc) waitHTTP(url string, want int) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return fmt.Errorf("%s exited: %v (see %s)", p.name, p.err, p.log.Name())
		default:
		}
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == want {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer %s with %d within 30 s (see %s)", p.name, url, want, p.log.Name())
}

// stop sends SIGTERM and waits, then SIGKILL after 30 s.
func (p *proc) stop() {
	select {
	case <-p.done:
	default:
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(30 * time.Second):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	}
	p.log.Close()
}

// usage is a process's resident memory (now and peak) and CPU time so far.
type usage struct {
	rss, hwm int64 // bytes
	cpu      time.Duration
}

func (p *proc) usage() (usage, error) {
	var u usage
	pid := p.cmd.Process.Pid
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, err
	}
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) < 1 {
			continue
		}
		n, _ := strconv.ParseInt(f[0], 10, 64)
		switch k {
		case "VmRSS":
			u.rss = n << 10
		case "VmHWM":
			u.hwm = n << 10
		}
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, err
	}
	// Fields after the command name (which is in parentheses and may hold spaces):
	// utime and stime are the 14th and 15th fields, in clock ticks (100 Hz on Linux).
	_, rest, ok := strings.Cut(string(stat), ") ")
	if !ok {
		return u, errors.New("unexpected /proc stat format")
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return u, errors.New("unexpected /proc stat format")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	u.cpu = time.Duration(ut+st) * 10 * time.Millisecond
	return u, nil
}

// sampler records a process's usage every interval until stopped.
type sampler struct {
	p       *proc
	cancel  context.CancelFunc
	done    chan struct{}
	peakRSS int64
	first   usage
	last    usage
	t0, t1  time.Time
}

func sample(p *proc, every time.Duration) *sampler {
	ctx, cancel := context.WithCancel(context.Background())
	s := &sampler{p: p, cancel: cancel, done: make(chan struct{}), t0: time.Now()}
	s.first, _ = p.usage()
	s.peakRSS = s.first.rss
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if u, err := p.usage(); err == nil {
					s.peakRSS = max(s.peakRSS, u.rss)
				}
			}
		}
	}()
	return s
}

// end stops sampling and returns the last usage.
func (s *sampler) end() {
	s.cancel()
	<-s.done
	s.last, _ = s.p.usage()
	s.t1 = time.Now()
	s.peakRSS = max(s.peakRSS, s.last.rss)
}

// cpuShare is the CPU used between start and end, in cores.
func (s *sampler) cpuShare() float64 {
	return (s.last.cpu - s.first.cpu).Seconds() / s.t1.Sub(s.t0).Seconds()
}

// listen binds a free loopback port for a child process, which gets the
// socket as descriptor 3: the address is known before it starts, and no
// other process can take the port meanwhile. The caller closes the file once
// the child has started.
func listen() (*os.File, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	defer ln.Close() // the file is a duplicate: the socket stays bound
	f, err := ln.(*net.TCPListener).File()
	if err != nil {
		return nil, "", err
	}
	return f, ln.Addr().String(), nil
}

// freeAddr is a free loopback port for a listener the bench cannot hand down
// (the gateway's profiler).
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// emulator runs `seedgate fake-ark` with every limit out of the way.
func emulator(dir, name, bin string, queue, run time.Duration, extra ...string) (*proc, string, error) {
	ln, addr, err := listen()
	if err != nil {
		return nil, "", err
	}
	defer ln.Close()
	args := append([]string{"fake-ark", "--listen-fd", "3", "--queue-time", queue.String(), "--run-time", run.String(),
		"--concurrency", "10000000", "--max-queued", "10000000", "--rpm", "1000000000"}, extra...)
	p, err := start(dir, name, bin, args, nil, ln)
	if err != nil {
		return nil, "", err
	}
	base := "http://" + addr + "/api/v3"
	if err := p.waitHTTP(base+"/contents/generations/tasks", http.StatusUnauthorized); err != nil {
		p.stop()
		return nil, "", err
	}
	return p, base, nil
}

// gatewayKey is the client key of every bench gateway (a static key: no
// per-request store write).
const gatewayKey = "sk-bench-client"

// gateway runs `seedgate serve` on a fresh data dir with one channel to the
// emulator at emuBase.
func gateway(dir, name, bin, emuBase, checks string, env ...string) (*proc, string, error) {
	ln, addr, err := listen()
	if err != nil {
		return nil, "", err
	}
	defer ln.Close()
	gdir := filepath.Join(dir, name)
	if err := os.MkdirAll(gdir, 0o755); err != nil {
		return nil, "", err
	}
	channels := filepath.Join(gdir, "channels.yaml")
	yaml := fmt.Sprintf("checks: {%s}\nchannels:\n  - name: emulator\n    base_url: %s\n    keys: [sk-bench-gateway]\n    concurrency: 10000000\n    rpm: 1000000000\n",
		checks, emuBase)
	if err := os.WriteFile(channels, []byte(yaml), 0o600); err != nil {
		return nil, "", err
	}
	debug, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	e := append([]string{
		"SEEDGATE_LISTEN_FD=3",
		"SEEDGATE_DEBUG_LISTEN=" + debug,
		"SEEDGATE_DATA_DIR=" + filepath.Join(gdir, "data"),
		"SEEDGATE_API_KEYS=" + gatewayKey,
		"SEEDGATE_CHANNELS_FILE=" + channels,
		"SEEDGATE_ALLOW_PRIVATE_URLS=127.0.0.0/8",
	}, env...)
	p, err := start(dir, name, bin, []string{"serve"}, e, ln)
	if err != nil {
		return nil, "", err
	}
	p.debug = debug
	url := "http://" + addr
	if err := p.waitHTTP(url+"/readyz", http.StatusOK); err != nil {
		p.stop()
		return nil, "", err
	}
	return p, url, nil
}

// profile saves a CPU profile of the gateway taken over the next d to path.
func (p *proc) profile(d time.Duration, path string) error {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.debug, int(d.Seconds())))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: HTTP %d", resp.StatusCode)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
