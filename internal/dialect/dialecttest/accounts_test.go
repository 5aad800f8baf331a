package dialecttest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/dialect/dialecttest"
	"github.com/seedgate/seedgate/internal/service/servicetest"
)

// Keys, tenants and budgets through every dialect.

const adminKey = "admin-key-of-the-accounts-tests"

// client calls a gateway as one key.
type client struct {
	t   *testing.T
	g   *dialecttest.Gateway
	key string
}

func (c client) do(method, path, body string) (*http.Response, []byte) {
	c.t.Helper()
	var rd io.Reader
	h := map[string]string{"Authorization": "Bearer " + c.key}
	if body != "" {
		rd = strings.NewReader(body)
		h["Content-Type"] = "application/json"
	}
	return c.g.Do(method, path, rd, h)
}

func (c client) json(method, path, body string, want int) map[string]any {
	c.t.Helper()
	resp, b := c.do(method, path, body)
	require.Equal(c.t, want, resp.StatusCode, "%s %s: %s", method, path, b)
	var out map[string]any
	require.NoError(c.t, json.Unmarshal(b, &out), "%s", b)
	return out
}

// newKey creates a key through the admin API.
func newKey(t *testing.T, g *dialecttest.Gateway, body string) client {
	t.Helper()
	out := client{t, g, adminKey}.json("POST", "/admin/v1/keys", body, http.StatusCreated)
	require.Regexp(t, `^sgk_[a-z2-7]{16}_[a-z2-7]{52}$`, out["key"])
	require.Regexp(t, `^whsec_`, out["webhook_secret"])
	return client{t, g, out["key"].(string)}
}

// creates are one create call per dialect, small and fast in the sandbox.
var creates = []struct {
	dialect, path, body string
	id                  func(map[string]any) string
}{
	{"jobs", "/v1/jobs", `{"model":"seedance-1.0-lite-t2v","input":{"prompt":"jobs","resolution":"480p","duration":2}}`,
		func(o map[string]any) string { return o["id"].(string) }},
	{"ark", "/api/v3/contents/generations/tasks", `{"model":"seedance-1-0-lite-t2v-250428","content":[{"type":"text","text":"ark --rs 480p --dur 2"}]}`,
		func(o map[string]any) string { return o["id"].(string) }},
	{"videos", "/v1/videos/generations", `{"model":"doubao-seedance-1-0-lite-t2v","prompt":"videos","duration":2,"resolution":"480p"}`,
		func(o map[string]any) string { return o["data"].([]any)[0].(map[string]any)["task_id"].(string) }},
	{"seedance", "/v1/seedance/videos", `{"model":"doubao-seedance-1-0-lite-t2v-250428","content":[{"type":"text","text":"seedance"}],"duration":2,"resolution":"480p"}`,
		func(o map[string]any) string { return o["data"].(map[string]any)["task_id"].(string) }},
	{"responses", "/v1/responses", `{"model":"seedance-1-0-pro-fast-251015","input":"responses","duration":2,"resolution":"480p"}`,
		func(o map[string]any) string { return o["id"].(string) }},
	{"openai", "/v1/videos", `{"model":"seedance-1-0-pro-fast","prompt":"openai","seconds":"2","size":"864x480"}`,
		func(o map[string]any) string { return o["id"].(string) }},
	{"openrouter", "/api/v1/videos", `{"model":"seedance-1-0-pro-fast","prompt":"openrouter","duration":2,"size":"864x480"}`,
		func(o map[string]any) string { return o["id"].(string) }},
}

// createdStatus is the status of a successful create: OpenRouter's is 202.
func createdStatus(dialect string) int {
	if dialect == "openrouter" {
		return http.StatusAccepted
	}
	return http.StatusOK
}

