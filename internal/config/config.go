// Package config holds every setting of seedgate in one table: an environment
// variable, its default, its validation, and the flag that overrides it
// (SEEDGATE_DATA_DIR → --data-dir). Nothing else reads the environment.
package config

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Config is the validated configuration of one gateway process.
type Config struct {
	Listen string
	// ListenFD is a listening socket inherited from the parent process (0: none).
	ListenFD    int
	DataDir     string
	DatabaseURL string // "" until Load derives it from DataDir
	// DatabaseDerived says DatabaseURL is the data dir's SQLite file, not a setting.
	DatabaseDerived bool
	// S3 is S3-compatible storage for files (uploads, results); Endpoint "" keeps them in DataDir.
	S3      S3Config
	APIKeys []string
	// Keys, tenants and budgets: the admin key, the price table, the default
	// limits of tenants that set none, and how long looked-up keys are cached.
	AdminKey           string
	PricesFile         string
	CatalogFile        string
	DefaultRPM         int
	DefaultMaxInFlight int
	KeyCacheTTL        time.Duration
	PublicURL          string

	LogLevel  string
	LogFormat string

	Workers int
	Lease   time.Duration
	// HeartbeatTimeout: an instance silent this long is dead and its leases are freed.
	HeartbeatTimeout time.Duration
	ShutdownTimeout  time.Duration
	MaxBodyBytes     int64
	MaxUploadBytes   int64
	// MaxInflightBodyBytes is the budget of request body bytes taken in at once (0: none).
	MaxInflightBodyBytes int64
	AllowPrivate         []netip.Prefix
	// ResultRetention is how long results are kept (0: for ever);
	// StorageQuota the bytes of files a tenant may keep (0: no quota).
	ResultRetention time.Duration
	StorageQuota    int64
	// MaxWait caps "Prefer: wait=N"; WebhookWorkers and WebhookTimeout bound callback delivery.
	MaxWait        time.Duration
	WebhookWorkers int
	WebhookTimeout time.Duration

	FFmpegPath        string
	FFprobePath       string
	SandboxQueueDelay time.Duration
	SandboxRunTime    time.Duration
	// SandboxRenderTimeout caps a sandbox render of up to 5 s at 720p; bigger
	// renders get proportionally more.
	SandboxRenderTimeout time.Duration
	// SyncWait bounds calls that wait for a result (the seedance dialect without
	// callback_url, the responses dialect's streamed query).
	SyncWait time.Duration

	// Upstream channels (provider ark): a channels file and/or the one-channel
	// shortcut. PublicURLSet says SEEDGATE_PUBLIC_URL was given rather than
	// derived, so upstreams can be told to call back there.
	ChannelsFile string
	ArkAPIKeys   []string
	ArkBaseURL   string
	PublicURLSet bool

	// DebugListen serves Go's profiler (/debug/pprof/) on a second address; "" = off.
	DebugListen string

	// Metrics turns the Prometheus metrics (GET /metrics, admin key) and the
	// console's operations page on; MetricsListen serves /metrics without a
	// key on a second address; MetricsTenantLabel labels task series by tenant.
	Metrics            bool
	MetricsListen      string
	MetricsTenantLabel bool

	// The edge: connection timeouts, the per-client connection cap (0: off),
	// the host names the gateway answers to (nil: the public URL's host and
	// localhost) and the origins whose pages may call it (nil: none).
	ReadHeaderTimeout time.Duration
	ReadTimeout       time.Duration
	BodyTimeout       time.Duration
	WriteTimeout      time.Duration
	IdleTimeout       time.Duration
	MaxConnsPerClient int
	AllowedHosts      []string
	CORSOrigins       []string
}

type setting struct {
	env, def, usage string
	set             func(c *Config, v string) error
}

