package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/arkemu"
)

// fakeArk runs the Ark emulator (internal/arkemu) until ctx ends: an upstream
// to point a channel at without paying for real videos.
func fakeArk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fake-ark", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9000", "address to listen on; the API is at http://ADDR"+arkemu.BasePath)
	listenFD := fs.Int("listen-fd", 0, "serve on this inherited listening socket instead of --listen (3 for the first inherited file)")
	keys := fs.String("keys", "", "comma-separated accepted API keys, each its own account (empty: any key)")
	queue := fs.Duration("queue-time", 2*time.Second, "how long a task stays queued at least")
	runTime := fs.Duration("run-time", 20*time.Second, "how long a task runs")
	ttl := fs.Duration("url-ttl", 24*time.Hour, "how long result URLs stay valid")
	conc := fs.Int("concurrency", 0, "running tasks per account and model (0: each model's Ark limit)")
	rpm := fs.Int("rpm", 0, "creates per minute per account and model (0: each model's Ark limit)")
	maxQueued := fs.Int("max-queued", 0, "queued tasks per account before 429 QuotaExceeded (0: 120)")
	publicURL := fs.String("public-url", "", "scheme://host in result URLs (default: the Host of the create request)")
	resultVideo := fs.String("result-video", "", "serve this MP4 file as every task's video (default: a render of the task's size)")
	verbose := fs.Bool("v", false, "log every status change")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: seedgate fake-ark [flags]\n\nAn emulator of the Volcengine Ark / BytePlus ModelArk video task API (create, get, list,\ndelete, callbacks, expiring result URLs). Point a channel's base_url at it.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	opts := arkemu.Options{
		QueueTime: *queue, RunTime: *runTime, URLTTL: *ttl, Concurrency: *conc, RPM: *rpm, MaxQueued: *maxQueued,
		PublicURL: *publicURL, ResultVideo: *resultVideo, Logger: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level})),
	}
	for _, k := range strings.Split(*keys, ",") {
		if k = strings.TrimSpace(k); k != "" {
			opts.APIKeys = append(opts.APIKeys, k)
		}
	}
	var ln net.Listener
	if *listenFD > 0 {
		l, err := inheritedListener(*listenFD)
		if err != nil {
			return fmt.Errorf("--listen-fd %d: %w", *listenFD, err)
		}
		ln = l
	} else {
		l, err := net.Listen("tcp", *listen)
		if err != nil {
			return fmt.Errorf("listen %s: %w", *listen, err)
		}
		ln = l
	}
	fmt.Fprintf(stdout, "fake Ark on http://%s%s (stop with Ctrl-C)\n", ln.Addr(), arkemu.BasePath)
	return arkemu.Serve(ctx, ln, opts)
}
