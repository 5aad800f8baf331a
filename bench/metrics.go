package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// partMetrics compares create throughput through the gateway with its
// Prometheus metrics on — scraped every second on SEEDGATE_METRICS_LISTEN, as
// a Prometheus server would — and off (SEEDGATE_METRICS=false), 200 clients,
// in rounds that alternate the order (off/on, on/off, …) on fresh gateways,
// so that drift in the machine's load falls on both sides alike.
func partMetrics(dir, bin, emuBin string) ([]row, error) {
	emu, emuBase, err := emulator(dir, "fake-ark-m", emuBin, time.Hour, time.Hour)
	if err != nil {
		return nil, err
	}
	defer emu.stop()
	const rounds, clients = 3, 200
	const warm, measure = 2 * time.Second, 5 * time.Second
	var ok [2]int64
	var elapsed, cpu [2]time.Duration
	var each [2][]string
	scrapes := 0
	for i := range rounds * 2 {
		on := i%2 == 0
		if (i/2)%2 == 1 {
			on = !on
		}
		env := []string{"SEEDGATE_WORKERS=32", "SEEDGATE_METRICS=false"}
		var metricsAddr string
		if on {
			if metricsAddr, err = freeAddr(); err != nil {
				return nil, err
			}
			env = []string{"SEEDGATE_WORKERS=32", "SEEDGATE_METRICS=true", "SEEDGATE_METRICS_LISTEN=" + metricsAddr}
		}
		gw, url, err := gateway(dir, fmt.Sprintf("gateway-m%d", i), bin, emuBase, "expected_time: 1h", env...)
		if err != nil {
			return nil, err
		}
		ctx, stopScraping := context.WithCancel(context.Background())
		scraped := make(chan int, 1)
		go func() {
			n := 0
			defer func() { scraped <- n }()
			if !on {
				return
			}
			tick := time.NewTicker(time.Second)
			defer tick.Stop()
			for {
				if err := scrape("http://" + metricsAddr + "/metrics"); err == nil {
					n++
				}
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
			}
		}()
		u := sample(gw, time.Second)
		r := run(target{url: url + "/api/v3/contents/generations/tasks", key: gatewayKey},
			load{clients: clients, warm: warm, measure: measure})
		u.end()
		stopScraping()
		scrapes += <-scraped
		gw.stop()
		if r.failed > 0 || r.ok == 0 {
			return nil, fmt.Errorf("metrics on=%v: %d failed, first: %s", on, r.failed, r.firstErr)
		}
		side := 0
		if on {
			side = 1
		}
		ok[side] += r.ok
		elapsed[side] += r.elapsed
		// The gateway's CPU over warm-up and measure, per create of the same span.
		cpu[side] += time.Duration(float64(u.last.cpu-u.first.cpu) * measure.Seconds() / (warm + measure).Seconds())
		each[side] = append(each[side], thousands(int64(r.perSecond())))
	}
	if scrapes == 0 {
		return nil, fmt.Errorf("no scrape of /metrics succeeded")
	}
	off, on := float64(ok[0])/elapsed[0].Seconds(), float64(ok[1])/elapsed[1].Seconds()
	ratio := on / off
	// CPU time per create is steadier than throughput on a shared machine: the
	// gateway is charged only for the time it ran.
	perOff, perOn := cpu[0]/time.Duration(ok[0]), cpu[1]/time.Duration(ok[1])
	return []row{
		{"m", fmt.Sprintf("creates through the gateway, %d clients: metrics on (scraped every second) ÷ off, %d rounds each", clients, rounds),
			fmt.Sprintf("**%.3f×** (on %s/s: %s; off %s/s: %s; %d scrapes)", ratio, thousands(int64(on)), strings.Join(each[1], ", "),
				thousands(int64(off)), strings.Join(each[0], ", "), scrapes),
			"≥ 0.97× " + mark(ratio >= 0.97)},
		{"m", "gateway CPU per create, metrics on ÷ off",
			fmt.Sprintf("**%.3f×** (on %s, off %s)", float64(perOn)/float64(perOff), perOn.Round(time.Microsecond), perOff.Round(time.Microsecond)),
			"≤ 1.03× " + mark(float64(perOn) <= 1.03*float64(perOff))},
	}, nil
}

// scrape reads one exposition of the metrics.
func scrape(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}
