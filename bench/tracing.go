package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// ----- t: tracing -----

// partTracing compares create throughput with tracing off and on (every
// request sampled, spans exported over OTLP/HTTP to a collector in this
// process), in alternating rounds so that the machine's drift hits both.
func partTracing(dir, bin, emuBin string) ([]row, error) {
	emu, emuBase, err := emulator(dir, "fake-ark-t", emuBin, time.Hour, time.Hour)
	if err != nil {
		return nil, err
	}
	defer emu.stop()
	sink, err := newOTLPSink()
	if err != nil {
		return nil, err
	}
	defer sink.close()

	const clients, rounds = 200, 3
	var off, on, offCPU, onCPU float64 // creates/s; gateway CPU µs per create
	for i := range rounds {
		for _, traced := range []bool{false, true} {
			name, env := fmt.Sprintf("gateway-t%d-off", i), []string{"SEEDGATE_WORKERS=32"}
			if traced {
				name = fmt.Sprintf("gateway-t%d-on", i)
				env = append(env, "OTEL_EXPORTER_OTLP_ENDPOINT="+sink.url, "OTEL_SERVICE_NAME=seedgate-bench")
			}
			gw, url, err := gateway(dir, name, bin, emuBase, "expected_time: 1h", env...)
			if err != nil {
				return nil, err
			}
			s := sample(gw, 200*time.Millisecond)
			r := run(target{url: url + "/api/v3/contents/generations/tasks", key: gatewayKey},
				load{clients: clients, warm: 2 * time.Second, measure: 5 * time.Second})
			s.end()
			gw.stop()
			if r.failed > 0 || r.ok == 0 {
				return nil, fmt.Errorf("%s: %d failed, first: %s", name, r.failed, r.firstErr)
			}
			perCreate := s.cpuShare() / r.perSecond() * 1e6 / rounds
			if traced {
				on, onCPU = on+r.perSecond()/rounds, onCPU+perCreate
			} else {
				off, offCPU = off+r.perSecond()/rounds, offCPU+perCreate
			}
		}
	}
	if sink.posts.Load() == 0 {
		return nil, fmt.Errorf("tracing on exported no spans")
	}
	ratio := on / off
	return []row{{"t", fmt.Sprintf("creates with tracing on ÷ off, %d clients (every request sampled, OTLP/HTTP export; mean of %d alternating rounds)", clients, rounds),
		fmt.Sprintf("**%.1f %%** (on %s/s, off %s/s) · gateway CPU per create %.0f µs on, %.0f µs off · %s exported in %s requests", 100*ratio,
			thousands(int64(on)), thousands(int64(off)), onCPU, offCPU, mb(sink.bytes.Load()), thousands(sink.posts.Load())),
		"≥ 97 % " + mark(ratio >= 0.97)}}, nil
}

// otlpSink is an OTLP/HTTP trace collector that takes every export and
// counts it, without decoding it: it shares the machine with the gateway.
type otlpSink struct {
	url          string
	srv          *http.Server
	posts, bytes atomic.Int64
}

func newOTLPSink() (*otlpSink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &otlpSink{url: "http://" + ln.Addr().String()}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		s.posts.Add(1)
		s.bytes.Add(n)
		w.Header().Set("Content-Type", "application/x-protobuf") // an empty answer: all accepted
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *otlpSink) close() { _ = s.srv.Close() }
