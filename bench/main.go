// Command bench measures seedgate on this machine and prints one markdown
// table (also written to bench/results.md): `make bench` runs it.
//
// Everything runs on loopback against the real binary (bin/seedgate): the
// gateway (`seedgate serve`, SQLite in a temp dir) with the Ark emulator
// (`seedgate fake-ark`) as its upstream.
//
//	a. creates per second and p50/p99 latency through the gateway's Ark
//	   dialect at 50, 200 and 1,000 concurrent clients, and the same load sent
//	   to the emulator directly; the latency the gateway adds at 200 clients
//	   paced below saturation.
//	b. the gateway's RSS and CPU while 100,000 tasks are in flight upstream.
//	c. download throughput of a mirrored 50 MiB video, whole and in Range
//	   requests, and the gateway's RSS meanwhile.
//	d. upstream requests per completed task (BenchmarkUpstream1000 of
//	   internal/provider/ark, polling and callbacks).
//	e. the gateway's peak RSS while it takes in 20 creates at once, each
//	   with a 40 MB data URL.
//	m. create throughput with the Prometheus metrics on (and scraped every
//	   second) against off, in alternating rounds (metrics.go).
//	t. creates per second with tracing on (OTLP export) against off.
//
// Every load is bounded in count and time; the whole run takes about five
// minutes.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