// settings is the one table. Keep it sorted by importance: it is also the --help text.
var settings = []setting{
	{"SEEDGATE_LISTEN", ":8000", "address to listen on", func(c *Config, v string) error {
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("want host:port, e.g. :8000: %w", err)
		}
		c.Listen = v
		return nil
	}},
	{"SEEDGATE_DATA_DIR", "./data", "directory for the SQLite file and stored files", func(c *Config, v string) error {
		if v == "" {
			return errors.New("must not be empty")
		}
		c.DataDir = v
		return nil
	}},
	{"SEEDGATE_DATABASE_URL", "", "database: a SQLite file path or sqlite:// URL (default: seedgate.db in the data dir), or postgres://user:pass@host/db (?search_path=schema, pool_max_conns=N) to share one database between instances", func(c *Config, v string) error {
		c.DatabaseURL = v
		return nil
	}},
	// S3-compatible storage (several instances share files through it).
	{"SEEDGATE_S3_ENDPOINT", "", "store files in S3-compatible storage instead of the data dir: the service URL, e.g. https://s3.us-east-1.amazonaws.com or http://minio:9000", func(c *Config, v string) error {
		c.S3.Endpoint = strings.TrimRight(v, "/")
		return nil
	}},
	{"SEEDGATE_S3_BUCKET", "", "S3 bucket (must exist)", func(c *Config, v string) error {
		c.S3.Bucket = v
		return nil
	}},
	{"SEEDGATE_S3_REGION", "", "S3 region (default: asked from the service)", func(c *Config, v string) error {
		c.S3.Region = v
		return nil
	}},
	{"SEEDGATE_S3_ACCESS_KEY", "", "S3 access key (default: AWS_ACCESS_KEY_ID, ~/.aws/credentials or the instance role)", func(c *Config, v string) error {
		c.S3.AccessKey = v
		return nil
	}},
	{"SEEDGATE_S3_SECRET_KEY", "", "S3 secret key", func(c *Config, v string) error {
		c.S3.SecretKey = v
		return nil
	}},
	{"SEEDGATE_S3_PATH_STYLE", "false", "address the bucket in the URL path (MinIO and most self-hosted servers) instead of the host name", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return errors.New("want true or false")
		}
		c.S3.PathStyle = b
		return nil
	}},
	{"SEEDGATE_S3_PREFIX", "", "prefix for every object key, so one bucket can serve several gateways", func(c *Config, v string) error {
		c.S3.Prefix = v
		return nil
	}},
	{"SEEDGATE_S3_DOWNLOADS", "proxy", "how file downloads are served from S3: proxy (streamed by the gateway) or redirect (302 to a presigned URL)", func(c *Config, v string) error {
		if v != "proxy" && v != "redirect" {
			return fmt.Errorf("want proxy or redirect, got %q", v)
		}
		c.S3.Downloads = v
		return nil
	}},
	{"SEEDGATE_API_KEYS", "", "comma-separated client API keys; empty = open to anyone (warned loudly)", func(c *Config, v string) error {
		c.APIKeys = nil
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.APIKeys = append(c.APIKeys, k)
			}
		}
		return nil
	}},
	// Keys, tenants and budgets (README "Keys, tenants and budgets").
	{"SEEDGATE_ADMIN_KEY", "", "admin key (16+ characters): every scope, including the admin API /admin/v1 (keys, tenants, balances, audit); setting it closes an otherwise open gateway", func(c *Config, v string) error {
		if v != "" && len(v) < 16 {
			return errors.New("must be at least 16 characters")
		}
		c.AdminKey = v
		return nil
	}},
	{"SEEDGATE_PRICES_FILE", "", "YAML or JSON price table (currency, price per million tokens by model, resolution, audio, tier): balances are then kept in micro-units of that currency instead of tokens", func(c *Config, v string) error {
		c.PricesFile = v
		return nil
	}},
	{"SEEDGATE_CATALOG_FILE", "", "YAML or JSON model catalog merged over the built-in one (entries by model id: a new id adds a model, an existing one overrides the values it names); checked at start, `seedgate catalog check FILE` checks it beforehand", func(c *Config, v string) error {
		c.CatalogFile = v
		return nil
	}},
	{"SEEDGATE_DEFAULT_RPM", "0", "requests per minute per API key for tenants that set no limit (0: unlimited)", func(c *Config, v string) error {
		return setInt(&c.DefaultRPM, v, 0, 1000000)
	}},
	{"SEEDGATE_DEFAULT_MAX_IN_FLIGHT", "0", "queued + running tasks per API key for tenants that set no limit (0: unlimited)", func(c *Config, v string) error {
		return setInt(&c.DefaultMaxInFlight, v, 0, 1000000)
	}},
	{"SEEDGATE_KEY_CACHE_TTL", "5s", "how long a looked-up API key is trusted before the store is asked again: a revoked key stops working within it on every instance", func(c *Config, v string) error {
		return setDuration(&c.KeyCacheTTL, v, 100*time.Millisecond, 5*time.Minute)
	}},
	{"SEEDGATE_PUBLIC_URL", "", "base URL clients and upstreams reach the gateway at (default: http://localhost:<port>); when set, Ark calls back here", func(c *Config, v string) error {
		if v == "" {
			c.PublicURL, c.PublicURLSet = "", false
			return nil
		}
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("want an absolute http(s) URL, got %q", v)
		}
		c.PublicURL = strings.TrimRight(v, "/")
		c.PublicURLSet = true
		return nil
	}},
	{"SEEDGATE_LOG_LEVEL", "info", "debug, info, warn or error", func(c *Config, v string) error {
		switch v {
		case "debug", "info", "warn", "error":
			c.LogLevel = v
			return nil
		}
		return fmt.Errorf("want debug, info, warn or error, got %q", v)
	}},
	{"SEEDGATE_LOG_FORMAT", "text", "text or json", func(c *Config, v string) error {
		if v != "text" && v != "json" {
			return fmt.Errorf("want text or json, got %q", v)
		}
		c.LogFormat = v
		return nil
	}},
	{"SEEDGATE_WORKERS", "4", "tasks the scheduler works on at once (renders, upstream calls)", func(c *Config, v string) error {
		return setInt(&c.Workers, v, 1, 1024)
	}},
	{"SEEDGATE_LEASE", "30s", "how long a claimed task stays with its instance unrenewed; renewed every third of it while work runs (a dead instance's leases are freed sooner: SEEDGATE_HEARTBEAT_TIMEOUT)", func(c *Config, v string) error {
		return setDuration(&c.Lease, v, 5*time.Second, time.Hour)
	}},
	{"SEEDGATE_HEARTBEAT_TIMEOUT", "10s", "instances beat into the database every quarter of this; one silent this long is dead and the work it held moves on at once, whatever SEEDGATE_LEASE says", func(c *Config, v string) error {
		return setDuration(&c.HeartbeatTimeout, v, 2*time.Second, 10*time.Minute)
	}},
	{"SEEDGATE_SHUTDOWN_TIMEOUT", "30s", "how long SIGTERM waits for requests and running work", func(c *Config, v string) error {
		return setDuration(&c.ShutdownTimeout, v, 0, 10*time.Minute)
	}},
	// The edge (README "Security"): how long a connection may take, and who may call.
	{"SEEDGATE_READ_HEADER_TIMEOUT", "10s", "how long a request's headers may take to arrive", func(c *Config, v string) error {
		return setDuration(&c.ReadHeaderTimeout, v, time.Second, 10*time.Minute)
	}},
	{"SEEDGATE_READ_TIMEOUT", "30s", "how long a request (headers and body) may take to arrive; an authenticated request's body gets SEEDGATE_BODY_TIMEOUT instead, and a refused one is answered without reading its body", func(c *Config, v string) error {
		return setDuration(&c.ReadTimeout, v, time.Second, time.Hour)
	}},
	{"SEEDGATE_BODY_TIMEOUT", "10m", "how long an authenticated request's body (an upload, a create with data URLs) may take to arrive", func(c *Config, v string) error {
		return setDuration(&c.BodyTimeout, v, time.Second, 24*time.Hour)
	}},
	{"SEEDGATE_WRITE_TIMEOUT", "60s", "how long an answer may take to be written; waits (Prefer: wait, SEEDGATE_SYNC_WAIT) add their length, and streams (events, file downloads) may run while each write takes less", func(c *Config, v string) error {
		return setDuration(&c.WriteTimeout, v, time.Second, time.Hour)
	}},
	{"SEEDGATE_IDLE_TIMEOUT", "2m", "how long a kept-alive connection may wait for its next request", func(c *Config, v string) error {
		return setDuration(&c.IdleTimeout, v, time.Second, time.Hour)
	}},
	{"SEEDGATE_MAX_CONNS_PER_CLIENT", "0", "connections one client address may hold at once; more are answered 503 (0: no limit; behind a load balancer or proxy every client shares its address)", func(c *Config, v string) error {
		return setInt(&c.MaxConnsPerClient, v, 0, 1000000)
	}},
	{"SEEDGATE_ALLOWED_HOSTS", "", "comma-separated host names the gateway answers to (the Host header; *.example.com for subdomains, * for any), against DNS rebinding; IP addresses are always accepted (default: the public URL's host and localhost)", func(c *Config, v string) error {
		c.AllowedHosts = nil
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h == "" {
				continue
			}
			if strings.ContainsAny(h, "/:@ ") {
				return fmt.Errorf("want host names without scheme or port, got %q", h)
			}
			c.AllowedHosts = append(c.AllowedHosts, h)
		}
		return nil
	}},
	{"SEEDGATE_CORS_ORIGINS", "", "comma-separated origins (https://app.example.com) whose web pages may call the gateway from a browser, or * for any (only with API keys); empty: none but the gateway's own pages", func(c *Config, v string) error {
		c.CORSOrigins = nil
		for _, o := range strings.Split(v, ",") {
			if o = strings.TrimRight(strings.TrimSpace(o), "/"); o == "" {
				continue
			}
			if o != "*" {
				u, err := url.Parse(o)
				if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
					return fmt.Errorf("want origins like https://app.example.com, got %q", o)
				}
			}
			c.CORSOrigins = append(c.CORSOrigins, o)
		}
		return nil
	}},
	{"SEEDGATE_MAX_BODY_BYTES", "67108864", "largest JSON request body (the upstream allows 64 MiB)", func(c *Config, v string) error {
		return setInt64(&c.MaxBodyBytes, v, 1024, 1<<30)
	}},
	{"SEEDGATE_MAX_UPLOAD_BYTES", "209715200", "largest uploaded file", func(c *Config, v string) error {
		return setInt64(&c.MaxUploadBytes, v, 1024, 1<<34)
	}},
	{"SEEDGATE_RESULT_RETENTION", "", "how long a result (video, last frame, thumbnail) is kept after it was made, e.g. 720h; then its content is removed and its URL answers that it expired (empty: kept until its task is deleted)", func(c *Config, v string) error {
		if v == "" {
			c.ResultRetention = 0
			return nil
		}
		return setDuration(&c.ResultRetention, v, time.Minute, 100*365*24*time.Hour)
	}},
	{"SEEDGATE_STORAGE_QUOTA", "0", "bytes of files (uploads and results) a tenant may keep unless its own quota (admin API) says otherwise; past it uploads answer 413 and new tasks 402 (0: no quota)", func(c *Config, v string) error {
		return setInt64(&c.StorageQuota, v, 0, 1<<60)
	}},
	{"SEEDGATE_MAX_INFLIGHT_BODY_BYTES", "268435456", "request body bytes taken in at once, counted by Content-Length; past it a request waits up to 10 s, then gets 503 with Retry-After (0: no limit)", func(c *Config, v string) error {
		if v == "0" {
			c.MaxInflightBodyBytes = 0
			return nil
		}
		return setInt64(&c.MaxInflightBodyBytes, v, 1<<20, 1<<40)
	}},
	{"SEEDGATE_ALLOW_PRIVATE_URLS", "", "comma-separated CIDRs that user-supplied URLs may reach (default: only public addresses)", func(c *Config, v string) error {
		c.AllowPrivate = nil
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			p, err := netip.ParsePrefix(s)
			if err != nil {
				return fmt.Errorf("want CIDRs like 10.0.0.0/8: %w", err)
			}
			c.AllowPrivate = append(c.AllowPrivate, p)
		}
		return nil
	}},
	{"SEEDGATE_MAX_WAIT", "60s", `longest hold of a "Prefer: wait=N" request (larger N are capped)`, func(c *Config, v string) error {
		return setDuration(&c.MaxWait, v, time.Second, 10*time.Minute)
	}},
	{"SEEDGATE_WEBHOOK_WORKERS", "8", "callbacks delivered at once (at most 2 to one receiver, i.e. scheme, host and port; at most half of them, and at least 3, for one tenant)", func(c *Config, v string) error {
		return setInt(&c.WebhookWorkers, v, 1, 256)
	}},
	{"SEEDGATE_WEBHOOK_TIMEOUT", "10s", "how long one callback attempt may take before it counts as failed", func(c *Config, v string) error {
		return setDuration(&c.WebhookTimeout, v, time.Second, 2*time.Minute)
	}},
	{"SEEDGATE_FFMPEG", "ffmpeg", "ffmpeg binary (the sandbox renders with it)", func(c *Config, v string) error {
		c.FFmpegPath = v
		return nil
	}},
	{"SEEDGATE_FFPROBE", "ffprobe", "ffprobe binary", func(c *Config, v string) error {
		c.FFprobePath = v
		return nil
	}},
	{"SEEDGATE_SANDBOX_QUEUE_DELAY", "1s", "sandbox: how long a task stays queued", func(c *Config, v string) error {
		return setDuration(&c.SandboxQueueDelay, v, 0, time.Hour)
	}},
	{"SEEDGATE_SANDBOX_RUN_TIME", "3s", "sandbox: how long a task runs before it renders", func(c *Config, v string) error {
		return setDuration(&c.SandboxRunTime, v, 0, time.Hour)
	}},
	{"SEEDGATE_SANDBOX_RENDER_TIMEOUT", "2m", "sandbox: longest a render of up to 5 s at 720p may take (bigger ones get proportionally more); past it ffmpeg is killed and the task fails with RenderTimeout", func(c *Config, v string) error {
		return setDuration(&c.SandboxRenderTimeout, v, time.Second, 24*time.Hour)
	}},
	// Upstream channels: real Seedance through Volcengine Ark / BytePlus ModelArk.
	{"SEEDGATE_CHANNELS_FILE", "", "YAML or JSON file of upstream channels (keys, models, limits; see README \"Real upstreams\"); models no channel serves are refused", func(c *Config, v string) error {
		c.ChannelsFile = v
		return nil
	}},
	{"SEEDGATE_ARK_API_KEY", "", "shortcut for one channel: comma-separated Ark API keys serving every model", func(c *Config, v string) error {
		c.ArkAPIKeys = nil
		for _, k := range strings.Split(v, ",") {
			if k = strings.TrimSpace(k); k != "" {
				c.ArkAPIKeys = append(c.ArkAPIKeys, k)
			}
		}
		return nil
	}},
	{"SEEDGATE_ARK_BASE_URL", "https://ark.cn-beijing.volces.com/api/v3", "base URL of the SEEDGATE_ARK_API_KEY channel (BytePlus: https://ark.ap-southeast.bytepluses.com/api/v3)", func(c *Config, v string) error {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("want an absolute http(s) URL, got %q", v)
		}
		c.ArkBaseURL = strings.TrimRight(v, "/")
		return nil
	}},
	{"SEEDGATE_SYNC_WAIT", "5m", "how long calls that wait for the result (seedance without callback_url, responses stream) wait before answering with the current status", func(c *Config, v string) error {
		return setDuration(&c.SyncWait, v, 0, time.Hour)
	}},
	{"SEEDGATE_LISTEN_FD", "", "file descriptor of a listening socket handed down by the parent process (3 for the first inherited file); replaces SEEDGATE_LISTEN", func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 3 {
			return fmt.Errorf("want a descriptor number of 3 or more, got %q", v)
		}
		c.ListenFD = n
		return nil
	}},
	{"SEEDGATE_DEBUG_LISTEN", "", "address of a second listener serving Go's profiler at /debug/pprof/ (keep it on loopback); empty: none", func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("want host:port, got %q", v)
		}
		c.DebugListen = v
		return nil
	}},
	{"SEEDGATE_METRICS", "true", "Prometheus metrics at /metrics (admin key) and the console's operations page; false turns both off", func(c *Config, v string) error {
		return setBool(&c.Metrics, v)
	}},
	{"SEEDGATE_METRICS_LISTEN", "", "address of a second listener serving /metrics WITHOUT a key, for a private network (e.g. 127.0.0.1:9464); empty: none", func(c *Config, v string) error {
		if v == "" {
			return nil
		}
		if _, _, err := net.SplitHostPort(v); err != nil {
			return fmt.Errorf("want host:port, got %q", v)
		}
		c.MetricsListen = v
		return nil
	}},
	{"SEEDGATE_METRICS_TENANT_LABEL", "false", "label the task and ledger metrics by tenant (one series per tenant: only with a bounded number of tenants)", func(c *Config, v string) error {
		return setBool(&c.MetricsTenantLabel, v)
	}},
}

