package main

// The client commands: submit, status, ls, cancel, download, models. They talk
// to a running gateway through the public client package.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/seedgate/seedgate/client"
)

const cliUsage = `
Client commands (talk to a running gateway; --url and --key or SEEDGATE_URL and SEEDGATE_KEY,
default http://localhost:8000):
  seedgate submit --prompt TEXT [--first-frame f.png] [--last-frame l.png] [--model M] [--resolution R]
                  [--ratio R] [--duration S] [--audio] [--seed N] [--watermark] [--strict] [--wait] [-o out.mp4]
  seedgate status ID         show a job
  seedgate ls                list jobs (--status, --model, --dialect, -q, --limit)
  seedgate cancel ID         cancel a job that has not started running
  seedgate download ID -o F  save a job's video (--last-frame for its last frame)
  seedgate models            list the models
`

// cliCommands maps each client command to its implementation.
var cliCommands = map[string]func(ctx context.Context, e *cliEnv, args []string) error{
	"submit":   cmdSubmit,
	"status":   cmdStatus,
	"ls":       cmdList,
	"cancel":   cmdCancel,
	"download": cmdDownload,
	"models":   cmdModels,
}

// cliEnv is what every client command gets: where to write and how to reach the gateway.
type cliEnv struct {
	getenv         func(string) string
	stdout, stderr io.Writer
	url, key       string
	json           bool
}

func runCLI(ctx context.Context, name string, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return cliCommands[name](ctx, &cliEnv{getenv: getenv, stdout: stdout, stderr: stderr}, args)
}

// flags returns a flag set with the connection flags every command takes.
func (e *cliEnv) flags(name, synopsis string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	def := e.getenv("SEEDGATE_URL")
	if def == "" {
		def = client.DefaultBaseURL
	}
	fs.StringVar(&e.url, "url", def, "the gateway's base URL (SEEDGATE_URL)")
	fs.StringVar(&e.key, "key", e.getenv("SEEDGATE_KEY"), "the API key (SEEDGATE_KEY)")
	fs.BoolVar(&e.json, "json", false, "print the gateway's JSON instead of a summary")
	fs.Usage = func() {
		fmt.Fprintf(e.stderr, "Usage: seedgate %s %s\n\nFlags:\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func (e *cliEnv) client() *client.Client {
	return client.New(client.WithBaseURL(e.url), client.WithAPIKey(e.key), client.WithUserAgent("seedgate-cli/"+buildVersion()))
}

// parse parses flags given before or after the positional arguments, and
// checks the count of positionals.
func parse(fs *flag.FlagSet, args []string, positionals int) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if len(pos) != positionals {
		fs.Usage()
		if positionals == 0 {
			return nil, fmt.Errorf("unexpected argument %q", pos[0])
		}
		return nil, fmt.Errorf("want %d argument(s), got %d", positionals, len(pos))
	}
	return pos, nil
}

// optional flag values: nil unless the flag was given.
type optBool struct{ v *bool }

func (o *optBool) String() string {
	if o.v == nil {
		return ""
	}
	return fmt.Sprint(*o.v)
}
func (o *optBool) Set(s string) error {
	var b bool
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on":
		b = true
	case "false", "0", "no", "off":
	default:
		return fmt.Errorf("not a boolean: %q", s)
	}
	o.v = &b
	return nil
}
func (o *optBool) IsBoolFlag() bool { return true }

type optInt struct{ v *int64 }

func (o *optInt) String() string {
	if o.v == nil {
		return ""
	}
	return fmt.Sprint(*o.v)
}
func (o *optInt) Set(s string) error {
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		return fmt.Errorf("not an integer: %q", s)
	}
	o.v = &n
	return nil
}

