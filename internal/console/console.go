// Package console is the gateway's web console: a small single-page app in
// plain HTML, CSS and JavaScript, embedded in the binary (no build step, no
// CDN). It uses the public API (/v1/jobs, /v1/files, /v1/models) and, for
// admin keys, the admin API (/admin/v1, the operations page's /admin/v1/ops,
// charted with the vendored uPlot), with the API key the person signs in with
// kept in the tab's sessionStorage.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed assets
var assets embed.FS

// Console serves GET / (the app's page) and GET /console/… (its assets).
type Console struct {
	index   []byte
	version string
	files   fs.FS
}

// New prepares the console. The assets' hash versions their URLs, so browsers
// may cache them for good and still pick up a new build at once.
func New() *Console {
	files, err := fs.Sub(assets, "assets")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	h := sha256.New()
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(files, p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	version := hex.EncodeToString(h.Sum(nil))[:12]
	page, err := fs.ReadFile(files, "index.html")
	if err != nil {
		panic(err)
	}
	return &Console{index: bytes.ReplaceAll(page, []byte("{{VERSION}}"), []byte(version)), version: version, files: files}
}

// securityHeaders: the console runs only its own script; media and images may
// come from the gateway's public URL, which can differ from the console's origin.
func securityHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "+
		"img-src 'self' data: blob: http: https:; media-src 'self' blob: http: https:; connect-src 'self'; "+
		"frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("X-Frame-Options", "DENY")
}

// Index is GET /: the app's page.
func (c *Console) Index(w http.ResponseWriter, r *http.Request) {
	securityHeaders(w)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(c.index)
}

// Asset is GET /console/{file}: a static file. Unknown names are 404.
func (c *Console) Asset(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/console/")
	if name == "index.html" || name == "" || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	b, err := fs.ReadFile(c.files, name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	securityHeaders(w)
	switch path.Ext(name) {
	case ".js":
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	case ".css":
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
	case ".svg":
		w.Header().Set("Content-Type", "image/svg+xml")
	}
	if r.URL.Query().Get("v") == c.version {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", `"`+c.version+`"`)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b)) // no Last-Modified: the ETag says it
}