func setBool(dst *bool, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return errors.New("want true or false")
	}
	*dst = b
	return nil
}

// Load builds the Config from the environment (getenv) and then the command-line
// args, which override it. It returns flag.ErrHelp after writing help to out.
func Load(name string, args []string, getenv func(string) string, out io.Writer) (*Config, error) {
	c := &Config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	flagValues := map[string]*string{}
	for _, s := range settings {
		flagValues[s.env] = fs.String(FlagName(s.env), "", "")
	}
	fs.Usage = func() { Usage(out, name) }
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	var errs []error
	for _, s := range settings {
		v := s.def
		if e := getenv(s.env); e != "" {
			v = e
		}
		if given[FlagName(s.env)] {
			v = *flagValues[s.env]
		}
		if err := s.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s (--%s) = %q: %w", s.env, FlagName(s.env), v, err))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	c.derive()
	if c.S3.Endpoint != "" && c.S3.Bucket == "" {
		return nil, errors.New("SEEDGATE_S3_BUCKET (--s3-bucket) must be set with SEEDGATE_S3_ENDPOINT")
	}
	return c, nil
}

// S3Config is the SEEDGATE_S3_* settings.
type S3Config struct {
	Endpoint, Bucket, Region, AccessKey, SecretKey, Prefix string
	PathStyle                                              bool
	Downloads                                              string // proxy | redirect
}

// derive fills settings whose defaults depend on others.
func (c *Config) derive() {
	if c.DatabaseURL == "" {
		c.DatabaseURL = filepath.Join(c.DataDir, "seedgate.db")
		c.DatabaseDerived = true
	}
	if c.PublicURL == "" {
		c.PublicURL = PublicURLFor(c.Listen)
	}
}

// PublicURLFor is the public URL that serving on addr implies when
// SEEDGATE_PUBLIC_URL is not set (a wildcard host reads as localhost). The
// gateway recomputes it from the address it actually bound (port 0).
func PublicURLFor(addr string) string {
	host, port, _ := net.SplitHostPort(addr)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// SQLitePath returns the SQLite file named by DatabaseURL, or "" if it names another engine.
func (c *Config) SQLitePath() string {
	u := c.DatabaseURL
	switch {
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return ""
	case strings.HasPrefix(u, "sqlite://"):
		return strings.TrimPrefix(u, "sqlite://")
	case strings.HasPrefix(u, "file:"):
		return strings.TrimPrefix(u, "file:")
	}
	return u
}

// FlagName turns SEEDGATE_DATA_DIR into data-dir.
func FlagName(env string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimPrefix(env, "SEEDGATE_")), "_", "-")
}