func cmdSubmit(ctx context.Context, e *cliEnv, args []string) error {
	fs := e.flags("submit", "--prompt TEXT [flags]")
	prompt := fs.String("prompt", "", "what to render (required)")
	model := fs.String("model", "seedance-1-5-pro", "the model (any catalog name; see seedgate models)")
	first := fs.String("first-frame", "", "first frame: a local image (uploaded) or a URL")
	last := fs.String("last-frame", "", "last frame: a local image (uploaded) or a URL")
	resolution := fs.String("resolution", "", "480p, 720p, 1080p or 4k (default: the model's)")
	ratio := fs.String("ratio", "", "16:9, 4:3, 1:1, 3:4, 9:16, 21:9 or adaptive (default: the model's)")
	var duration, seed optInt
	fs.Var(&duration, "duration", "seconds (-1: the model chooses)")
	fs.Var(&seed, "seed", "seed for a repeatable render (-1: random)")
	var audio, watermark, lastFrame optBool
	fs.Var(&audio, "audio", "generate an audio track (--audio=false for none; default: the model's)")
	fs.Var(&watermark, "watermark", "add the AI-generated mark")
	fs.Var(&lastFrame, "return-last-frame", "also produce the last frame as an image")
	wait := fs.Bool("wait", false, "wait for the job to end, showing progress")
	out := fs.String("o", "", "save the video here (implies --wait)")
	strict := fs.Bool("strict", false, "reject values the model cannot take instead of adjusting them (with a warning)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	if strings.TrimSpace(*prompt) == "" {
		fs.Usage()
		return errors.New("--prompt is required")
	}
	c := e.client()
	in := client.Input{Prompt: *prompt, Resolution: *resolution, Ratio: *ratio,
		GenerateAudio: audio.v, Watermark: watermark.v, ReturnLastFrame: lastFrame.v, Seed: seed.v}
	if duration.v != nil {
		d := int(*duration.v)
		in.Duration = &d
	}
	var err error
	if in.FirstFrameURL, err = e.imageURL(ctx, c, *first, "first_frame"); err != nil {
		return err
	}
	if in.LastFrameURL, err = e.imageURL(ctx, c, *last, "last_frame"); err != nil {
		return err
	}
	job, err := c.CreateJob(ctx, client.CreateJobRequest{Model: *model, Strict: *strict, Input: in})
	if err != nil {
		return err
	}
	for _, w := range job.Warnings {
		fmt.Fprintf(e.stderr, "warning: %s\n", w)
	}
	if !*wait && *out == "" {
		if e.json {
			return e.printJSON(job)
		}
		fmt.Fprintln(e.stdout, job.ID)
		return nil
	}
	fmt.Fprintf(e.stderr, "submitted %s\n", job.ID)
	job, err = e.wait(ctx, c, job.ID)
	if err != nil {
		return err
	}
	if err := job.Err(); err != nil {
		return fmt.Errorf("job %s: %w", job.ID, err)
	}
	if *out != "" {
		if err := e.save(ctx, c, job.VideoURL(), *out); err != nil {
			return err
		}
	}
	if e.json {
		return e.printJSON(job)
	}
	fmt.Fprintln(e.stdout, job.ID)
	if *out == "" {
		fmt.Fprintln(e.stdout, job.VideoURL())
	}
	return nil
}

// imageURL uploads a local image, or passes a URL through.
func (e *cliEnv) imageURL(ctx context.Context, c *client.Client, v, purpose string) (string, error) {
	if v == "" {
		return "", nil
	}
	for _, p := range []string{"http://", "https://", "data:"} {
		if strings.HasPrefix(v, p) {
			return v, nil
		}
	}
	f, err := c.UploadPath(ctx, v, purpose)
	if err != nil {
		return "", fmt.Errorf("uploading %s: %w", v, err)
	}
	fmt.Fprintf(e.stderr, "uploaded %s (%d×%d) as %s\n", v, f.Width, f.Height, f.ID)
	return f.URL, nil
}

