package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for the bulk copies
	_ "modernc.org/sqlite"             // database/sql driver "sqlite", for the bulk copies
)

// ----- g: a big store -----
//
// The gateway is measured over a store that holds months of finished tasks:
// n tasks across bigTenants tenants, on SQLite and on PostgreSQL. The tasks
// are copies, made by SQL, of real tasks the gateway ran (two per tenant), with
// their charges, ledger rows and result files: the bench's bulk path, since n
// creates through HTTP would take longer than the rest of the bench.

const (
	bigTenants   = 100
	bigAdminKey  = "sk-bench-admin-key-0123456789"
	bigCopyChunk = 50_000
	bigCopyStep  = 13 * time.Second // created_at spacing: a million tasks span about 150 days
	bigListPage  = 20
)

// bigEngine is one store engine of part g.
type bigEngine struct {
	name string
	// env points the gateway at the store ("" URL: SQLite in the data dir).
	url string
	// driver and dsn open it from the bench for the bulk copy.
	driver, dsn string
	pad         func(expr string, width int) string
}

func partBigStore(dir, bin, emuBin string, n int, pgURL string) ([]row, error) {
	fast, fastBase, err := emulator(dir, "fake-ark-g-fast", emuBin, 0, 500*time.Millisecond)
	if err != nil {
		return nil, err
	}
	defer fast.stop()
	slow, slowBase, err := emulator(dir, "fake-ark-g-slow", emuBin, time.Hour, time.Hour)
	if err != nil {
		return nil, err
	}
	defer slow.stop()

	engines := []bigEngine{{name: "SQLite", driver: "sqlite",
		pad: func(e string, w int) string { return fmt.Sprintf("printf('%%0%dd', %s)", w, e) }}}
	if pgURL != "" {
		db, err := freshPostgres(pgURL, "seedgate_bench_g")
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: part g: PostgreSQL skipped: %v\n", err)
		} else {
			engines = append(engines, bigEngine{name: "PostgreSQL", url: db, driver: "pgx", dsn: db,
				pad: func(e string, w int) string { return fmt.Sprintf("lpad((%s)::text, %d, '0')", e, w) }})
		}
	}
	var rows []row
	for _, e := range engines {
		r, err := bigStoreOn(dir, bin, fastBase, slowBase, n, e)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.name, err)
		}
		rows = append(rows, r...)
	}
	return rows, nil
}

// freshPostgres creates an empty database next to the one base names and
// returns its URL.
func freshPostgres(base, name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	u, err := url.Parse(base)
	if err != nil {
		return "", err
	}
	u.Path = "/" + name
	return u.String(), nil
}

