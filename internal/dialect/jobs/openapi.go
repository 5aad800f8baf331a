package jobs

import (
	_ "embed"
	"net/http"
	"strconv"
)

// openAPIDoc is the OpenAPI 3.1 document of this API (the jobs, files and
// models routes), checked against routes.go and these types by tests.
//
//go:embed openapi.json
var openAPIDoc []byte

// OpenAPI is GET /openapi.json.
func OpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(openAPIDoc)))
	w.Header().Set("Access-Control-Allow-Origin", "*") // API explorers load it from elsewhere
	_, _ = w.Write(openAPIDoc)
}