func (c client) wait(id string) map[string]any {
	c.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		j := c.json("GET", "/v1/jobs/"+id, "", http.StatusOK)
		if j["status"] != "processing" {
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatalf("task %s did not finish", id)
	return nil
}

var requestIDs = regexp.MustCompile(`req_[0-9a-f]{24}|resp_[0-9a-z]+|msg_[0-9a-z]+|"created(_at)?":\s*\d+`)

// TestTenantIsolation: a key sees only its tenant's tasks, files and
// deliveries, in every dialect; another tenant's id answers exactly like a
// missing one (same status, same body but for the id and request ids).
func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t, "SEEDGATE_ADMIN_KEY="+adminKey)
	acme := newKey(t, g, `{"name":"acme app","tenant":"acme"}`)
	globex := newKey(t, g, `{"name":"globex app","tenant":"globex"}`)
	static := client{t, g, dialecttest.Key} // the default tenant

	var ids []string
	for _, c := range creates {
		resp, b := acme.do("POST", c.path, c.body)
		require.Equal(t, createdStatus(c.dialect), resp.StatusCode, "%s: %s", c.dialect, b)
		var out map[string]any
		require.NoError(t, json.Unmarshal(b, &out))
		ids = append(ids, c.id(out))
	}
	for _, id := range ids {
		require.Equal(t, "succeeded", acme.wait(id)["status"])
	}
	file := uploadAs(t, g, acme.key, dialecttest.PNG(640, 480))
	fileID := file["id"].(string)

	// Every path that takes an id, as the other tenants see it.
	paths := []struct{ method, path, body string }{
		{"GET", "/v1/jobs/{id}", ""},
		{"POST", "/v1/jobs/{id}/cancel", ""},
		{"GET", "/v1/jobs/{id}/events", ""},
		{"GET", "/v1/jobs/{id}/deliveries", ""},
		{"POST", "/v1/jobs/{id}/deliveries/msg_0123/retry", ""},
		{"GET", "/api/v3/contents/generations/tasks/{id}", ""},
		{"DELETE", "/api/v3/contents/generations/tasks/{id}", ""},
		{"GET", "/byteplus/v3/contents/generations/tasks/{id}", ""},
		{"GET", "/api/v3/contents/generations/tasks?filter.task_ids={id}", ""},
		{"GET", "/v1/tasks/{id}", ""},
		{"GET", "/v1/videos/generations/{id}", ""},
		{"GET", "/v1/seedance/tasks/{id}", ""},
		{"POST", "/v1/seedance/tasks", `{"id":"{id}"}`},
		{"POST", "/v1/seedance/tasks", `{"ids":["{id}"]}`},
		{"POST", "/v1/responses", `{"model":"seedance-get","input":"{id}","stream":false}`},
		{"POST", "/v1/responses", `{"model":"seedance-get","input":"{id}","stream":true}`},
		{"GET", "/v1/videos/{id}", ""},
		{"GET", "/v1/videos/{id}/content", ""},
		{"GET", "/v1/videos/{id}/content?variant=thumbnail", ""},
		{"DELETE", "/v1/videos/{id}", ""},
		{"GET", "/api/v1/videos/{id}", ""},
		{"GET", "/api/v1/videos/{id}/content?index=0", ""},
	}
	missingTask := "cgt-20250314150926-abcdefghij"
	normalize := func(b []byte, id string) string {
		s := strings.ReplaceAll(string(b), id, "{id}")
		return requestIDs.ReplaceAllString(s, "{volatile}")
	}
	for _, other := range []client{globex, static} {
		for _, id := range ids {
			for _, p := range paths {
				ask := func(id string) (int, string) {
					r, b := other.do(p.method, strings.ReplaceAll(p.path, "{id}", id), strings.ReplaceAll(p.body, "{id}", id))
					return r.StatusCode, normalize(b, id)
				}
				gotStatus, got := ask(id)
				wantStatus, want := ask(missingTask)
				require.Equal(t, wantStatus, gotStatus, "%s %s of another tenant's task: %s", p.method, p.path, got)
				require.Equal(t, want, got, "%s %s answers another tenant's task unlike a missing one", p.method, p.path)
				require.NotContains(t, got, "succeeded", "%s %s leaks the task", p.method, p.path)
			}
		}
		// Files: the record and the content without a signature.
		for _, p := range []string{"/v1/files/{id}", "/v1/files/{id}/content"} {
			r1, b1 := other.do("GET", strings.ReplaceAll(p, "{id}", fileID), "")
			r2, b2 := other.do("GET", strings.ReplaceAll(p, "{id}", "file-abcdefghijklmnopqrstuvwx"), "")
			require.Equal(t, http.StatusNotFound, r1.StatusCode, "%s: %s", p, b1)
			require.Equal(t, r2.StatusCode, r1.StatusCode)
			require.Equal(t, normalize(b2, "file-abcdefghijklmnopqrstuvwx"), normalize(b1, fileID))
		}
		// Lists show none of them.
		for _, p := range []string{"/v1/jobs?limit=100", "/api/v3/contents/generations/tasks?page_size=100", "/v1/videos?limit=100"} {
			_, b := other.do("GET", p, "")
			for _, id := range ids {
				require.NotContains(t, string(b), id, "%s lists another tenant's task", p)
			}
		}
	}
	// The owner still sees everything, and a signed URL (a capability) works for anyone.
	for _, id := range ids {
		acme.json("GET", "/v1/videos/"+id, "", http.StatusOK)
		acme.json("GET", "/api/v3/contents/generations/tasks/"+id, "", http.StatusOK)
	}
	signed := file["url"].(string)
	resp, err := g.Client.Get(signed)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	// The owner's lists have them all.
	_, b := acme.do("GET", "/v1/jobs?limit=100", "")
	for _, id := range ids {
		require.Contains(t, string(b), id)
	}
}

