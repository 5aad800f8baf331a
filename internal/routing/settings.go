package routing

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/seedgate/seedgate/internal/task"
)

// Upstream hosts of the Ark API (Volcengine Ark and BytePlus ModelArk).
const (
	VolcengineBaseURL = "https://ark.cn-beijing.volces.com/api/v3"
	BytePlusBaseURL   = "https://ark.ap-southeast.bytepluses.com/api/v3"
)

// Flavors name which of the catalog's two upstream model ids a channel uses.
const (
	FlavorVolcengine = "volcengine"
	FlavorBytePlus   = "byteplus"
)

// MaxBatchSize bounds checks.batch_size: the most task ids one list call of
// the upstream takes.
const MaxBatchSize = 500

// Settings is the channels file (SEEDGATE_CHANNELS_FILE), YAML or JSON:
//
//	checks:                  # optional: status checks
//	  min_interval: 2s       # never check a task more often
//	  max_interval: 5m       # never leave a task unchecked longer
//	  expected_time: 90s     # starting estimate of a generation (default: per model, learned)
//	  reconcile_after: 5s    # quiet time before an unanswered create is declared absent
//	channels:
//	  - name: volc-main
//	    base_url: https://ark.cn-beijing.volces.com/api/v3
//	    keys: [sk-aaa, sk-bbb]
//	    models:              # a list of catalog names, or a map name → upstream id / ep- endpoint
//	      seedance-1-0-pro: ""
//	      seedance-1-5-pro: ep-20250101000000-abcde
//	    priority: 10         # higher first
//	    weight: 3            # among channels of equal priority
//	    concurrency: 10      # tasks in flight per key and model (default: the model's Ark limit)
//	    rpm: 600             # creates per minute per key and model (default: the model's Ark limit)
//	    timeout: 60s         # per create call
type Settings struct {
	Checks   CheckSettings `yaml:"checks"`
	Channels []Channel     `yaml:"channels"`
}

// CheckSettings tune status checks. Zero values mean the defaults.
type CheckSettings struct {
	MinInterval time.Duration `yaml:"min_interval"`
	MaxInterval time.Duration `yaml:"max_interval"`
	// ExpectedTime replaces the per-model starting estimate of how long a task
	// takes from create to result (observed times still refine it).
	ExpectedTime time.Duration `yaml:"expected_time"`
	// ReconcileAfter is how long after an unanswered create the upstream must
	// have been quiet before the gateway concludes no task was created.
	ReconcileAfter time.Duration `yaml:"reconcile_after"`
	// BatchSize is how many task ids one list call asks for (1–500, default 500).
	BatchSize int `yaml:"batch_size"`
}

// Channel is one upstream account group: a base URL, its keys, what it
// serves, its place in the choice (priority, weight) and its limits.
// Everything here is about routing; what a channel speaks is the provider's
// business. A channel of another upstream kind gets a kind field naming the
// provider that uses it (each provider then routes over its own channels), a
// price table, and health next to its keys' cool-downs (Router's keyState).
type Channel struct {
	Name string `yaml:"name"`
	// Kind is the protocol the channel speaks (Kinds; default ark).
	Kind     string `yaml:"kind"`
	BaseURL  string `yaml:"base_url"`
	Flavor   string `yaml:"flavor"` // volcengine | byteplus; default from the base URL's host
	Keys     []string
	Models   ModelRoutes   `yaml:"models"`
	Weight   int           `yaml:"weight"`
	Priority int           `yaml:"priority"`
	Timeout  time.Duration `yaml:"timeout"`
	// Concurrency and RPM are per key and model, as Ark counts them; 0 means
	// the model's Ark limit from the catalog.
	Concurrency int `yaml:"concurrency"`
	RPM         int `yaml:"rpm"`
	// AccessKeyID and SecretAccessKey, when set, are the account's Volcengine
	// OpenAPI keys: assets are copied into its asset library
	// (provider/assetmirror). OpenAPIURL defaults to open.volcengineapi.com.
	AccessKeyID     string `yaml:"access_key_id"`
	SecretAccessKey string `yaml:"secret_access_key"`
	OpenAPIURL      string `yaml:"openapi_url"`

	keys   []*Key
	routes map[string]string // catalog model id → upstream model or endpoint id
}

// Key is one API key of a channel. ID is stored on tasks; Secret never is.
type Key struct {
	ID     string
	Secret string
}