func bigStoreOn(dir, bin, fastBase, slowBase string, n int, e bigEngine) ([]row, error) {
	name := "gateway-g-" + strings.ToLower(e.name)
	env := []string{"SEEDGATE_ADMIN_KEY=" + bigAdminKey, "SEEDGATE_WORKERS=32"}
	if e.url != "" {
		env = append(env, "SEEDGATE_DATABASE_URL="+e.url)
	} else {
		e.dsn = filepath.Join(dir, name, "data", "seedgate.db")
	}

	// An empty store first: the creates figure to compare with.
	gw, base, err := gateway(dir, name, bin, slowBase, "expected_time: 1h", env...)
	if err != nil {
		return nil, err
	}
	emptyCreates := run(target{url: base + "/api/v3/contents/generations/tasks", key: gatewayKey},
		load{clients: 200, warm: 2 * time.Second, measure: 5 * time.Second})
	gw.stop()
	if emptyCreates.failed > 0 || emptyCreates.ok == 0 {
		return nil, fmt.Errorf("creates on the empty store: %d failed, first: %s", emptyCreates.failed, emptyCreates.firstErr)
	}

	// Real tasks to copy: two models per tenant, run to the end.
	gw, base, err = gateway(dir, name, bin, fastBase, "expected_time: 1s, min_interval: 200ms", env...)
	if err != nil {
		return nil, err
	}
	keys, templates, err := bigTemplates(base)
	gw.stop()
	if err != nil {
		return nil, err
	}

	db, err := sql.Open(e.driver, e.dsn)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	sizeBefore, err := storeBytes(db, e)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := bigCopy(db, e, templates, n); err != nil {
		return nil, fmt.Errorf("copying tasks: %w", err)
	}
	copyTime := time.Since(t0)
	sizeAfter, err := storeBytes(db, e)
	if err != nil {
		return nil, err
	}
	perTask := float64(sizeAfter-sizeBefore) / float64(n)

	// The gateway over the full store: ready time, reads, creates.
	t0 = time.Now()
	gw, base, err = gateway(dir, name, bin, slowBase, "expected_time: 1h", env...)
	if err != nil {
		return nil, err
	}
	ready := time.Since(t0)
	defer gw.stop()
	key := keys[7]
	ids, err := bigTenantIDs(db, key.tenant, 2000)
	if err != nil {
		return nil, err
	}
	get, err := timeRequests(8, 4*time.Second, func(c *http.Client, r *rand.Rand) error {
		return getOK(c, base+"/v1/jobs/"+ids[r.IntN(len(ids))], key.key, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("GET a task: %w", err)
	}
	model := templates[14].model
	list, err := timeRequests(8, 4*time.Second, listWalker(base, key.key, model))
	if err != nil {
		return nil, fmt.Errorf("list: %w", err)
	}
	usage, err := timeRequests(2, 4*time.Second, func(c *http.Client, _ *rand.Rand) error {
		return getOK(c, base+"/v1/usage", key.key, nil)
	})
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	fullCreates := run(target{url: base + "/api/v3/contents/generations/tasks", key: gatewayKey},
		load{clients: 200, warm: 2 * time.Second, measure: 5 * time.Second})
	if fullCreates.failed > 0 || fullCreates.ok == 0 {
		return nil, fmt.Errorf("creates on the full store: %d failed, first: %s", fullCreates.failed, fullCreates.firstErr)
	}

	what := func(s string) string { return fmt.Sprintf("%s, %s tasks: %s", e.name, thousands(int64(n)), s) }
	ratio := fullCreates.perSecond() / emptyCreates.perSecond()
	return []row{
		{"g", what("store filled by copying real tasks (with charges, ledger, files)"),
			fmt.Sprintf("%s in %s (%s/s)", thousands(int64(n)), copyTime.Round(time.Second), thousands(int64(float64(n)/copyTime.Seconds()))), ""},
		{"g", what("creates through the gateway, 200 clients, ÷ the empty store"),
			fmt.Sprintf("**%.2f×** (%s/s, empty %s/s; p99 %s, empty %s)", ratio, thousands(int64(fullCreates.perSecond())),
				thousands(int64(emptyCreates.perSecond())), ms(fullCreates.pct(0.99)), ms(emptyCreates.pct(0.99))),
			"≥ 0.90× " + mark(ratio >= 0.9)},
		{"g", what("GET of a task"), fmt.Sprintf("**p99 %s** · p50 %s (%s requests, 8 clients)", ms(get.pct(0.99)), ms(get.pct(0.5)), thousands(int64(len(get.lat)))),
			"≤ 2 ms " + mark(get.pct(0.99) <= 2*time.Millisecond)},
		{"g", what("list page, status and model filter, keyset paging"), fmt.Sprintf("**p99 %s** · p50 %s (%s pages of %d)", ms(list.pct(0.99)), ms(list.pct(0.5)), thousands(int64(len(list.lat))), bigListPage),
			"≤ 10 ms " + mark(list.pct(0.99) <= 10*time.Millisecond)},
		{"g", what(fmt.Sprintf("GET /v1/usage of a tenant with %s tasks", thousands(int64(n/bigTenants)))), fmt.Sprintf("**p99 %s** · p50 %s", ms(usage.pct(0.99)), ms(usage.pct(0.5))),
			"≤ 50 ms " + mark(usage.pct(0.99) <= 50*time.Millisecond)},
		{"g", what("store bytes per finished task (blobs aside)"), fmt.Sprintf("**%s B**", thousands(int64(perTask))),
			"≤ 2 KB " + mark(perTask <= 2048)},
		{"g", what("`serve` start to ready"), fmt.Sprintf("**%s**", ms(ready)), "≤ 1 s " + mark(ready <= time.Second)},
	}, nil
}

type bigKey struct{ tenant, key string }

type bigTemplate struct{ id, model string }

// bigTemplates makes a key per tenant and two finished tasks per tenant, one
// per model, and returns them in tenant order.
func bigTemplates(base string) ([]bigKey, []bigTemplate, error) {
	c := newClient(16)
	models := []string{"seedance-1-0-pro", "seedance-1-0-lite-t2v"}
	keys := make([]bigKey, bigTenants)
	templates := make([]bigTemplate, 2*bigTenants)
	for i := range keys {
		tenant := fmt.Sprintf("tenant-%02d", i)
		var k struct{ Key string }
		body := fmt.Sprintf(`{"name":"bench","tenant":%q,"scopes":["read","submit"]}`, tenant)
		if err := postJSON(c, base+"/admin/v1/keys", bigAdminKey, body, &k); err != nil {
			return nil, nil, fmt.Errorf("create key: %w", err)
		}
		keys[i] = bigKey{tenant, k.Key}
		for j, m := range models {
			var job struct{ ID string }
			body := fmt.Sprintf(`{"model":%q,"input":{"prompt":"tenant %d's task in the big store: a paper boat drifts across a pond at dawn","resolution":"480p","duration":5}}`, m, i)
			if err := postJSON(c, base+"/v1/jobs", k.Key, body, &job); err != nil {
				return nil, nil, fmt.Errorf("create task: %w", err)
			}
			templates[2*i+j] = bigTemplate{job.ID, m}
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	for i, t := range templates {
		for {
			var job struct{ Status string }
			if err := getOK(c, base+"/v1/jobs/"+t.id, keys[i/2].key, &job); err != nil {
				return nil, nil, err
			}
			if job.Status == "succeeded" {
				break
			}
			if job.Status == "failed" || time.Now().After(deadline) {
				return nil, nil, fmt.Errorf("template task %s: %s", t.id, job.Status)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return keys, templates, nil
}

func postJSON(c *http.Client, u, key, body string, out any) error {
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("POST %s: HTTP %d: %s", u, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

func getOK(c *http.Client, u, key string, out any) error {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: HTTP %d", u, resp.StatusCode)
		}
		return err
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d: %s", u, resp.StatusCode, b)
	}
	return json.Unmarshal(b, out)
}

// bigCopy inserts n copies of the template tasks, spread back in time, each
// with copies of its template's rows in the tables that refer to tasks.
func bigCopy(db *sql.DB, e bigEngine, templates []bigTemplate, n int) error {
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE bench_n (n BIGINT NOT NULL PRIMARY KEY)`); err != nil {
		return err
	}
	if _, err := db.ExecContext(ctx, `CREATE TABLE bench_templates (k BIGINT NOT NULL PRIMARY KEY, id TEXT NOT NULL)`); err != nil {
		return err
	}
	defer db.ExecContext(ctx, `DROP TABLE bench_n`)
	defer db.ExecContext(ctx, `DROP TABLE bench_templates`)
	for k, t := range templates {
		if _, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO bench_templates (k, id) VALUES (%d, '%s')`, k, t.id)); err != nil {
			return err
		}
	}
	for lo := 0; lo < bigCopyChunk; lo += 1000 {
		var vals []string
		for i := lo; i < lo+1000; i++ {
			vals = append(vals, fmt.Sprintf("(%d)", i))
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO bench_n (n) VALUES `+strings.Join(vals, ",")); err != nil {
			return err
		}
	}
	// The template rows in small tables of their own: the joins below then
	// never search the growing tables.
	for _, tk := range [][2]string{{"tasks", "id"}, {"charges", "task_id"}, {"ledger", "task_id"}, {"files", "task_id"}} {
		q := fmt.Sprintf("CREATE TABLE bench_src_%s AS SELECT * FROM %s WHERE %s IN (SELECT id FROM bench_templates)", tk[0], tk[0], tk[1])
		if _, err := db.ExecContext(ctx, q); err != nil {
			return err
		}
		defer db.ExecContext(ctx, "DROP TABLE bench_src_"+tk[0])
	}
	step := bigCopyStep.Milliseconds()
	for off := 0; off < n; off += bigCopyChunk {
		size := min(bigCopyChunk, n-off)
		num := fmt.Sprintf("(s.n + %d)", off)
		newID := "'cgt-20260101000000-' || " + e.pad(num, 10)
		shift := func(col string) string { return fmt.Sprintf("%s - %s * %d", col, num, step) }
		from := fmt.Sprintf(" FROM bench_n s JOIN bench_templates b ON b.k = %s %% %d JOIN bench_src_{table} t ON t.{key} = b.id WHERE s.n < %d",
			num, len(templates), size)
		copies := []struct {
			table, key string
			set        map[string]string
			skip       []string
		}{
			{"tasks", "id", map[string]string{"id": newID, "created_at": shift("t.created_at"), "updated_at": shift("t.updated_at"),
				"started_at": shift("t.started_at"), "finished_at": shift("t.finished_at"), "expires_at": shift("t.expires_at")}, nil},
			{"charges", "task_id", map[string]string{"task_id": newID, "created_at": shift("t.created_at"), "settled_at": shift("t.settled_at")}, nil},
			{"ledger", "task_id", map[string]string{"task_id": newID, "at": shift("t.at")}, []string{"id"}},
			{"files", "task_id", map[string]string{"id": "t.id || '-' || " + e.pad(num, 10), "task_id": newID, "created_at": shift("t.created_at")}, nil},
		}
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for _, c := range copies {
			cols, err := columns(tx, c.table)
			if err != nil {
				tx.Rollback()
				return err
			}
			var exprs, names []string
			for _, col := range cols {
				if slices.Contains(c.skip, col) {
					continue
				}
				names = append(names, col)
				if v, ok := c.set[col]; ok {
					exprs = append(exprs, v)
				} else {
					exprs = append(exprs, "t."+col)
				}
			}
			q := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s", c.table, strings.Join(names, ", "), strings.Join(exprs, ", ")) +
				strings.NewReplacer("{table}", c.table, "{key}", c.key).Replace(from)
			if _, err := tx.ExecContext(ctx, q); err != nil {
				tx.Rollback()
				return fmt.Errorf("%s: %w", c.table, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	if e.driver == "pgx" {
		_, err := db.ExecContext(ctx, "VACUUM ANALYZE")
		return err
	}
	_, err := db.ExecContext(ctx, "ANALYZE")
	return err
}

func columns(tx *sql.Tx, table string) ([]string, error) {
	rows, err := tx.Query("SELECT * FROM " + table + " WHERE 1 = 0")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return rows.Columns()
}

// storeBytes is the store's size on disk: the SQLite file after a
// checkpoint, or the PostgreSQL database.
func storeBytes(db *sql.DB, e bigEngine) (int64, error) {
	if e.driver == "pgx" {
		var n int64
		err := db.QueryRow("SELECT pg_database_size(current_database())").Scan(&n)
		return n, err
	}
	if _, err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		return 0, err
	}
	var pages, size int64
	if err := db.QueryRow("PRAGMA page_count").Scan(&pages); err != nil {
		return 0, err
	}
	if err := db.QueryRow("PRAGMA page_size").Scan(&size); err != nil {
		return 0, err
	}
	return pages * size, nil
}

// bigTenantIDs samples ids of a tenant's tasks.
func bigTenantIDs(db *sql.DB, tenant string, limit int) ([]string, error) {
	rows, err := db.Query(fmt.Sprintf("SELECT id FROM tasks WHERE tenant = '%s' ORDER BY created_at DESC LIMIT %d OFFSET 100", tenant, limit*4))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for i := 0; rows.Next(); i++ {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if i%4 == 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return nil, errors.New("the tenant has no tasks")
	}
	return ids, rows.Err()
}

// listWalker pages through a tenant's succeeded tasks of one model, each
// client from a random depth of up to 50 pages, with keyset cursors.
func listWalker(base, key, model string) func(*http.Client, *rand.Rand) error {
	var mu sync.Mutex
	cursors := map[*http.Client]string{}
	return func(c *http.Client, r *rand.Rand) error {
		mu.Lock()
		after := cursors[c]
		mu.Unlock()
		u := fmt.Sprintf("%s/v1/jobs?status=succeeded&model=%s&limit=%d", base, model, bigListPage)
		if after != "" {
			u += "&after=" + after
		}
		var page struct {
			Data    []struct{ ID string }
			HasMore bool `json:"has_more"`
		}
		if err := getOK(c, u, key, &page); err != nil {
			return err
		}
		next := ""
		if page.HasMore && len(page.Data) > 0 && r.IntN(50) != 0 {
			next = page.Data[len(page.Data)-1].ID
		}
		mu.Lock()
		cursors[c] = next
		mu.Unlock()
		return nil
	}
}

// timeRequests runs do from clients goroutines for d and collects latencies.
func timeRequests(clients int, d time.Duration, do func(*http.Client, *rand.Rand) error) (loadResult, error) {
	var (
		mu       sync.Mutex
		res      loadResult
		firstErr error
		wg       sync.WaitGroup
	)
	end := time.Now().Add(d)
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(1)
			r := rand.New(rand.NewPCG(uint64(i), 7))
			var lat []time.Duration
			for time.Now().Before(end) {
				t0 := time.Now()
				if err := do(c, r); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}
	slices.Sort(res.lat)
	res.ok = int64(len(res.lat))
	res.elapsed = d
	return res, nil
}
