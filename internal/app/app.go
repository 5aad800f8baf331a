// Package app assembles a gateway process from its Config: store, blob storage,
// providers, the task service, the scheduler and the HTTP server. cmd/seedgate
// and the end-to-end tests both start it through Run.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/blob"
	"github.com/seedgate/seedgate/internal/blob/disk"
	"github.com/seedgate/seedgate/internal/blob/s3"
	"github.com/seedgate/seedgate/internal/budget"
	"github.com/seedgate/seedgate/internal/config"
	"github.com/seedgate/seedgate/internal/events"
	"github.com/seedgate/seedgate/internal/heartbeat"
	"github.com/seedgate/seedgate/internal/media"
	"github.com/seedgate/seedgate/internal/metrics"
	"github.com/seedgate/seedgate/internal/provider"
	"github.com/seedgate/seedgate/internal/provider/sandbox"
	"github.com/seedgate/seedgate/internal/provider/upstream"
	"github.com/seedgate/seedgate/internal/safehttp"
	"github.com/seedgate/seedgate/internal/scheduler"
	"github.com/seedgate/seedgate/internal/server"
	"github.com/seedgate/seedgate/internal/service"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/postgres"
	"github.com/seedgate/seedgate/internal/store/sqlite"
	"github.com/seedgate/seedgate/internal/task"
	"github.com/seedgate/seedgate/internal/tracing"
	"github.com/seedgate/seedgate/internal/webhook"
	"github.com/seedgate/seedgate/internal/wire"
)

// App is one running gateway.
type App struct {
	Config    *config.Config
	Store     store.Store
	Service   *service.Service
	Scheduler *scheduler.Scheduler
	// Sweeper removes results past their retention and deleted files' blobs.
	Sweeper *service.Sweeper
	// Hub fans task changes out to this process's waiters.
	Hub *events.Hub
	// Webhooks delivers callbacks (nil when the store keeps no outbox).
	Webhooks *webhook.Dispatcher
	// Server is the HTTP handler; tests read its route table (Patterns).
	Server *server.Server
	// Addr is the address the HTTP server listens on (resolved, for :0).
	Addr string
	// Metrics is the process's Prometheus registry and hooks (nil: SEEDGATE_METRICS=false).
	Metrics *metrics.Metrics
	// MetricsAddr is SEEDGATE_METRICS_LISTEN's bound address ("" without it).
	MetricsAddr string

	log    *slog.Logger
	base   baseservice.Archetype // the one logger and clock of every service
	feed   *events.Feed          // other instances' task changes (PostgreSQL)
	beats  *heartbeat.Service    // this instance's heartbeat; frees dead instances' leases
	unlock func() error          // releases the data dir (SQLite; nil: none held)
	http   *http.Server
	ln     net.Listener
	served chan error
	debug  *http.Server // SEEDGATE_DEBUG_LISTEN (nil: none)
	// metricsSrv serves SEEDGATE_METRICS_LISTEN (nil: none); ops samples the
	// operations page's series (nil: metrics off).
	metricsSrv *http.Server
	ops        *metrics.Ops

	stopTracing func(context.Context) error // flushes the spans not yet exported
	// restoreCatalog puts back the model catalog that was in force before
	// SEEDGATE_CATALOG_FILE's (nil: none installed).
	restoreCatalog func()
}

// OpenStore opens the database named by the config (and migrates it).
func OpenStore(ctx context.Context, c *config.Config, log *slog.Logger) (store.Store, error) {
	st, _, err := openStore(ctx, c, baseservice.New(log), nil)
	return st, err
}

// listenFunc announces the task changes any instance sharing the database
// makes (store/postgres's Listen).
type listenFunc = func(ctx context.Context, ready func(), changed func(id string)) error

// openStore is OpenStore on base's clock and logger, with the database's
// change announcements when it can be shared (nil for SQLite); obs, when
// set, hears of its writes (metrics).
func openStore(ctx context.Context, c *config.Config, base baseservice.Archetype, obs store.Observer) (st store.Store, listen listenFunc, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("%s: the database cannot be opened: %s", c.DatabaseSetting(), oneLine(err))
		}
	}()
	o := store.Options{Now: base.Now, Observer: obs}
	if postgres.IsURL(c.DatabaseURL) {
		st, err := postgres.Open(ctx, c.DatabaseURL, base.Logger, o)
		if err != nil {
			return nil, nil, err
		}
		return st, st.Listen, nil
	}
	st, err = sqlite.Open(ctx, c.SQLitePath(), base.Logger, o)
	return st, nil, err
}

