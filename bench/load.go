package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// target is where creates go: the gateway's or the emulator's Ark create
// endpoint, with the key it takes.
type target struct {
	url, key string
}

// arkCreate is the create body both targets take: Ark's task API, a short
// 480p text-to-video task.
func arkCreate(i int64) []byte {
	return fmt.Appendf(nil, `{"model":"doubao-seedance-1-0-pro-250528","content":[{"type":"text","text":"bench task %d: a paper boat drifts across a pond"}],"resolution":"480p","duration":5,"seed":%d}`, i, i)
}

// load describes one run: clients in a closed loop (each sends its next
// create when the last is answered), or paced to rate creates per second in
// all. The run lasts warm+measure, or until total creates were sent.
type load struct {
	clients int
	warm    time.Duration
	measure time.Duration
	rate    float64 // 0: as fast as answers come
	total   int64   // > 0: stop after this many creates (then warm is 0 and measure a bound)
}

type loadResult struct {
	ok, failed int64
	elapsed    time.Duration // of the measured part
	lat        []time.Duration
	firstErr   string
}

func (r loadResult) perSecond() float64 { return float64(r.ok) / r.elapsed.Seconds() }

func (r loadResult) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
}

func newClient(conns int) *http.Client {
	return &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
}

// run drives l against t and returns the answers of its measured part.
func run(t target, l load) loadResult {
	client := newClient(l.clients)
	defer client.CloseIdleConnections()
	var (
		seq      atomic.Int64
		failed   atomic.Int64
		firstErr atomic.Value
		mu       sync.Mutex
		all      []time.Duration
		wg       sync.WaitGroup
	)
	start := time.Now()
	measureFrom := start.Add(l.warm)
	end := measureFrom.Add(l.measure)
	var period time.Duration
	if l.rate > 0 {
		period = time.Duration(float64(l.clients) / l.rate * float64(time.Second))
	}
	for c := range l.clients {
		wg.Go(func() {
			var lat []time.Duration
			next := start.Add(period * time.Duration(c) / time.Duration(l.clients)) // spread the paced clients
			for {
				if period > 0 {
					if d := time.Until(next); d > 0 {
						time.Sleep(d)
					}
					next = next.Add(period)
				}
				i := seq.Add(1)
				if l.total > 0 && i > l.total {
					break
				}
				t0 := time.Now()
				if t0.After(end) {
					break
				}
				err := send(client, t, arkCreate(i))
				d := time.Since(t0)
				if !t0.Before(measureFrom) {
					if err != nil {
						failed.Add(1)
						firstErr.CompareAndSwap(nil, err.Error())
					} else {
						lat = append(lat, d)
					}
				}
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		})
	}
	wg.Wait()
	stop := time.Now()
	if stop.After(end) {
		stop = end
	}
	slices.Sort(all)
	r := loadResult{ok: int64(len(all)), failed: failed.Load(), elapsed: stop.Sub(measureFrom), lat: all}
	if e, ok := firstErr.Load().(string); ok {
		r.firstErr = e
	}
	return r
}

func send(client *http.Client, t target, body []byte) error {
	req, err := http.NewRequest(http.MethodPost, t.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d: %.200s", resp.StatusCode, b)
	}
	return nil
}