// ModelRoute is one model a channel serves: a catalog name and, optionally,
// the upstream model id or ep- endpoint to send instead of the catalog's id.
type ModelRoute struct {
	Model    string `yaml:"model"`
	Upstream string `yaml:"upstream"`
}

// ModelRoutes accepts a list of names, a list of {model, upstream}, or a map
// of name → upstream; empty means every catalog model.
type ModelRoutes []ModelRoute

// UnmarshalYAML implements yaml.Unmarshaler.
func (m *ModelRoutes) UnmarshalYAML(n *yaml.Node) error {
	*m = nil
	switch n.Kind {
	case yaml.SequenceNode:
		for _, item := range n.Content {
			var r ModelRoute
			switch item.Kind {
			case yaml.ScalarNode:
				r.Model = item.Value
			case yaml.MappingNode:
				if err := item.Decode(&r); err != nil {
					return err
				}
			default:
				return fmt.Errorf("line %d: a model is a name or {model, upstream}", item.Line)
			}
			*m = append(*m, r)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: model %s: want an upstream id or nothing", v.Line, k.Value)
			}
			up := v.Value
			if v.Tag == "!!null" {
				up = ""
			}
			*m = append(*m, ModelRoute{Model: k.Value, Upstream: up})
		}
	case yaml.ScalarNode:
		if n.Tag != "!!null" && n.Value != "all" {
			return fmt.Errorf("line %d: models: want a list, a map or \"all\"", n.Line)
		}
	default:
		return fmt.Errorf("line %d: models: want a list, a map or \"all\"", n.Line)
	}
	return nil
}

// LoadSettings reads and validates a channels file.
func LoadSettings(path string) (*Settings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("channels file: %w", err)
	}
	s, err := ParseSettings(data)
	if err != nil {
		return nil, fmt.Errorf("channels file %s: %w", path, err)
	}
	return s, nil
}