// OpenBlobs opens the file storage the config names: S3-compatible storage
// when SEEDGATE_S3_ENDPOINT is set (checked to be reachable), else the data dir.
func OpenBlobs(ctx context.Context, c *config.Config) (blob.Store, error) {
	if c.S3.Endpoint == "" {
		return disk.New(filepath.Join(c.DataDir, "files"))
	}
	s, err := s3.New(s3.Config{
		Endpoint: c.S3.Endpoint, Bucket: c.S3.Bucket, Region: c.S3.Region,
		AccessKey: c.S3.AccessKey, SecretKey: c.S3.SecretKey, PathStyle: c.S3.PathStyle,
		Prefix: c.S3.Prefix, Downloads: c.S3.Downloads,
	})
	if err != nil {
		return nil, err
	}
	if err := s.Check(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Option changes how Start builds the gateway.
type Option func(*options)

type options struct {
	ln      net.Listener
	tracer  trace.TracerProvider
	version string
	kinds   []upstream.Kind
}

// WithListener serves on ln (already bound) instead of listening on
// Config.Listen.
func WithListener(ln net.Listener) Option { return func(o *options) { o.ln = ln } }

// WithTracerProvider traces on tp instead of the provider the OTEL_*
// environment variables configure (tests: the SDK's in-memory exporter).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(o *options) { o.tracer = tp } }

// WithKinds adds channel kinds to the registered ones (tests: fake
// upstreams), replacing any of the same name.
func WithKinds(k ...upstream.Kind) Option {
	return func(o *options) { o.kinds = append(o.kinds, k...) }
}

// WithVersion names the build in the traces' resource (service.version).
func WithVersion(v string) Option { return func(o *options) { o.version = v } }

// Start opens everything and starts serving; it returns once the listener is
// up. It listens first: without SEEDGATE_PUBLIC_URL the public URL is the
// bound address (a free port, for ":0").
func Start(ctx context.Context, c *config.Config, log *slog.Logger, opts ...Option) (_ *App, err error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	// The model catalog first: everything after (prices, routing, metrics)
	// names models, and a bad file must stop the process before it serves.
	var cat *task.Catalog
	if c.CatalogFile != "" {
		if cat, err = task.LoadCatalogFile(c.CatalogFile); err != nil {
			return nil, err
		}
	}
	// Log lines about a request carry its id, and the trace's ids when traced.
	log = slog.New(tracing.LogHandler(log.Handler(), requestIDAttr))
	a := &App{Config: c, log: log, base: baseservice.New(log), served: make(chan error, 1)}
	if cat != nil {
		a.restoreCatalog = task.Install(cat)
		log.Info("model catalog loaded", "source", cat.Source, "models", len(cat.Models()))
	}
	if a.ln = o.ln; a.ln == nil {
		if a.ln, err = net.Listen("tcp", c.Listen); err != nil {
			return nil, fmt.Errorf("listen %s: %w", c.Listen, err)
		}
	}
	a.Addr = a.ln.Addr().String()
	if !c.PublicURLSet {
		c.PublicURL = config.PublicURLFor(a.Addr)
	}
	defer func() {
		if err != nil {
			a.uninstallCatalog()
			_ = a.ln.Close()
			a.closeStore()
			a.unlockDataDir()
			_ = a.flushTraces(context.Background())
		}
	}()
	if a.base.TracerProvider = o.tracer; o.tracer == nil {
		if a.base.TracerProvider, a.stopTracing, err = tracing.FromEnv(ctx, o.version); err != nil {
			return nil, fmt.Errorf("tracing: %w", err)
		}
	}
	var prices *budget.Prices
	if c.PricesFile != "" {
		if prices, err = budget.Load(c.PricesFile); err != nil {
			return nil, err
		}
	}
	onSQLite := !postgres.IsURL(c.DatabaseURL)
	if onSQLite { // one process per data dir
		if a.unlock, err = lockDataDir(c.DataDir); err != nil {
			return nil, err
		}
	}
	var listen listenFunc
	if c.Metrics {
		a.Metrics = metrics.New(metrics.Options{TenantLabel: c.MetricsTenantLabel})
	}
	if a.Store, listen, err = openStore(ctx, c, a.base, a.Metrics.Store()); err != nil {
		return nil, err
	}
	a.Metrics.CountQueues(a.Store, 0)
	if onSQLite && within(c.DataDir, c.SQLitePath()) {
		// The database is this process's alone, so whoever ran on it before is
		// dead: its leases are void now, not when they end. (A SQLite file
		// elsewhere may be shared: heartbeats free a dead sharer's leases.)
		freed, err := a.Store.TakeOver(ctx)
		if err != nil {
			return nil, err
		}
		if freed > 0 {
			log.Info("took over the work a previous process left unfinished", "leases", freed)
		}
	}
	// Keys, tenants and budgets: static, admin and stored keys.
	keyring := auth.NewKeyring(auth.KeyringConfig{Store: a.Store, Static: c.APIKeys, AdminKey: c.AdminKey,
		DefaultRPM: c.DefaultRPM, DefaultMaxInFlight: c.DefaultMaxInFlight, TTL: c.KeyCacheTTL, Logger: log,
		Now: a.base.Now})
	if open, err := keyring.Open(ctx); err != nil {
		return nil, fmt.Errorf("api keys: %w", err)
	} else if open {
		log.Warn("no API key is configured (SEEDGATE_API_KEYS, SEEDGATE_ADMIN_KEY, seedgate keys create): the gateway is OPEN — anyone who can reach it can submit tasks and read results. "+
			"Web pages cannot drive it through its users' browsers: JSON needs a JSON Content-Type, browsers' cross-origin requests that change something are refused unless SEEDGATE_CORS_ORIGINS allows the origin, "+
			"and the Host header must be one of SEEDGATE_ALLOWED_HOSTS (default: the public URL's host and localhost)",
			"allowed_hosts", hostsLabel(c), "cors_origins", strings.Join(c.CORSOrigins, ","))
		if slices.Contains(c.CORSOrigins, "*") {
			log.Warn("SEEDGATE_CORS_ORIGINS=* on an open gateway: any web page a user of it visits can create tasks and read results through their browser")
		}
	}
	blobs, err := OpenBlobs(ctx, c)
	if err != nil {
		if c.S3.Endpoint != "" {
			return nil, fmt.Errorf("SEEDGATE_S3_ENDPOINT (--s3-endpoint) = %q: %s", c.S3.Endpoint, oneLine(err))
		}
		return nil, fmt.Errorf("SEEDGATE_DATA_DIR (--data-dir) = %q: files cannot be stored: %s", c.DataDir, oneLine(err))
	}
	storage := storageCheck(blobs, filepath.Join(c.DataDir, "tmp")) // of the store itself, not its metrics wrapper
	blobs = a.Metrics.Blobs(blobs)
	if postgres.IsURL(c.DatabaseURL) && c.S3.Endpoint == "" {
		log.Warn("the database can be shared but files are kept in this instance's data dir: with several instances, set SEEDGATE_S3_ENDPOINT so that each can serve every file")
	}
	secret, err := a.Store.Setting(ctx, "url_signing_key", randomHex(32))
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	urls := &service.URLSigner{PublicURL: c.PublicURL, Secret: []byte(secret)}
	resolver, err := media.NewResolver(media.ResolverConfig{
		PublicURL:       c.PublicURL,
		GetFile:         a.Store.GetFile,
		Blobs:           blobs,
		VerifySignature: urls.Valid,
		HTTP:            safehttp.New(safehttp.Options{AllowPrivate: c.AllowPrivate}),
		AssetFile:       assetFile(a.Store),
	})
	if err != nil {
		return nil, err
	}
	workDir := filepath.Join(c.DataDir, "tmp")
	if err := os.MkdirAll(workDir, 0o755); err != nil {
		return nil, fmt.Errorf("SEEDGATE_DATA_DIR (--data-dir) = %q: the work dir cannot be made: %s", c.DataDir, oneLine(err))
	}
	sb := sandbox.New(sandbox.Config{
		QueueDelay: zeroMeansNone(c.SandboxQueueDelay), RunTime: zeroMeansNone(c.SandboxRunTime),
		FFmpegPath: c.FFmpegPath, FFprobePath: c.FFprobePath, WorkDir: workDir, RenderTimeout: c.SandboxRenderTimeout,
		Tasks: a.Store.GetTask,
	}, blobs, resolver, log)
	providers := map[string]provider.Provider{sb.Name(): sb}
	// Upstream channels: models a channel serves run upstream; others are refused.
	up, assets, err := newUpstream(ctx, c, a.Store, resolver, urls, a.base, a.Metrics, o.kinds)
	if err != nil {
		return nil, err
	}
	if up != nil {
		providers[up.Name()] = up
	}
	hub := events.NewHub()
	a.Hub = hub

	// The instance's name: the owner of its leases, and its heartbeat's row.
	host, _ := os.Hostname()
	instance := fmt.Sprintf("%s/%d/%s", host, os.Getpid(), randomHex(4))
	a.Scheduler = scheduler.New(scheduler.Config{Archetype: a.base,
		Store: a.Store, Providers: providers, Hub: hub,
		Owner: instance, Workers: c.Workers, Lease: c.Lease,
		Mirror: newMirror(c, blobs, workDir, a.base, up),
	})
	a.Sweeper = service.NewSweeper(service.SweeperConfig{Archetype: a.base, Store: a.Store, Blobs: blobs,
		Retention: c.ResultRetention})
	a.Service = service.New(service.Config{
		Store: a.Store, Blobs: blobs, Media: resolver, Hub: hub, Providers: providers, URLs: urls,
		Logger: log, Now: a.base.Now, WakeScheduler: a.Scheduler.Wake, MaxUploadBytes: c.MaxUploadBytes, Route: upstreamRoute(up),
		AllowPrivate: c.AllowPrivate, Prices: prices,
		StorageQuota: c.StorageQuota, ResultRetention: c.ResultRetention, WakeSweeper: a.Sweeper.Wake,
		ForgetAssets: assets.Forget,
	})
	a.Webhooks = newWebhooks(c, a.Store, a.Service, hub, instance, a.base, prices)
	if a.Webhooks != nil {
		a.Service.UseWebhooks(a.Webhooks)
	}
	a.ops = a.Metrics.NewOps(metrics.OpsConfig{Usage: a.Store.Usage})
	handler := server.New(server.Config{
		MaxBodyBytes: c.MaxBodyBytes, MaxInflightBodyBytes: c.MaxInflightBodyBytes, Keys: auth.StaticKeys(c.APIKeys), Keyring: keyring, Prices: prices,
		FFmpegPath: c.FFmpegPath, FFprobePath: c.FFprobePath, MaxWait: c.MaxWait, Webhooks: a.Webhooks, SyncWait: c.SyncWait,
		UpstreamCallbacks: a.upstreamCallbacks(up), Metrics: a.Metrics, Ops: a.ops, TracerProvider: a.base.TracerProvider,
		PublicURL: c.PublicURL, AllowedHosts: c.AllowedHosts, CORSOrigins: c.CORSOrigins,
		BodyTimeout: c.BodyTimeout, WriteTimeout: c.WriteTimeout, StorageCheck: storage,
	}, a.Service, a.Store, log)
	a.Server = handler

	if c.DebugListen != "" {
		if a.debug, err = startDebug(c.DebugListen, log); err != nil {
			return nil, err
		}
	}
	if c.MetricsListen != "" && a.Metrics != nil {
		if a.metricsSrv, a.MetricsAddr, err = startMetrics(c.MetricsListen, a.Metrics, log); err != nil {
			return nil, err
		}
	}
	// Every request gets these; the routes that need longer (bodies, waits,
	// streams) move their own deadlines (server's deadlines.go).
	a.http = &http.Server{Handler: handler, ReadHeaderTimeout: c.ReadHeaderTimeout, ReadTimeout: c.ReadTimeout,
		WriteTimeout: c.WriteTimeout, IdleTimeout: c.IdleTimeout,
		ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	a.http.RegisterOnShutdown(handler.StopWaiting) // event streams would hold a graceful shutdown
	a.beats = heartbeat.New(heartbeat.Config{Archetype: a.base, Store: a.Store, ID: instance, Stale: c.HeartbeatTimeout,
		Freed: a.wake})
	a.beats.Start(ctx) // before the first claim
	a.Scheduler.Start(ctx)
	a.Sweeper.Start(ctx)
	if a.ops != nil {
		a.ops.Start(ctx)
	}
	if a.Webhooks != nil {
		a.Webhooks.Start(ctx)
	}
	// Several instances on one database: changes made by the others reach this
	// one's waiters (SSE, Prefer: wait) through the database's notifications.
	if listen != nil {
		a.feed = &events.Feed{Archetype: a.base, Hub: hub, Listen: listen, Get: a.Store.GetTask}
		a.feed.Start(ctx)
	}
	ln := server.LimitConnsPerClient(a.ln, c.MaxConnsPerClient)
	go func() { a.served <- a.http.Serve(ln) }()
	log.Info("seedgate serving", "addr", a.Addr, "public_url", c.PublicURL, "data_dir", c.DataDir, "providers", providersLabel(up))
	return a, nil
}

// Wait blocks until the server stops on its own (an error) or ctx ends.
func (a *App) Wait(ctx context.Context) error {
	select {
	case err := <-a.served:
		if errors.Is(err, http.ErrServerClosed) {
			return nil
		}
		return err
	case <-ctx.Done():
		return nil
	}
}

// Shutdown stops accepting requests, lets running ones and the scheduler's
// steps finish within timeout, and closes the store.
func (a *App) Shutdown(timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	errs := []error{a.http.Shutdown(ctx), a.Scheduler.Stop(ctx), a.Sweeper.Stop(ctx)}
	if a.debug != nil {
		errs = append(errs, a.debug.Close())
	}
	if a.metricsSrv != nil {
		errs = append(errs, a.metricsSrv.Close())
	}
	if a.ops != nil {
		errs = append(errs, a.ops.Stop(ctx))
	}
	if a.Webhooks != nil {
		errs = append(errs, a.Webhooks.Stop(ctx))
	}
	if a.feed != nil {
		errs = append(errs, a.feed.Stop(ctx))
	}
	// Last of the services: what the others still held goes back to the queue.
	leave, cancelLeave := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancelLeave()
	errs = append(errs, a.beats.Stop(leave))
	errs = append(errs, a.closeStore(), a.unlockDataDir(), a.flushTraces(ctx))
	a.uninstallCatalog()
	a.log.Info("seedgate stopped")
	return errors.Join(errs...)
}

// uninstallCatalog puts back the catalog in force before this app's start.
func (a *App) uninstallCatalog() {
	if a.restoreCatalog != nil {
		a.restoreCatalog()
		a.restoreCatalog = nil
	}
}

// wake has the claim loops look for work now (leases of dead instances were freed).
func (a *App) wake() {
	a.Scheduler.Wake()
	if a.Webhooks != nil {
		a.Webhooks.Wake()
	}
}

func (a *App) unlockDataDir() error {
	if a.unlock == nil {
		return nil
	}
	err := a.unlock()
	a.unlock = nil
	return err
}

// flushTraces exports the spans still buffered and stops the exporter.
func (a *App) flushTraces(ctx context.Context) error {
	if a.stopTracing == nil {
		return nil
	}
	err := a.stopTracing(ctx)
	a.stopTracing = nil
	if err != nil {
		return fmt.Errorf("tracing: %w", err)
	}
	return nil
}

// requestIDAttr is the id of the request a log line is about (wire.RequestID).
func requestIDAttr(ctx context.Context) (slog.Attr, bool) {
	id := wire.RequestID(ctx)
	return slog.String("request_id", id), id != ""
}

func (a *App) closeStore() error {
	if a.Store == nil {
		return nil
	}
	err := a.Store.Close()
	a.Store = nil
	return err
}

// zeroMeansNone maps a configured 0 to the sandbox's "none" (it treats 0 as "default").
func zeroMeansNone(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// oneLine is err's message on one line (drivers' messages span several).
func oneLine(err error) string {
	s := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
	return strings.ReplaceAll(s, ":;", ":")
}

func hostsLabel(c *config.Config) string {
	if len(c.AllowedHosts) == 0 {
		if u, err := url.Parse(c.PublicURL); err == nil {
			return "localhost," + u.Hostname()
		}
		return "localhost"
	}
	return strings.Join(c.AllowedHosts, ",")
}

// storageCheck says whether files can be stored: for the data dir, that a
// file can be made where uploads and results go, and in the work dir. (S3
// was checked at start; probing it would cost a request per check.)
func storageCheck(blobs blob.Store, workDir string) func(context.Context) error {
	d, ok := blobs.(*disk.Store)
	dirs := []string{workDir}
	if ok {
		dirs = append(dirs, filepath.Join(d.Root, "uploads"), filepath.Join(d.Root, "results"))
	}
	return func(context.Context) error {
		for _, dir := range dirs {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			f, err := os.CreateTemp(dir, ".ready-*")
			if err != nil {
				return err
			}
			f.Close()
			_ = os.Remove(f.Name())
		}
		return nil
	}
}