// Usage writes the settings table: every variable, its flag, default and meaning.
func Usage(out io.Writer, name string) {
	fmt.Fprintf(out, "Usage: seedgate %s [flags]\n\nEvery setting is an environment variable; the flag beside it overrides it.\n\n", name)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tFLAG\tDEFAULT\tMEANING")
	for _, s := range settings {
		def := s.def
		if def == "" {
			def = "-"
		}
		fmt.Fprintf(tw, "%s\t--%s\t%s\t%s\n", s.env, FlagName(s.env), def, s.usage)
	}
	tw.Flush()
}

func setInt(dst *int, v string, min, max int) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return fmt.Errorf("want an integer in [%d, %d]", min, max)
	}
	*dst = n
	return nil
}

func setInt64(dst *int64, v string, min, max int64) error {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < min || n > max {
		return fmt.Errorf("want an integer in [%d, %d]", min, max)
	}
	*dst = n
	return nil
}

func setDuration(dst *time.Duration, v string, min, max time.Duration) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < min || d > max {
		return fmt.Errorf("want a duration like 30s in [%s, %s]", min, max)
	}
	*dst = d
	return nil
}

// DatabaseSetting names the setting the database comes from, with its value
// (a URL's password hidden), for errors about opening it.
func (c *Config) DatabaseSetting() string {
	if c.DatabaseDerived {
		return fmt.Sprintf("SEEDGATE_DATA_DIR (--data-dir) = %q", c.DataDir)
	}
	v := c.DatabaseURL
	if u, err := url.Parse(v); err == nil && u.User != nil {
		v = u.Redacted()
	}
	return fmt.Sprintf("SEEDGATE_DATABASE_URL (--database-url) = %q", v)
}