// ParseSettings parses a channels file (YAML, or JSON, which is YAML too) and
// validates it. Unknown fields are errors, so a typo never goes unnoticed.
func ParseSettings(data []byte) (*Settings, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var s Settings
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the file is empty")
		}
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// ShortcutChannel is the one channel of SEEDGATE_ARK_API_KEY (+ SEEDGATE_ARK_BASE_URL):
// every catalog model, Ark's default limits.
func ShortcutChannel(keys []string, baseURL string) Channel {
	if baseURL == "" {
		baseURL = VolcengineBaseURL
	}
	return Channel{Name: "ark", BaseURL: baseURL, Keys: keys}
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Validate checks every channel and fills the derived fields (key ids, routes).
func (s *Settings) Validate() error {
	var errs []error
	c := &s.Checks
	if c.MinInterval < 0 || c.MaxInterval < 0 || c.ExpectedTime < 0 || c.ReconcileAfter < 0 {
		errs = append(errs, errors.New("checks: durations must not be negative"))
	}
	if c.MinInterval > 0 && c.MaxInterval > 0 && c.MinInterval > c.MaxInterval {
		errs = append(errs, errors.New("checks: min_interval is larger than max_interval"))
	}
	if c.BatchSize < 0 || c.BatchSize > MaxBatchSize {
		errs = append(errs, fmt.Errorf("checks: batch_size must be in [1, %d]", MaxBatchSize))
	}
	if len(s.Channels) == 0 {
		errs = append(errs, errors.New("no channels"))
	}
	names := map[string]bool{}
	for i := range s.Channels {
		ch := &s.Channels[i]
		if err := ch.validate(); err != nil {
			errs = append(errs, fmt.Errorf("channel %d (%s): %w", i+1, ch.Name, err))
			continue
		}
		if names[ch.Name] {
			errs = append(errs, fmt.Errorf("channel %d: the name %q is used twice", i+1, ch.Name))
		}
		names[ch.Name] = true
	}
	return errors.Join(errs...)
}

// Kinds are the channel kinds: the protocols seedgate can call upstream.
var Kinds = []string{"ark", "jobs", "videos", "seedance", "responses", "openai", "openrouter"}

// KindArk is the default kind: Volcengine Ark and BytePlus ModelArk.
const KindArk = "ark"

func (ch *Channel) validate() error {
	if !namePattern.MatchString(ch.Name) {
		return fmt.Errorf("name %q: want 1–64 letters, digits, '.', '_' or '-'", ch.Name)
	}
	if ch.Kind == "" {
		ch.Kind = KindArk
	}
	if !slices.Contains(Kinds, ch.Kind) {
		return fmt.Errorf("kind %q: want one of %s", ch.Kind, strings.Join(Kinds, ", "))
	}
	u, err := url.Parse(ch.BaseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("base_url %q: want an absolute http(s) URL such as %s", ch.BaseURL, VolcengineBaseURL)
	}
	ch.BaseURL = strings.TrimRight(ch.BaseURL, "/")
	switch ch.Flavor {
	case "":
		ch.Flavor = FlavorVolcengine
		if strings.Contains(strings.ToLower(u.Host), "byteplus") {
			ch.Flavor = FlavorBytePlus
		}
	case FlavorVolcengine, FlavorBytePlus:
	default:
		return fmt.Errorf("flavor %q: want volcengine or byteplus", ch.Flavor)
	}
	if len(ch.Keys) == 0 {
		return errors.New("keys: at least one API key is required")
	}
	ch.keys = nil
	seen := map[string]bool{}
	for i, k := range ch.Keys {
		k = strings.TrimSpace(k)
		if k == "" {
			return fmt.Errorf("keys[%d] is empty", i)
		}
		if seen[k] {
			return fmt.Errorf("keys[%d] is listed twice", i)
		}
		seen[k] = true
		ch.keys = append(ch.keys, &Key{ID: keyID(k), Secret: k})
	}
	if ch.Weight < 0 || ch.Concurrency < 0 || ch.RPM < 0 || ch.Timeout < 0 {
		return errors.New("weight, concurrency, rpm and timeout must not be negative")
	}
	if ch.Weight == 0 {
		ch.Weight = 1
	}
	ch.routes = map[string]string{}
	routes := ch.Models
	if len(routes) == 0 {
		for _, m := range task.Models() {
			routes = append(routes, ModelRoute{Model: m.ID})
		}
	}
	for _, r := range routes {
		m, implied, ok := task.LookupModel(r.Model)
		if !ok || implied != "" {
			return fmt.Errorf("models: unknown model %q (known: %s)", r.Model, strings.Join(catalogIDs(), ", "))
		}
		if _, dup := ch.routes[m.ID]; dup {
			return fmt.Errorf("models: %s is listed twice", m.ID)
		}
		up := strings.TrimSpace(r.Upstream)
		if up == "" {
			up = m.VolcengineID
			if ch.Flavor == FlavorBytePlus {
				up = m.BytePlusID
			}
		}
		ch.routes[m.ID] = up
	}
	return nil
}

// keyID names a key by a short hash of it: stable when keys are reordered,
// useless to anyone who reads it.
func keyID(secret string) string {
	sum := sha256.Sum256([]byte("seedgate-ark-key:" + secret))
	return "k-" + hex.EncodeToString(sum[:5])
}

func catalogIDs() []string {
	var out []string
	for _, m := range task.Models() {
		out = append(out, m.ID)
	}
	return out
}

// UpstreamModel is the model or endpoint id the channel sends for a catalog model.
func (ch *Channel) UpstreamModel(modelID string) (string, bool) {
	up, ok := ch.routes[modelID]
	return up, ok
}

// APIKeys are the channel's keys, in the file's order (filled by Validate).
func (ch *Channel) APIKeys() []*Key { return ch.keys }

// Serves reports whether the channel serves the catalog model.
func (ch *Channel) Serves(modelID string) bool {
	_, ok := ch.routes[modelID]
	return ok
}

// Key returns the channel's key with the id, or nil.
func (ch *Channel) Key(id string) *Key {
	for _, k := range ch.keys {
		if k.ID == id {
			return k
		}
	}
	return nil
}

// Limits returns the per-key-and-model concurrency and RPM for a model.
func (ch *Channel) Limits(m *task.Model) (concurrency, rpm int) {
	concurrency, rpm = ch.Concurrency, ch.RPM
	if concurrency == 0 {
		concurrency = max(m.Concurrency, 1)
	}
	if rpm == 0 {
		rpm = m.RPM
	}
	return concurrency, rpm
}

// Served lists the catalog ids the channel serves, sorted.
func (ch *Channel) Served() []string {
	var out []string
	for id := range ch.routes {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