// wait follows the job, drawing a progress bar on stderr.
func (e *cliEnv) wait(ctx context.Context, c *client.Client, id string) (*client.Job, error) {
	bar := newProgressBar(e.stderr, id)
	job, err := c.Wait(ctx, id, client.WaitOptions{Progress: bar.update})
	bar.finish()
	if errors.Is(err, context.Canceled) {
		return nil, fmt.Errorf("stopped waiting; the job goes on: seedgate status %s", id)
	}
	return job, err
}

func (e *cliEnv) save(ctx context.Context, c *client.Client, url, path string) error {
	if url == "" {
		return errors.New("the job has no video")
	}
	n, err := c.DownloadFile(ctx, url, path)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "saved %s (%s)\n", path, humanBytes(n))
	return nil
}

func cmdStatus(ctx context.Context, e *cliEnv, args []string) error {
	fs := e.flags("status", "ID")
	follow := fs.Bool("wait", false, "wait for the job to end, showing progress")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	c := e.client()
	var job *client.Job
	if *follow {
		job, err = e.wait(ctx, c, pos[0])
	} else {
		job, err = c.GetJob(ctx, pos[0])
	}
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(job)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			fmt.Fprintf(tw, "%s\t%s\n", k, v)
		}
	}
	row("id", job.ID)
	row("status", fmt.Sprintf("%s (%s, %d%%)", job.Status, job.Output.Status, job.Progress))
	row("model", job.Model)
	row("dialect", job.Dialect)
	row("created", job.CreatedAt().Local().Format(time.DateTime))
	row("prompt", job.Input.Prompt)
	for _, w := range job.Warnings {
		row("warning", w)
	}
	in := job.Input
	params := []string{}
	add := func(k string, v any) { params = append(params, fmt.Sprintf("%s=%v", k, v)) }
	if in.Resolution != "" {
		add("resolution", in.Resolution)
	}
	if in.Ratio != "" {
		add("ratio", in.Ratio)
	}
	if in.Duration != nil {
		add("duration", *in.Duration)
	}
	if in.Seed != nil {
		add("seed", *in.Seed)
	}
	if in.GenerateAudio != nil {
		add("audio", *in.GenerateAudio)
	}
	if in.Watermark != nil {
		add("watermark", *in.Watermark)
	}
	row("parameters", strings.Join(params, " "))
	row("first frame", in.FirstFrameURL)
	row("last frame", in.LastFrameURL)
	for _, v := range job.Output.Videos {
		audio := ""
		if v.HasAudio {
			audio = ", audio"
		}
		row("video", fmt.Sprintf("%d×%d, %.1f s, %d fps%s", v.Width, v.Height, v.Duration, v.FPS, audio))
		row("url", v.URL)
	}
	row("last frame out", job.Output.LastFrameURL)
	if job.Usage != nil {
		row("tokens", fmt.Sprint(job.Usage.TotalTokens))
	}
	if job.Error != nil {
		row("error", strings.TrimPrefix(job.Error.Error(), "seedgate: job failed: "))
	}
	return tw.Flush()
}

func cmdList(ctx context.Context, e *cliEnv, args []string) error {
	fs := e.flags("ls", "[flags]")
	var o client.ListOptions
	fs.StringVar(&o.Status, "status", "", "processing, queued, running, succeeded, failed, cancelled, expired (comma-separated)")
	fs.StringVar(&o.Model, "model", "", "only this model")
	fs.StringVar(&o.Dialect, "dialect", "", "only jobs created through this API (jobs, ark, videos, …)")
	fs.StringVar(&o.Query, "q", "", "prompt contains")
	fs.IntVar(&o.Limit, "limit", 20, "how many (1–100)")
	fs.StringVar(&o.After, "after", "", "page after this job id (the previous page's last)")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	l, err := e.client().ListJobs(ctx, o)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(l)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATUS\tPROGRESS\tMODEL\tCREATED\tPROMPT")
	for _, j := range l.Data {
		status := j.Status
		if status == client.StatusProcessing {
			status = j.Output.Status
		}
		fmt.Fprintf(tw, "%s\t%s\t%d%%\t%s\t%s\t%s\n", j.ID, status, j.Progress, j.Model,
			j.CreatedAt().Local().Format("01-02 15:04:05"), shorten(j.Input.Prompt, 48))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if l.HasMore {
		fmt.Fprintf(e.stderr, "more: seedgate ls --after %s\n", l.NextAfter)
	}
	return nil
}

func cmdCancel(ctx context.Context, e *cliEnv, args []string) error {
	fs := e.flags("cancel", "ID")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	job, err := e.client().CancelJob(ctx, pos[0])
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(job)
	}
	fmt.Fprintf(e.stdout, "%s %s\n", job.ID, job.Status)
	return nil
}

