package client

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

// FuzzDecodeError: any error answer becomes an *APIError carrying its status,
// whatever the body holds.
func FuzzDecodeError(f *testing.F) {
	f.Add(400, `{"error":{"code":"invalid_parameter","message":"duration 20 is not allowed for Seedance 1.5 Pro: allowed 4–12 or -1","field":"input.duration","request_id":"req_1"}}`, "")
	f.Add(429, `{"error":{"code":"rate_limited","message":"slow down"}}`, "7")
	f.Add(502, "<html>Bad Gateway</html>", "x")
	f.Add(404, ``, "")
	f.Add(401, `{"error":"unauthorized"}`, "-1")
	f.Fuzz(func(t *testing.T, status int, body, retryAfter string) {
		if status < 100 || status > 999 {
			return
		}
		resp := &http.Response{StatusCode: status, Header: http.Header{"Retry-After": {retryAfter}}, Body: io.NopCloser(strings.NewReader(body))}
		err := decodeError(resp)
		var ae *APIError
		if !errors.As(err, &ae) {
			t.Fatalf("not an *APIError: %v", err)
		}
		if ae.Status != status || ae.Code == "" || ae.RetryAfter < 0 {
			t.Fatalf("bad error %+v", ae)
		}
		_ = ae.Error()
		if errors.Is(err, ErrNotFound) != (status == 404 || ae.Code == "not_found") {
			t.Fatalf("ErrNotFound mismatch for %+v", ae)
		}
	})
}

// FuzzReadEvents: the event-stream reader never fails on odd input, and events
// are reported with the data they carry.
func FuzzReadEvents(f *testing.F) {
	f.Add(": keep-alive\n\nid: 1\nevent: progress\ndata: {\"id\":\"cgt-1\",\"status\":\"processing\",\"progress\":42}\n\n")
	f.Add("data: a\ndata: b\n\nid: 7\r\ndata:c\r\n\r\n")
	f.Add("retry: 2000\nid\ndata\n\n\n\n:x")
	f.Fuzz(func(t *testing.T, stream string) {
		n := 0
		err := readEvents(strings.NewReader(stream), func(id, data string) (bool, error) {
			n++
			if len(data) > len(stream) || len(id) > len(stream) {
				t.Fatalf("event larger than the stream: %q %q", id, data)
			}
			return false, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n > strings.Count(stream, "\n")+1 {
			t.Fatalf("%d events from %d lines", n, strings.Count(stream, "\n"))
		}
	})
}

func TestReadEvents(t *testing.T) {
	var got [][2]string
	err := readEvents(bytes.NewBufferString(": hi\n\nid: 3\nevent: progress\ndata: one\ndata: two\n\ndata: three\r\n\r\n"), func(id, data string) (bool, error) {
		got = append(got, [2]string{id, data})
		return false, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{"3", "one\ntwo"}, {"3", "three"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %q, want %q", got, want)
	}
}