func uploadAs(t *testing.T, g *dialecttest.Gateway, key string, data []byte) map[string]any {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	require.NoError(t, mw.WriteField("kind", "image"))
	fw, err := mw.CreateFormFile("file", "frame.png")
	require.NoError(t, err)
	_, _ = fw.Write(data)
	require.NoError(t, mw.Close())
	resp, b := g.Do("POST", "/v1/files/upload", &body, map[string]string{"Authorization": "Bearer " + key, "Content-Type": mw.FormDataContentType()})
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s", b)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

// errorShapes is how each dialect writes an error: the HTTP status and the
// JSON pointer paths that must hold the given values.
var errorShapes = map[string]map[string]struct {
	status int
	fields map[string]any
}{
	"rate_limited": {
		"jobs":       {429, map[string]any{"error.code": "rate_limited"}},
		"ark":        {429, map[string]any{"error.code": "RateLimitExceeded.EndpointRPMExceeded", "error.type": "TooManyRequests"}},
		"videos":     {429, map[string]any{"error.code": float64(429), "error.type": "rate_limit_error"}},
		"seedance":   {429, map[string]any{"success": false, "error.code": "too_many_requests"}},
		"responses":  {429, map[string]any{"error.type": "rate_limit_error", "error.code": "rate_limited"}},
		"openai":     {429, map[string]any{"error.type": "rate_limit_error", "error.code": "rate_limited"}},
		"openrouter": {429, map[string]any{"error.code": float64(429), "error.metadata.error_code": "rate_limited"}},
	},
	// Each dialect's own answer to "no money": 402 where its documents say so,
	// Ark's 403 AccountOverdueError, OpenAI's 429 insufficient_quota.
	"payment_required": {
		"jobs":       {402, map[string]any{"error.code": "payment_required"}},
		"ark":        {403, map[string]any{"error.code": "AccountOverdueError", "error.type": "Forbidden"}},
		"videos":     {402, map[string]any{"error.code": float64(402), "error.type": "payment_required"}},
		"seedance":   {402, map[string]any{"success": false, "error.code": "insufficient_balance"}},
		"responses":  {402, map[string]any{"error.type": "insufficient_quota", "error.code": "payment_required"}},
		"openai":     {429, map[string]any{"error.type": "insufficient_quota", "error.code": "payment_required"}},
		"openrouter": {402, map[string]any{"error.code": float64(402), "error.metadata.error_code": "payment_required"}},
	},
}

func requireShape(t *testing.T, code, dialect string, resp *http.Response, b []byte) {
	t.Helper()
	want := errorShapes[code][dialect]
	require.Equal(t, want.status, resp.StatusCode, "%s %s: %s", dialect, code, b)
	var out map[string]any
	require.NoError(t, json.Unmarshal(b, &out), "%s", b)
	for path, v := range want.fields {
		var cur any = out
		for _, k := range strings.Split(path, ".") {
			m, ok := cur.(map[string]any)
			require.True(t, ok, "%s: %s has no %s: %s", dialect, code, path, b)
			cur = m[k]
		}
		require.Equal(t, v, cur, "%s %s: %s", dialect, code, b)
	}
}

// TestRequestsPerMinute: over its requests per minute a key gets 429 with
// Retry-After, in every dialect's error shape.
func TestRequestsPerMinute(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t, "SEEDGATE_ADMIN_KEY="+adminKey)
	reads := map[string]struct{ method, path, body string }{
		"jobs":       {"GET", "/v1/jobs?limit=1", ""},
		"ark":        {"GET", "/api/v3/contents/generations/tasks?page_size=1", ""},
		"videos":     {"GET", "/v1/tasks/cgt-20250314150926-abcdefghij", ""},
		"seedance":   {"GET", "/v1/seedance/tasks/cgt-20250314150926-abcdefghij", ""},
		"responses":  {"POST", "/v1/responses", `{"model":"seedance-get","input":"cgt-20250314150926-abcdefghij"}`},
		"openai":     {"GET", "/v1/videos?limit=1", ""},
		"openrouter": {"GET", "/api/v1/videos/models", ""},
	}
	for dialect, req := range reads {
		t.Run(dialect, func(t *testing.T) {
			for attempt := 0; ; attempt++ {
				c := newKey(t, g, `{"name":"rpm","tenant":"acme","rpm":2}`)
				minute := time.Now().Truncate(time.Minute)
				for range 2 {
					resp, b := c.do(req.method, req.path, req.body)
					require.NotEqual(t, http.StatusTooManyRequests, resp.StatusCode, "%s", b)
				}
				resp, b := c.do(req.method, req.path, req.body)
				if resp.StatusCode != http.StatusTooManyRequests && time.Now().Truncate(time.Minute) != minute && attempt < 2 {
					continue // a new minute began meanwhile: its window is fresh
				}
				requireShape(t, "rate_limited", dialect, resp, b)
				ra := resp.Header.Get("Retry-After")
				require.Regexp(t, `^[1-9][0-9]?$`, ra, "Retry-After up to the next minute")
				break
			}
		})
	}
	// The admin key has no limit; limits of a tenant apply to its keys without their own.
	admin := client{t, g, adminKey}
	admin.json("PUT", "/admin/v1/tenants/slow/limits", `{"rpm":1}`, http.StatusOK)
	c := newKey(t, g, `{"tenant":"slow"}`)
	for attempt := 0; ; attempt++ {
		minute := time.Now().Truncate(time.Minute)
		r1, _ := c.do("GET", "/v1/jobs?limit=1", "")
		r2, b := c.do("GET", "/v1/jobs?limit=1", "")
		if r2.StatusCode != http.StatusTooManyRequests && time.Now().Truncate(time.Minute) != minute && attempt < 2 {
			c = newKey(t, g, `{"tenant":"slow"}`)
			continue
		}
		require.NotEqual(t, http.StatusTooManyRequests, r1.StatusCode)
		requireShape(t, "rate_limited", "jobs", r2, b)
		break
	}
	for range 5 {
		admin.json("GET", "/admin/v1/keys", "", http.StatusOK)
	}
}