func main() {
	bin := flag.String("bin", "bin/seedgate", "the seedgate binary to measure")
	emuBin := flag.String("emu", "", "the seedgate binary whose fake-ark is the upstream (default: -bin; set it to compare an older gateway)")
	out := flag.String("out", "bench/results.md", "where to write the table")
	parts := flag.String("parts", "abcdemtg", "which parts to run (a: creates, b: 100,000 in flight, c: downloads, d: upstream requests, e: big bodies, m: metrics on vs off, t: tracing on vs off, g: a store of a million tasks on SQLite and PostgreSQL; l: only the latency rows of a)")
	inFlight := flag.Int("in-flight", 100_000, "tasks in flight for part b")
	bigTasks := flag.Int("big-tasks", 1_000_000, "stored tasks for part g")
	pgURL := flag.String("pg", os.Getenv("SEEDGATE_BENCH_DATABASE_URL"), "a PostgreSQL server for part g's PostgreSQL half (a database seedgate_bench_g is made there); empty: SQLite only")
	keep := flag.Bool("keep", false, "keep the work dir (logs, databases)")
	flag.Parse()

	if *emuBin == "" {
		*emuBin = *bin
	}
	if err := mainErr(*bin, *emuBin, *out, *parts, *inFlight, *bigTasks, *pgURL, *keep); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// row is one line of the table.
type row struct{ part, what, result, target string }

func mainErr(bin, emuBin, out, parts string, inFlight, bigTasks int, pgURL string, keep bool) error {
	bin, err := filepath.Abs(bin)
	if err != nil {
		return err
	}
	if emuBin, err = filepath.Abs(emuBin); err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return fmt.Errorf("%w (run make build first)", err)
	}
	dir, err := os.MkdirTemp("", "seedgate-bench-*")
	if err != nil {
		return err
	}
	if keep {
		fmt.Fprintln(os.Stderr, "bench: work dir", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	profDir := dir
	if out != "" {
		profDir = filepath.Dir(out)
	}
	loadBefore := loadAvg()
	began := time.Now()

	var rows []row
	step := func(part string, fn func() ([]row, error)) error {
		if !strings.Contains(parts, part) {
			return nil
		}
		t0 := time.Now()
		fmt.Fprintf(os.Stderr, "bench: part %s…\n", part)
		r, err := fn()
		if err != nil {
			return fmt.Errorf("part %s: %w (logs in %s; -keep keeps them)", part, err, dir)
		}
		fmt.Fprintf(os.Stderr, "bench: part %s took %s\n", part, time.Since(t0).Round(time.Second))
		rows = append(rows, r...)
		return nil
	}
	if err := step("a", func() ([]row, error) { return partCreates(dir, bin, emuBin, profDir) }); err != nil {
		return err
	}
	if err := step("l", func() ([]row, error) { // part a's latency rows alone
		emu, emuBase, err := emulator(dir, "fake-ark-l", emuBin, time.Hour, time.Hour)
		if err != nil {
			return nil, err
		}
		defer emu.stop()
		return latencyRows(dir, bin, emuBase, profDir)
	}); err != nil {
		return err
	}
	if err := step("b", func() ([]row, error) { return partInFlight(dir, bin, emuBin, inFlight, profDir) }); err != nil {
		return err
	}
	if err := step("c", func() ([]row, error) { return partDownloads(dir, bin, emuBin) }); err != nil {
		return err
	}
	if err := step("d", partUpstream); err != nil {
		return err
	}
	if err := step("e", func() ([]row, error) { return partBigBodies(dir, bin, emuBin) }); err != nil {
		return err
	}
	if err := step("m", func() ([]row, error) { return partMetrics(dir, bin, emuBin) }); err != nil {
		return err
	}
	if err := step("t", func() ([]row, error) { return partTracing(dir, bin, emuBin) }); err != nil {
		return err
	}
	if err := step("g", func() ([]row, error) { return partBigStore(dir, bin, emuBin, bigTasks, pgURL) }); err != nil {
		return err
	}

	var b strings.Builder
	fmt.Fprintf(&b, "Measured %s on %s (%d cores, %s), load average %s before and %s after; %s, %s; whole run %s.\n\n",
		began.UTC().Format("2006-01-02 15:04 MST"), cpuModel(), runtime.NumCPU(), runtime.GOOS+"/"+runtime.GOARCH,
		loadBefore, loadAvg(), runtime.Version(), commit(), time.Since(began).Round(time.Second))
	b.WriteString("| | measurement | result | target |\n|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.part, r.what, r.result, r.target)
	}
	fmt.Print(b.String())
	if out != "" {
		if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ----- a: creates -----

func partCreates(dir, bin, emuBin, profDir string) ([]row, error) {
	emu, emuBase, err := emulator(dir, "fake-ark-a", emuBin, time.Hour, time.Hour)
	if err != nil {
		return nil, err
	}
	defer emu.stop()
	direct := target{url: emuBase + "/contents/generations/tasks", key: "sk-bench-direct"}

	var rows []row
	const warm, measure = 2 * time.Second, 5 * time.Second
	for _, clients := range []int{50, 200, 1000} {
		gw, url, err := gateway(dir, fmt.Sprintf("gateway-a%d", clients), bin, emuBase, "expected_time: 1h", "SEEDGATE_WORKERS=32")
		if err != nil {
			return nil, err
		}
		before, _ := upstreamTotal(emuBase, "sk-bench-gateway")
		s := sample(gw, 200*time.Millisecond)
		prof := profileDuring(gw, warm, measure-time.Second, filepath.Join(profDir, fmt.Sprintf("creates-%d.prof", clients)))
		g := run(target{url: url + "/api/v3/contents/generations/tasks", key: gatewayKey}, load{clients: clients, warm: warm, measure: measure})
		s.end()
		<-prof
		after, _ := upstreamTotal(emuBase, "sk-bench-gateway")
		gw.stop()
		if g.failed > 0 || g.ok == 0 {
			return nil, fmt.Errorf("gateway at %d clients: %d failed, first: %s", clients, g.failed, g.firstErr)
		}
		d := run(direct, load{clients: clients, warm: warm, measure: measure})
		if d.failed > 0 || d.ok == 0 {
			return nil, fmt.Errorf("emulator at %d clients: %d failed, first: %s", clients, d.failed, d.firstErr)
		}
		dispatched := ""
		if after > before {
			dispatched = fmt.Sprintf("; %s created upstream meanwhile", thousands(after-before))
		}
		rows = append(rows,
			row{"a", fmt.Sprintf("creates through the gateway, %s clients", thousands(int64(clients))),
				fmt.Sprintf("**%s/s** · p50 %s · p99 %s · gateway CPU %.2f cores%s", thousands(int64(g.perSecond())), ms(g.pct(0.5)), ms(g.pct(0.99)), s.cpuShare(), dispatched),
				"≥ 5,000/s " + mark(g.perSecond() >= 5000)},
			row{"a", fmt.Sprintf("the same sent to the emulator directly, %s clients", thousands(int64(clients))),
				fmt.Sprintf("%s/s · p50 %s · p99 %s", thousands(int64(d.perSecond())), ms(d.pct(0.5)), ms(d.pct(0.99))), ""},
			row{"a", fmt.Sprintf("gateway ÷ direct, %s clients", thousands(int64(clients))),
				fmt.Sprintf("%.2f× the throughput · p99 %+.1f ms", g.perSecond()/d.perSecond(), float64(g.pct(0.99)-d.pct(0.99))/1e6), ""},
		)
	}
	lat, err := latencyRows(dir, bin, emuBase, profDir)
	return append(rows, lat...), err
}

// latencyRows measure the latency the gateway adds below saturation: 200
// clients paced to a steady rate, the same to a fresh gateway (the ones of
// partCreates are still creating their backlog upstream) and to the emulator.
func latencyRows(dir, bin, emuBase, profDir string) ([]row, error) {
	const measure = 5 * time.Second
	direct := target{url: emuBase + "/contents/generations/tasks", key: "sk-bench-direct"}
	var rows []row
	for _, rate := range []float64{200, 1000} {
		pg, purl, err := gateway(dir, fmt.Sprintf("gateway-a-paced-%.0f", rate), bin, emuBase, "expected_time: 1h", "SEEDGATE_WORKERS=32")
		if err != nil {
			return nil, err
		}
		prof := profileDuring(pg, 2*time.Second, 3*time.Second, filepath.Join(profDir, fmt.Sprintf("creates-paced-%.0f.prof", rate)))
		paced := run(target{url: purl + "/api/v3/contents/generations/tasks", key: gatewayKey}, load{clients: 200, warm: time.Second, measure: measure, rate: rate})
		<-prof
		pg.stop()
		pacedDirect := run(direct, load{clients: 200, warm: time.Second, measure: measure, rate: rate})
		if paced.failed > 0 || pacedDirect.failed > 0 {
			return nil, fmt.Errorf("paced run: %s %s", paced.firstErr, pacedDirect.firstErr)
		}
		added := paced.pct(0.99) - pacedDirect.pct(0.99)
		rows = append(rows, row{"a", fmt.Sprintf("latency added at 200 clients paced to %s creates/s in all", thousands(int64(rate))),
			fmt.Sprintf("**p99 %+.1f ms** (gateway p50 %s, p99 %s; direct p50 %s, p99 %s)", float64(added)/1e6,
				ms(paced.pct(0.5)), ms(paced.pct(0.99)), ms(pacedDirect.pct(0.5)), ms(pacedDirect.pct(0.99))),
			"≤ 2 ms " + mark(added <= 2*time.Millisecond)})
	}
	return rows, nil
}

// profileDuring takes a CPU profile of the gateway from after to after+d,
// saved to path (printed to stderr); the channel closes when it is done.
func profileDuring(p *proc, after, d time.Duration, path string) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(after)
		if err := p.profile(d, path); err != nil {
			fmt.Fprintln(os.Stderr, "bench: profile:", err)
			return
		}
		fmt.Fprintln(os.Stderr, "bench: CPU profile in", path)
	}()
	return done
}

// upstreamTotal is how many tasks the emulator holds for key (Ark's list total).
func upstreamTotal(base, key string) (int64, error) {
	req, _ := http.NewRequest("GET", base+"/contents/generations/tasks?page_size=1", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var page struct {
		Total int64 `json:"total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		return 0, err
	}
	return page.Total, nil
}

// ----- b: tasks in flight -----

func partInFlight(dir, bin, emuBin string, n int, profDir string) ([]row, error) {
	emu, emuBase, err := emulator(dir, "fake-ark-b", emuBin, time.Hour, time.Hour)
	if err != nil {
		return nil, err
	}
	defer emu.stop()
	// First checks 20 s after each create, so the quiet window below sees
	// the batched status checks of a real fleet.
	gw, url, err := gateway(dir, "gateway-b", bin, emuBase, "expected_time: 20s", "SEEDGATE_WORKERS=32")
	if err != nil {
		return nil, err
	}
	defer gw.stop()

	all := sample(gw, 200*time.Millisecond)
	intake := sample(gw, 200*time.Millisecond)
	prof := profileDuring(gw, time.Second, 5*time.Second, filepath.Join(profDir, "in-flight-intake.prof"))
	res := run(target{url: url + "/api/v3/contents/generations/tasks", key: gatewayKey},
		load{clients: 200, total: int64(n), measure: 4 * time.Minute})
	if res.failed > 0 || res.ok != int64(n) {
		return nil, fmt.Errorf("%d of %d creates answered, %d failed, first: %s", res.ok, n, res.failed, res.firstErr)
	}
	answered := time.Since(intake.t0)
	<-prof
	prof = profileDuring(gw, time.Second, 10*time.Second, filepath.Join(profDir, "in-flight-dispatch.prof"))
	defer func() { <-prof }()
	// Until every task is created upstream (bounded: a slow machine reports how far it got).
	deadline := time.Now().Add(3 * time.Minute)
	var up int64
	for time.Now().Before(deadline) {
		if up, err = upstreamTotal(emuBase, "sk-bench-gateway"); err == nil && up >= int64(n) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	intake.end()
	upstreamNote := fmt.Sprintf("all created upstream %s after the first", intake.t1.Sub(intake.t0).Round(100*time.Millisecond))
	if up < int64(n) {
		upstreamNote = fmt.Sprintf("only %s created upstream after %s", thousands(up), intake.t1.Sub(intake.t0).Round(time.Second))
	}
	steady := sample(gw, 200*time.Millisecond)
	time.Sleep(25 * time.Second)
	steady.end()
	all.end()
	listed, _ := upstreamTotal(url+"/api/v3", gatewayKey) // the gateway's own count, through its Ark dialect
	if listed != int64(n) {
		return nil, fmt.Errorf("the gateway lists %d tasks, want %d", listed, n)
	}
	perTask := time.Duration(int64(intake.last.cpu-intake.first.cpu) / int64(n))
	return []row{
		{"b", fmt.Sprintf("gateway RSS with %s tasks in flight upstream", thousands(int64(n))),
			fmt.Sprintf("**%s** once in flight · peak %s while taking them in", mb(steady.last.rss), mb(all.peakRSS)),
			"≤ 200 MB " + mark(all.peakRSS <= 200e6)},
		{"b", fmt.Sprintf("taking in %s tasks (200 clients)", thousands(int64(n))),
			fmt.Sprintf("creates answered in %s (%s/s); %s; gateway CPU %s (%s per task, creating upstream included)",
				answered.Round(100*time.Millisecond), thousands(int64(float64(n)/answered.Seconds())), upstreamNote,
				(intake.last.cpu - intake.first.cpu).Round(100*time.Millisecond), perTask.Round(time.Microsecond)), ""},
		{"b", fmt.Sprintf("gateway CPU with %s tasks in flight", thousands(int64(n))),
			fmt.Sprintf("%.2f cores over 25 s while their first batched status checks come due (list calls of 500 ids)", steady.cpuShare()), ""},
	}, nil
}

// ----- c: downloads -----

const videoBytes = 50 << 20

func partDownloads(dir, bin, emuBin string) ([]row, error) {
	video, err := bigVideo(dir)
	if err != nil {
		return nil, err
	}
	emu, emuBase, err := emulator(dir, "fake-ark-c", emuBin, 100*time.Millisecond, 300*time.Millisecond, "--result-video", video)
	if err != nil {
		return nil, err
	}
	defer emu.stop()
	gw, url, err := gateway(dir, "gateway-c", bin, emuBase, "min_interval: 100ms, expected_time: 500ms")
	if err != nil {
		return nil, err
	}
	defer gw.stop()
	fileURL, err := mirroredVideo(url)
	if err != nil {
		return nil, err
	}
	client := newClient(8)
	fetch := func(rangeHeader string, want int) (int64, error) {
		req, _ := http.NewRequest("GET", fileURL, nil)
		if rangeHeader != "" {
			req.Header.Set("Range", rangeHeader)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != want {
			return 0, fmt.Errorf("GET %s: HTTP %d, want %d", rangeHeader, resp.StatusCode, want)
		}
		return io.Copy(io.Discard, resp.Body)
	}
	if n, err := fetch("", http.StatusOK); err != nil || n != videoBytes {
		return nil, fmt.Errorf("the mirrored video: %d bytes, %v", n, err)
	}
	const passes = 20
	type way struct {
		what    string
		streams int
		pass    func() (int64, error)
	}
	whole := func() (int64, error) { return fetch("", http.StatusOK) }
	ranged := func() (int64, error) { // the whole file in 8 MiB Range requests, as a player or resuming client asks
		var total int64
		for off := int64(0); off < videoBytes; off += 8 << 20 {
			n, err := fetch(fmt.Sprintf("bytes=%d-%d", off, min(off+8<<20, videoBytes)-1), http.StatusPartialContent)
			if err != nil {
				return total, err
			}
			total += n
		}
		return total, nil
	}
	var rows []row
	for _, w := range []way{{"whole file, 1 stream", 1, whole}, {"whole file, 4 streams", 4, whole}, {"8 MiB Range requests, 1 stream", 1, ranged}} {
		s := sample(gw, 20*time.Millisecond)
		t0 := time.Now()
		errs := make(chan error, w.streams)
		var bytesTotal int64
		counts := make(chan int64, w.streams)
		for range w.streams {
			go func() {
				var sum int64
				for range passes / w.streams {
					n, err := w.pass()
					sum += n
					if err != nil {
						errs <- err
						counts <- sum
						return
					}
				}
				errs <- nil
				counts <- sum
			}()
		}
		for range w.streams {
			if err := <-errs; err != nil {
				return nil, err
			}
			bytesTotal += <-counts
		}
		elapsed := time.Since(t0)
		s.end()
		rate := float64(bytesTotal) / elapsed.Seconds()
		growth := s.peakRSS - s.first.rss
		rows = append(rows, row{"c", "download of a mirrored 50 MiB video: " + w.what,
			fmt.Sprintf("**%.2f GB/s** · gateway RSS %s → peak %s (%+.1f MB) · CPU %.2f cores", rate/1e9, mb(s.first.rss), mb(s.peakRSS), float64(growth)/1e6, s.cpuShare()),
			"≥ 1 GB/s, constant memory " + mark(rate >= 1e9 && growth < 16<<20)})
	}
	return rows, nil
}

// bigVideo writes a playable 50 MiB MP4: a short ffmpeg render padded with a
// top-level "free" box, which players skip.
func bigVideo(dir string) (string, error) {
	small := filepath.Join(dir, "small.mp4")
	cmd := exec.Command("ffmpeg", "-v", "error", "-nostdin", "-y", "-f", "lavfi", "-i", "testsrc2=s=854x480:r=24",
		"-t", "2", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-movflags", "+faststart", small)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("ffmpeg: %w: %s", err, out)
	}
	b, err := os.ReadFile(small)
	if err != nil {
		return "", err
	}
	pad := videoBytes - len(b)
	if pad < 8 {
		return "", errors.New("the rendered video is too large to pad")
	}
	box := make([]byte, pad)
	box[0], box[1], box[2], box[3] = byte(pad>>24), byte(pad>>16), byte(pad>>8), byte(pad)
	copy(box[4:], "free")
	for i := 8; i < len(box); i++ {
		box[i] = byte(i * 131) // not all zeros: nothing on the way may compress it
	}
	path := filepath.Join(dir, "video-50MiB.mp4")
	return path, os.WriteFile(path, append(b, box...), 0o644)
}

// mirroredVideo creates a task through the gateway, waits for it (its video
// copied into the gateway) and returns the video's signed URL.
func mirroredVideo(url string) (string, error) {
	body := `{"model":"seedance-1-0-pro","input":{"prompt":"a 50 MiB video","resolution":"480p","duration":2}}`
	var job struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Output struct {
			Videos []struct {
				URL string `json:"url"`
			} `json:"videos"`
		} `json:"output"`
		Error any `json:"error"`
	}
	do := func(method, path, body string) error {
		req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+gatewayKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s %s: HTTP %d %s", method, path, resp.StatusCode, b)
		}
		return json.Unmarshal(b, &job)
	}
	if err := do("POST", "/v1/jobs", body); err != nil {
		return "", err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for job.Status == "processing" && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		if err := do("GET", "/v1/jobs/"+job.ID, ""); err != nil {
			return "", err
		}
	}
	if job.Status != "succeeded" || len(job.Output.Videos) == 0 {
		return "", fmt.Errorf("job %s: %s %v", job.ID, job.Status, job.Error)
	}
	return job.Output.Videos[0].URL, nil
}

// ----- d: upstream requests per task -----

// partUpstream runs BenchmarkUpstream1000 (internal/provider/ark) once and
// reads its metrics.
func partUpstream() ([]row, error) {
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	cmd := exec.Command(goTool, "test", "-run", "^$", "-bench", "^BenchmarkUpstream1000$", "-benchtime", "1x", "-count", "1", "./internal/provider/ark/")
	var outBuf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outBuf, &outBuf
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("BenchmarkUpstream1000: %w\n%s", err, outBuf.String())
	}
	metrics := map[string]map[string]float64{} // sub-benchmark → unit → value
	sc := bufio.NewScanner(&outBuf)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "BenchmarkUpstream1000/") {
			continue
		}
		name := strings.TrimPrefix(f[0], "BenchmarkUpstream1000/")
		name, _, _ = strings.Cut(name, "-")
		m := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				m[f[i+1]] = v
			}
		}
		metrics[name] = m
	}
	p, c := metrics["polling"], metrics["callbacks"]
	if p == nil || c == nil {
		return nil, fmt.Errorf("BenchmarkUpstream1000 printed no metrics:\n%s", outBuf.String())
	}
	return []row{
		{"d", "upstream requests per completed task, 1,000 concurrent tasks, with callbacks",
			fmt.Sprintf("**%.2f** (creates included; %.2f callbacks received per task; done → succeeded p50 %.0f ms)",
				c["upstream-req/task"], c["callbacks/task"], c["lag-p50-ms"]), ""},
		{"d", "… without callbacks (batched polling)",
			fmt.Sprintf("**%.2f** (%.3f status requests per task per minute of generation; done → succeeded p50 %.1f s)",
				p["upstream-req/task"], p["status-req/task/gen-min"], p["lag-p50-ms"]/1000), ""},
	}, nil
}

// ----- formatting -----

func mark(ok bool) string {
	if ok {
		return "✅"
	}
	return "❌"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return f[0] + "/" + f[1] + "/" + f[2]
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "?"
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "?"
}

func commit() string {
	out, err := exec.Command("git", "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "commit ?"
	}
	return "commit " + strings.TrimSpace(string(out))
}