func cmdDownload(ctx context.Context, e *cliEnv, args []string) error {
	fs := e.flags("download", "ID [-o file]")
	out := fs.String("o", "", "where to save (default: ID.mp4, or ID.png with --last-frame)")
	lastFrame := fs.Bool("last-frame", false, "save the job's last frame instead of its video")
	pos, err := parse(fs, args, 1)
	if err != nil {
		return err
	}
	c := e.client()
	job, err := c.GetJob(ctx, pos[0])
	if err != nil {
		return err
	}
	url, ext := job.VideoURL(), ".mp4"
	if *lastFrame {
		url, ext = job.Output.LastFrameURL, ".png"
	}
	if url == "" {
		if !job.Done() {
			return fmt.Errorf("job %s is still %s (%d%%): try again when it has succeeded, or seedgate status --wait %s",
				job.ID, job.Output.Status, job.Progress, job.ID)
		}
		if err := job.Err(); err != nil {
			return fmt.Errorf("job %s: %w", job.ID, err)
		}
		return fmt.Errorf("job %s has no such output", job.ID)
	}
	if *out == "" {
		*out = job.ID + ext
	}
	return e.save(ctx, c, url, *out)
}

func cmdModels(ctx context.Context, e *cliEnv, args []string) error {
	fs := e.flags("models", "")
	if _, err := parse(fs, args, 0); err != nil {
		return err
	}
	ms, err := e.client().Models(ctx)
	if err != nil {
		return err
	}
	if e.json {
		return e.printJSON(ms)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tRESOLUTIONS\tDURATION\tINPUTS\tAUDIO")
	for _, m := range ms {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d–%d s\t%s\t%v\n", m.ID, m.Name, strings.Join(m.Resolutions, ","),
			m.Durations.Min, m.Durations.Max, strings.Join(m.Modes, ","), m.Features.Audio)
	}
	return tw.Flush()
}

func (e *cliEnv) printJSON(v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func shorten(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// progressBar draws "[#####-----] 42% running 0:07" on a terminal (redrawn in
// place with \r), or one line per change when stderr is a file or a pipe.
type progressBar struct {
	w     io.Writer
	id    string
	tty   bool
	start time.Time
	drawn bool
	last  string
}

func newProgressBar(w io.Writer, id string) *progressBar {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	return &progressBar{w: w, id: id, tty: tty, start: time.Now()}
}

const barWidth = 30

func (b *progressBar) update(j *client.Job) {
	state := j.Output.Status
	if state == "" {
		state = j.Status
	}
	p := min(max(j.Progress, 0), 100)
	filled := p * barWidth / 100
	el := time.Since(b.start).Truncate(time.Second)
	line := fmt.Sprintf("[%s%s] %3d%% %-9s %d:%02d", strings.Repeat("#", filled), strings.Repeat("-", barWidth-filled),
		p, state, int(el.Minutes()), int(el.Seconds())%60)
	if b.tty {
		fmt.Fprintf(b.w, "\r%s", line)
		b.drawn = true
		return
	}
	if key := fmt.Sprintf("%d %s", p, state); key != b.last { // a log: one line per change
		b.last = key
		fmt.Fprintln(b.w, line)
	}
}

func (b *progressBar) finish() {
	if b.drawn {
		fmt.Fprintln(b.w)
		b.drawn = false
	}
}