// TestInFlightLimit: a key with max_in_flight tasks queued or running gets
// 429 with Retry-After on its next create, in every dialect's shape; a
// finished (here: cancelled) task frees its slot.
func TestInFlightLimit(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t, "SEEDGATE_ADMIN_KEY="+adminKey, "SEEDGATE_SANDBOX_QUEUE_DELAY=1h", "SEEDGATE_SYNC_WAIT=50ms")
	for _, c := range creates {
		t.Run(c.dialect, func(t *testing.T) {
			k := newKey(t, g, `{"tenant":"acme","max_in_flight":1}`)
			resp, b := k.do("POST", c.path, c.body)
			require.Equal(t, createdStatus(c.dialect), resp.StatusCode, "%s", b)
			var out map[string]any
			require.NoError(t, json.Unmarshal(b, &out))
			first := c.id(out)
			resp, b = k.do("POST", c.path, c.body)
			requireShape(t, "rate_limited", c.dialect, resp, b)
			require.NotEmpty(t, resp.Header.Get("Retry-After"))
			k.json("POST", "/v1/jobs/"+first+"/cancel", "", http.StatusOK)
			resp, b = k.do("POST", c.path, c.body)
			require.Equal(t, createdStatus(c.dialect), resp.StatusCode, "a cancelled task frees its slot: %s", b)
		})
	}
}

