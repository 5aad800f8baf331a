package server

import (
	"net/http"

	"github.com/seedgate/seedgate/internal/admin"
	"github.com/seedgate/seedgate/internal/console"
	"github.com/seedgate/seedgate/internal/dialect/ark"
	"github.com/seedgate/seedgate/internal/dialect/jobs"
	"github.com/seedgate/seedgate/internal/dialect/openai"
	"github.com/seedgate/seedgate/internal/dialect/openrouter"
	"github.com/seedgate/seedgate/internal/dialect/responses"
	"github.com/seedgate/seedgate/internal/dialect/seedance"
	"github.com/seedgate/seedgate/internal/dialect/videos"
	"github.com/seedgate/seedgate/internal/tracing"
)

// routes is every route of the gateway, in one place: the handler and the
// patterns it registered. It builds handlers and reads the server's state,
// never changes it (New makes what routes use, and keeps what it returns).
func (s *Server) routes() (http.Handler, []string) {
	mux := newRouteMux(s.cfg.Metrics)

	// Health: no auth, for load balancers and orchestrators.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)

	// jobs: the native API and files.
	j := jobs.New(s.svc, jobs.Options{MaxBodyBytes: s.cfg.MaxBodyBytes})
	mux.Handle("POST /v1/jobs", s.authed(j, s.createThenWait(s.idempotent(j, j.Create), j.Get)))
	mux.Handle("GET /v1/jobs", s.authed(j, j.List))
	mux.Handle("GET /v1/jobs/{id}", s.authed(j, s.waitThenGet(j.Get)))
	mux.Handle("POST /v1/jobs/{id}/cancel", s.authed(j, j.Cancel))
	mux.Handle("POST /v1/files/upload", s.authed(j, j.Upload))
	mux.Handle("GET /v1/files/{id}", s.authed(j, j.FileInfo))
	mux.HandleFunc("GET /v1/files/{id}/content", s.streaming(func(w http.ResponseWriter, r *http.Request) {
		j.Content(w, r, s.authenticate) // signed URLs need no key
	}))
	// The asset library: files requests name as asset://<id>, copied into
	// upstream accounts' asset libraries when a channel has OpenAPI keys.
	mux.Handle("POST /v1/assets", s.authed(j, s.idempotent(j, j.CreateAsset)))
	mux.Handle("GET /v1/assets", s.authed(j, j.ListAssets))
	mux.Handle("GET /v1/assets/{id}", s.authed(j, j.GetAsset))
	mux.Handle("DELETE /v1/assets/{id}", s.authed(j, j.DeleteAsset))
	mux.Handle("GET /v1/asset-groups", s.authed(j, j.AssetGroups))

	// Progress, callbacks and safety: job events (SSE), webhook deliveries and
	// the webhook signing secret. Every create route takes Idempotency-Key (s.idempotent);
	// the jobs, ark and openai create and get routes take "Prefer: wait=N" (s.createThenWait,
	// s.waitThenGet).
	mux.Handle("GET /v1/jobs/{id}/events", s.authed(j, s.streaming(s.interruptible(j.Events))))
	mux.Handle("GET /v1/jobs/{id}/deliveries", s.authed(j, j.Deliveries))
	mux.Handle("POST /v1/jobs/{id}/deliveries/{delivery_id}/retry", s.authed(j, j.RetryDelivery))
	mux.Handle("GET /v1/webhooks/secret", s.authed(j, j.WebhookSecret))
	mux.Handle("POST /v1/webhooks/secret/rotate", s.authed(j, j.RotateWebhookSecret))

	// People's interfaces: the model catalog for clients and the console's playground.
	mux.Handle("GET /v1/models", s.authed(j, j.Models))
	mux.Handle("GET /v1/models/{id}", s.authed(j, j.Model))
	// … the OpenAPI document of the native API, and the web console: its page at exactly
	// "/" and its assets under /console/, so it never shadows an API path or the JSON 404.
	mux.HandleFunc("GET /openapi.json", jobs.OpenAPI)
	con := console.New()
	mux.HandleFunc("GET /{$}", con.Index)
	mux.HandleFunc("GET /console/", con.Asset)

	// Client dialects: the official Ark API and the reseller dialects, over the same tasks.
	a := ark.New(s.svc, ark.Options{MaxBodyBytes: s.cfg.MaxBodyBytes})
	for _, prefix := range []string{"/api/v3", "/byteplus/v3"} {
		mux.Handle("POST "+prefix+"/contents/generations/tasks", s.authed(a, s.createThenWait(s.idempotent(a, a.Create), a.Get)))
		mux.Handle("GET "+prefix+"/contents/generations/tasks", s.authed(a, a.List))
		mux.Handle("GET "+prefix+"/contents/generations/tasks/{id}", s.authed(a, s.waitThenGet(a.Get)))
		mux.Handle("DELETE "+prefix+"/contents/generations/tasks/{id}", s.authed(a, a.Delete))
	}
	v := videos.New(s.svc, videos.Options{MaxBodyBytes: s.cfg.MaxBodyBytes})
	mux.Handle("POST /v1/videos/generations", s.authed(v, s.idempotent(v, v.Create)))
	// GET /v1/videos/generations/{task_id} (videos) and GET /v1/videos/{id}/content
	// (openai) overlap as patterns: one route dispatches on the path.
	videoStatus := s.authed(v, v.Get)
	o := openai.New(s.svc, openai.Options{MaxBodyBytes: s.cfg.MaxBodyBytes})
	videoContent := s.authed(o, s.streaming(o.Content))
	mux.HandleFunc("GET /v1/videos/{id}/{sub}", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.PathValue("id") == "generations":
			r.SetPathValue("task_id", r.PathValue("sub"))
			videoStatus.ServeHTTP(w, r)
		case r.PathValue("sub") == "content":
			videoContent.ServeHTTP(w, r)
		default:
			o.WriteError(w, r, notFound(r))
		}
	})
	mux.Handle("POST /v1/videos", s.authed(o, s.createThenWait(s.idempotent(o, o.Create), o.Get)))
	mux.Handle("GET /v1/videos", s.authed(o, o.List))
	mux.Handle("GET /v1/videos/{id}", s.authed(o, s.waitThenGet(o.Get)))
	mux.Handle("DELETE /v1/videos/{id}", s.authed(o, o.Delete))
	mux.Handle("GET /v1/tasks/{task_id}", s.authed(v, v.Get))
	sd := seedance.New(s.svc, seedance.Options{MaxBodyBytes: s.cfg.MaxBodyBytes, Wait: s.cfg.SyncWait})
	mux.Handle("POST /v1/seedance/videos", s.authed(sd, s.holding(s.cfg.SyncWait, s.idempotent(sd, sd.Create))))
	mux.Handle("POST /v1/seedance/tasks", s.authed(sd, sd.Retrieve))
	mux.Handle("GET /v1/seedance/tasks/{id}", s.authed(sd, sd.Get))
	// OpenRouter's video API (its SDK's serverURL is the gateway's /api/v1).
	or := openrouter.New(s.svc, openrouter.Options{MaxBodyBytes: s.cfg.MaxBodyBytes, PublicURL: s.cfg.PublicURL, Prices: s.cfg.Prices})
	mux.Handle("POST /api/v1/videos", s.authed(or, s.idempotent(or, or.Create)))
	mux.Handle("GET /api/v1/videos/models", s.authed(or, or.Models))
	mux.Handle("GET /api/v1/videos/{id}", s.authed(or, s.waitThenGet(or.Get)))
	mux.Handle("GET /api/v1/videos/{id}/content", s.authed(or, s.streaming(or.Content)))
	rs := responses.New(s.svc, responses.Options{MaxBodyBytes: s.cfg.MaxBodyBytes, Wait: s.cfg.SyncWait})
	mux.Handle("POST /v1/responses", s.authed(rs, s.holding(s.cfg.SyncWait, s.idempotentWhen(rs, rs.Handle, responsesSubmit))))

	// Keys, tenants and budgets: the caller's usage, and the admin API (admin
	// scope, see requiredScope: a tenant's admin reaches its own tenant only,
	// global_admin every tenant; every change is recorded in the audit log).
	adm := errorWriter(admin.WriteError)
	ad := &admin.Handler{Store: s.store, Webhooks: s.cfg.Webhooks, Keyring: s.cfg.Keyring, Prices: s.cfg.Prices,
		WriteError: admin.WriteError, Logger: s.log}
	mux.Handle("GET /v1/usage", s.authed(j, ad.MyUsage))
	mux.Handle("GET /admin/v1/me", s.authed(adm, ad.Me))
	mux.Handle("GET /admin/v1/keys", s.authed(adm, ad.ListKeys))
	mux.Handle("POST /admin/v1/keys", s.authed(adm, ad.Audited("keys.create", ad.CreateKey)))
	mux.Handle("GET /admin/v1/keys/{id}", s.authed(adm, ad.GetKey))
	mux.Handle("DELETE /admin/v1/keys/{id}", s.authed(adm, ad.Audited("keys.revoke", ad.RevokeKey)))
	mux.Handle("POST /admin/v1/keys/{id}/revoke", s.authed(adm, ad.Audited("keys.revoke", ad.RevokeKey)))
	mux.Handle("PUT /admin/v1/keys/{id}/limits", s.authed(adm, ad.Audited("keys.limits", ad.SetKeyLimits)))
	mux.Handle("GET /admin/v1/keys/{id}/webhook-secret", s.authed(adm, ad.KeySecret))
	mux.Handle("POST /admin/v1/keys/{id}/webhook-secret/rotate", s.authed(adm, ad.Audited("keys.rotate_webhook_secret", ad.RotateKeySecret)))
	mux.Handle("GET /admin/v1/tenants", s.authed(adm, ad.ListTenants))
	mux.Handle("GET /admin/v1/tenants/{id}", s.authed(adm, ad.GetTenant))
	mux.Handle("PUT /admin/v1/tenants/{id}/limits", s.authed(adm, ad.Audited("tenants.limits", ad.SetTenantLimits)))
	mux.Handle("PUT /admin/v1/tenants/{id}/storage", s.authed(adm, ad.Audited("tenants.storage", ad.SetTenantStorage)))
	mux.Handle("GET /admin/v1/tenants/{id}/balance", s.authed(adm, ad.GetTenant))
	mux.Handle("POST /admin/v1/tenants/{id}/balance", s.authed(adm, ad.Audited("tenants.balance", ad.AdjustBalance)))
	mux.Handle("GET /admin/v1/ledger", s.authed(adm, ad.Ledger))
	mux.Handle("GET /admin/v1/usage", s.authed(adm, ad.Usage))
	mux.Handle("GET /admin/v1/audit", s.authed(adm, ad.Audit))
	mux.Handle("GET /admin/v1/prices", s.authed(adm, ad.PriceTable))

	// Operators: Prometheus metrics (admin scope; SEEDGATE_METRICS_LISTEN serves them
	// without a key on a private address too) and the console's operations page's data.
	if s.cfg.Metrics != nil {
		mux.Handle("GET /metrics", s.authed(adm, s.cfg.Metrics.Handler().ServeHTTP))
		mux.Handle("GET /admin/v1/ops", s.authed(adm, s.cfg.Ops.ServeHTTP))
	}

	// Upstream channels: their callbacks, by channel kind (provider/upstream
	// CallbackPath). No API key: the URL carries an HMAC of the task id, and a
	// callback only makes the task's next status check happen now.
	if s.cfg.UpstreamCallbacks != nil {
		mux.Handle("POST /upstream/{kind}/callbacks/{id}/{token}", s.cfg.UpstreamCallbacks)
	}

	// Anything else: a JSON 404 rather than the mux's text one.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		j.WriteError(w, r, notFound(r))
	})
	// The edge (edge.go): the Host must name the gateway; CORS for the
	// configured origins only.
	return s.middleware(s.checkHost(s.withCORS(tracing.Handler(s.cfg.TracerProvider, mux, annotateSpan)))), *mux.patterns
}
