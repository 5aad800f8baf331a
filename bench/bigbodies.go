package main

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// ----- e: big bodies -----

const bigBodies = 20

// partBigBodies sends 20 creates at once, each with a 40 MB data URL (a 30 MB
// image, about the upstream's limit), and reports the gateway's peak RSS above
// idle (the kernel's high-water mark, so no spike falls between samples). The
// gateway's public URL looks public, so the tasks go upstream with the image
// by URL: what is measured is taking the bodies in.
func partBigBodies(dir, bin, emuBin string) ([]row, error) {
	emu, emuBase, err := emulator(dir, "fake-ark-e", emuBin, time.Hour, time.Hour)
	if err != nil {
		return nil, err
	}
	defer emu.stop()
	gw, url, err := gateway(dir, "gateway-e", bin, emuBase, "expected_time: 1h", "SEEDGATE_PUBLIC_URL=https://gateway.bench.example")
	if err != nil {
		return nil, err
	}
	defer gw.stop()

	body := bigBody()
	time.Sleep(time.Second) // let startup's garbage go
	idle, err := gw.usage()
	if err != nil {
		return nil, err
	}
	client := newClient(bigBodies)
	client.Timeout = 5 * time.Minute
	t0 := time.Now()
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		firstErr  error
		refused   int // answers of the body budget (503, or Ark's 429), retried after Retry-After
		latencies []time.Duration
	)
	for range bigBodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			for {
				status, retry, err := postBig(client, url+"/api/v3/contents/generations/tasks", body)
				mu.Lock()
				switch {
				case err == nil && (status == http.StatusServiceUnavailable || status == http.StatusTooManyRequests):
					refused++
					mu.Unlock()
					time.Sleep(retry)
					continue
				case err == nil && status != http.StatusOK:
					err = fmt.Errorf("HTTP %d", status)
				}
				if err != nil && firstErr == nil {
					firstErr = err
				}
				latencies = append(latencies, time.Since(start))
				mu.Unlock()
				return
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0)
	peak, err := gw.usage()
	if err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, fmt.Errorf("big creates: %w", firstErr)
	}
	// What a client reads back: the list of those tasks.
	req, _ := http.NewRequest("GET", url+"/api/v3/contents/generations/tasks?page_size=50", nil)
	req.Header.Set("Authorization", "Bearer "+gatewayKey)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	listed, _ := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	growth := peak.hwm - idle.rss
	slowest := time.Duration(0)
	for _, l := range latencies {
		slowest = max(slowest, l)
	}
	return []row{{"e", fmt.Sprintf("gateway peak RSS, %d concurrent creates with a %.0f MB data URL each", bigBodies, float64(len(body))/1e6),
		fmt.Sprintf("**%+.0f MB** above idle (idle %s, peak %s) · all answered in %s (slowest %s; %d refused by the body budget with Retry-After and retried) · listing them: %.1f KB",
			float64(growth)/1e6, mb(idle.rss), mb(peak.hwm), elapsed.Round(100*time.Millisecond), slowest.Round(100*time.Millisecond), refused, float64(listed)/1e3),
		"≤ 150 MB above idle " + mark(growth <= 150e6)}}, nil
}

func postBig(client *http.Client, url string, body []byte) (status int, retry time.Duration, err error) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+gatewayKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	switch resp.StatusCode {
	case http.StatusOK, http.StatusServiceUnavailable, http.StatusTooManyRequests: // Ark's dialect says 429 for "overloaded"
	default:
		return resp.StatusCode, 0, fmt.Errorf("HTTP %d: %.300s", resp.StatusCode, b)
	}
	secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	return resp.StatusCode, time.Duration(max(secs, 1)) * time.Second, nil
}

// bigBody is an Ark create whose first frame is a 3000×3333 24-bit BMP of
// random pixels (30 MB) as a base64 data URL (40 MB).
func bigBody() []byte {
	const w, h = 3000, 3333
	row := w * 3 // a multiple of 4: no row padding
	img := make([]byte, 54+row*h)
	copy(img, "BM")
	binary.LittleEndian.PutUint32(img[2:], uint32(len(img)))
	binary.LittleEndian.PutUint32(img[10:], 54)
	binary.LittleEndian.PutUint32(img[14:], 40)
	binary.LittleEndian.PutUint32(img[18:], w)
	binary.LittleEndian.PutUint32(img[22:], h)
	binary.LittleEndian.PutUint16(img[26:], 1)
	binary.LittleEndian.PutUint16(img[28:], 24)
	binary.LittleEndian.PutUint32(img[34:], uint32(row*h))
	_, _ = rand.Read(img[54:])
	var b bytes.Buffer
	b.WriteString(`{"model":"doubao-seedance-1-0-pro-250528","content":[{"type":"text","text":"a paper boat"},{"type":"image_url","image_url":{"url":"data:image/bmp;base64,`)
	enc := base64.NewEncoder(base64.StdEncoding, &b)
	_, _ = enc.Write(img)
	_ = enc.Close()
	b.WriteString(`"}}],"resolution":"480p","duration":5}`)
	return b.Bytes()
}