// TestBalance: a submission beyond the tenant's balance is refused in each
// dialect's shape, and nothing is stored; a top-up lets it through.
func TestBalance(t *testing.T) {
	t.Parallel()
	g := dialecttest.Start(t, "SEEDGATE_ADMIN_KEY="+adminKey)
	admin := client{t, g, adminKey}
	k := newKey(t, g, `{"tenant":"poor"}`)
	bal := admin.json("POST", "/admin/v1/tenants/poor/balance", `{"amount":1000,"note":"trial"}`, http.StatusOK)
	require.EqualValues(t, 1000, bal["balance"])
	require.Equal(t, "tokens", bal["unit"])
	for _, c := range creates {
		resp, b := k.do("POST", c.path, c.body)
		requireShape(t, "payment_required", c.dialect, resp, b)
	}
	_, b := k.do("GET", "/v1/jobs", "")
	require.Contains(t, string(b), `"data":[]`, "refused submissions store nothing")
	usage := k.json("GET", "/v1/usage", "", http.StatusOK)
	require.EqualValues(t, 1000, usage["balance"], "nothing was held")

	idem := func() *http.Response {
		resp, b := g.Do("POST", "/v1/jobs", strings.NewReader(creates[0].body), map[string]string{
			"Authorization": "Bearer " + k.key, "Content-Type": "application/json", "Idempotency-Key": "after-top-up"})
		_ = b
		return resp
	}
	require.Equal(t, http.StatusPaymentRequired, idem().StatusCode)

	admin.json("POST", "/admin/v1/tenants/poor/balance", `{"amount":1000000}`, http.StatusOK)
	require.Equal(t, http.StatusOK, idem().StatusCode, "a 402 is not kept under its Idempotency-Key: the retry goes through")
	require.Equal(t, "true", idem().Header.Get("Idempotent-Replayed"))
	for _, c := range creates {
		k.json("POST", c.path, c.body, createdStatus(c.dialect))
	}
	var tokens int64
	jobs := k.json("GET", "/v1/jobs?limit=100", "", http.StatusOK)["data"].([]any)
	require.Len(t, jobs, len(creates)+1)
	for _, j := range jobs {
		j := k.wait(j.(map[string]any)["id"].(string))
		require.Equal(t, "succeeded", j["status"])
		tokens += int64(j["usage"].(map[string]any)["total_tokens"].(float64))
	}
	usage = k.json("GET", "/v1/usage", "", http.StatusOK)
	require.EqualValues(t, 1001000-tokens, usage["balance"], "charged the usage")
	var sum float64
	for _, r := range usage["data"].([]any) {
		sum += r.(map[string]any)["total_tokens"].(float64)
	}
	require.EqualValues(t, tokens, sum)
	// Unlimited again.
	out := admin.json("POST", "/admin/v1/tenants/poor/balance", `{"unlimited":true}`, http.StatusOK)
	require.Nil(t, out["balance"])
	require.Equal(t, true, out["unlimited"])
}

// TestLedgerNoDrift runs successes, failures, cancels and expiries through
// the gateway with prices in a currency, then checks the books: every
// reservation settled or released, the settlements are the usages priced at
// the snapshotted rates, and the balance is the top-up minus them.
func TestLedgerNoDrift(t *testing.T) {
	t.Parallel()
	prices := filepath.Join(t.TempDir(), "prices.yaml")
	require.NoError(t, os.WriteFile(prices, []byte(`currency: USD
prices:
  - per_million_tokens: 2.5
  - model: seedance-1-0-lite-t2v
    per_million_tokens: 1.8
`), 0o644))
	g := dialecttest.Start(t, "SEEDGATE_ADMIN_KEY="+adminKey, "SEEDGATE_PRICES_FILE="+prices, "SEEDGATE_SANDBOX_QUEUE_DELAY=300ms")
	admin := client{t, g, adminKey}
	k := newKey(t, g, `{"tenant":"acme"}`)
	admin.json("POST", "/admin/v1/tenants/acme/balance", `{"amount":50000000}`, http.StatusOK) // $50

	submit := func(prompt, extra string) string {
		return k.json("POST", "/v1/jobs", `{"model":"seedance-1.0-lite-t2v","input":{"prompt":"`+prompt+`","resolution":"480p","duration":2`+extra+`}}`, http.StatusOK)["id"].(string)
	}
	var ok, failed, cancelled, expired []string
	for i := range 4 {
		ok = append(ok, submit(fmt.Sprintf("ok %d", i), ""))
	}
	flex := submit("flex", `,"service_tier":"flex"`)
	ok = append(ok, flex)
	for i := range 3 {
		failed = append(failed, submit(fmt.Sprintf("fail %d [sandbox:fail=OutputVideoSensitiveContentDetected]", i), ""))
	}
	for i := range 3 {
		id := submit(fmt.Sprintf("cancel %d", i), "")
		k.json("POST", "/v1/jobs/"+id+"/cancel", "", http.StatusOK)
		cancelled = append(cancelled, id)
	}
	for i := range 2 {
		id := submit(fmt.Sprintf("expire %d", i), "")
		expireNow(t, g, id) // its deadline passes: the scheduler expires it
		expired = append(expired, id)
	}
	var usageTokens int64
	for _, id := range ok {
		j := k.wait(id)
		require.Equal(t, "succeeded", j["status"])
		usageTokens += int64(j["usage"].(map[string]any)["total_tokens"].(float64))
	}
	for _, id := range failed {
		require.Equal(t, "failed", k.wait(id)["status"])
	}
	for _, id := range expired {
		require.Equal(t, "expired", k.wait(id)["status"])
	}
	for _, id := range cancelled {
		require.Equal(t, "cancelled", k.wait(id)["status"])
	}

	led := admin.json("GET", "/admin/v1/ledger?tenant=acme&limit=1000", "", http.StatusOK)["data"].([]any)
	reserved, closed := map[string]int{}, map[string]int{}
	var settled, settledTokens, deltas int64
	for _, e := range led {
		e := e.(map[string]any)
		require.Equal(t, "micro-USD", e["unit"])
		deltas += int64(e["delta"].(float64))
		switch e["kind"] {
		case "reserve":
			reserved[e["task_id"].(string)]++
		case "settle":
			closed[e["task_id"].(string)]++
			settled += int64(e["amount"].(float64))
			settledTokens += int64(e["tokens"].(float64))
		case "release":
			closed[e["task_id"].(string)]++
		}
	}
	require.Len(t, reserved, len(ok)+len(failed)+len(cancelled)+len(expired))
	require.Equal(t, reserved, closed, "each reservation settled or released exactly once")
	require.Equal(t, usageTokens, settledTokens, "the settlements are the usages")
	// 1.8 $/M for lite t2v, half of it for flex, rounded up per task.
	var want int64
	for _, id := range ok {
		j := k.json("GET", "/v1/jobs/"+id, "", http.StatusOK)
		tok := int64(j["usage"].(map[string]any)["total_tokens"].(float64))
		rate := int64(1_800_000)
		if id == flex {
			rate = 900_000
		}
		want += (tok*rate + 999_999) / 1_000_000
	}
	require.Equal(t, want, settled, "priced at the snapshotted rates")
	bal := admin.json("GET", "/admin/v1/tenants/acme/balance", "", http.StatusOK)
	require.EqualValues(t, 50_000_000-settled, bal["balance"], "the balance is the top-up minus the costs")
	require.EqualValues(t, 50_000_000-settled, deltas, "the ledger's deltas add up to it")
	usage := k.json("GET", "/v1/usage", "", http.StatusOK)
	var amount float64
	for _, r := range usage["data"].([]any) {
		amount += r.(map[string]any)["amount"].(float64)
	}
	require.EqualValues(t, settled, amount)
}

// expireNow moves a live task's deadline to now, as if execution_expires_after passed.
func expireNow(t *testing.T, g *dialecttest.Gateway, id string) {
	t.Helper()
	st := g.App.Store
	for range 50 {
		tk, err := st.GetTask(t.Context(), id)
		require.NoError(t, err)
		if tk.Status.Terminal() {
			t.Fatalf("task %s finished before it could expire", id)
		}
		now := time.Now().UTC().Truncate(time.Millisecond)
		tk.ExpiresAt, tk.NextCheckAt = now, &now
		if err := st.UpdateTask(t.Context(), tk); err == nil {
			return
		}
		time.Sleep(10 * time.Millisecond) // the scheduler wrote it meanwhile
	}
	t.Fatalf("could not move the deadline of %s", id)
}

// Concurrent submissions cannot overspend a balance, on SQLite and PostgreSQL.
func TestConcurrentSubmissionsSQLite(t *testing.T) {
	t.Parallel()
	concurrentSubmissions(t, dialecttest.Start(t, "SEEDGATE_ADMIN_KEY="+adminKey, "SEEDGATE_SANDBOX_QUEUE_DELAY=1h"))
}

func TestConcurrentSubmissionsPostgres(t *testing.T) {
	t.Parallel()
	concurrentSubmissions(t, dialecttest.Start(t, "SEEDGATE_ADMIN_KEY="+adminKey, "SEEDGATE_SANDBOX_QUEUE_DELAY=1h",
		"SEEDGATE_DATABASE_URL="+servicetest.PostgresURL(t)))
}

func concurrentSubmissions(t *testing.T, g *dialecttest.Gateway) {
	admin := client{t, g, adminKey}
	k := newKey(t, g, `{"tenant":"acme"}`)
	body := `{"model":"seedance-1.0-lite-t2v","input":{"prompt":"race","resolution":"480p","duration":2}}`
	est := estimate(t, g, body)
	const fits, callers = 5, 24
	admin.json("POST", "/admin/v1/tenants/acme/balance", fmt.Sprintf(`{"amount":%d}`, fits*est+est/2), http.StatusOK)
	var mu sync.Mutex
	codes := map[int]int{}
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			req, _ := http.NewRequest("POST", g.URL+"/v1/jobs", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+k.key)
			req.Header.Set("Content-Type", "application/json")
			resp, err := g.Client.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			mu.Lock()
			codes[resp.StatusCode]++
			mu.Unlock()
		})
	}
	wg.Wait()
	require.Equal(t, map[int]int{200: fits, 402: callers - fits}, codes)
	bal := admin.json("GET", "/admin/v1/tenants/acme/balance", "", http.StatusOK)
	require.EqualValues(t, est/2, bal["balance"], "never overspent")
}

// estimate learns what a create reserves, from the ledger of a throwaway tenant.
func estimate(t *testing.T, g *dialecttest.Gateway, body string) int64 {
	t.Helper()
	probe := newKey(t, g, `{"tenant":"probe"}`)
	id := probe.json("POST", "/v1/jobs", body, http.StatusOK)["id"].(string)
	led := client{t, g, adminKey}.json("GET", "/admin/v1/ledger?task_id="+id, "", http.StatusOK)["data"].([]any)
	require.Len(t, led, 1)
	return int64(led[0].(map[string]any)["amount"].(float64))
}
