package task

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"go.yaml.in/yaml/v3"
)

// CatalogVersion is the version of the catalog file format this build reads.
const CatalogVersion = 1

// EmbeddedSource names the built-in catalog in messages and in Model.Source.
const EmbeddedSource = "embedded"

// maxCatalogBytes bounds a catalog file: a model is about 1 KB, so this is
// thousands of models, and keeps a wrong path (a video) from being read whole.
const maxCatalogBytes = 4 << 20

//go:embed catalog.yaml
var embeddedCatalog []byte

// Catalog is a loaded, validated model table with its name index. It is
// read-only once built: lookups on the request path need no lock.
type Catalog struct {
	// Version is the file format version it was read from.
	Version int
	// Source is where it came from: "embedded", or "embedded + <file>".
	Source string
	models []*Model
	index  map[string]*Model // every lower-case accepted name
}

// current is the catalog the package-level lookups read. The app replaces it
// once at start (SEEDGATE_CATALOG_FILE), before serving; a pointer swap keeps
// concurrent readers (tests running gateways side by side) safe.
var current atomic.Pointer[Catalog]

func init() {
	c, err := ParseCatalog(embeddedCatalog, nil, "")
	if err != nil {
		panic(err) // the embedded file is checked by every test run
	}
	current.Store(c)
}

// Current is the catalog in force.
func Current() *Catalog { return current.Load() }

// Install makes c the catalog in force and returns a function that puts the
// previous one back (an app's shutdown, tests).
func Install(c *Catalog) (restore func()) {
	prev := current.Swap(c)
	return func() { current.CompareAndSwap(c, prev) }
}

// Models returns the catalog's models in file order.
func (c *Catalog) Models() []*Model { return append([]*Model(nil), c.models...) }

// LoadCatalogFile reads an operator's catalog file and merges it over the
// embedded catalog: an entry whose id is an existing model's overrides the
// values it names, any other entry adds a model. Errors name the file, the
// model and the field.
func LoadCatalogFile(path string) (*Catalog, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("catalog file %s: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCatalogBytes+1))
	if err != nil {
		return nil, fmt.Errorf("catalog file %s: %w", path, err)
	}
	if len(data) > maxCatalogBytes {
		return nil, fmt.Errorf("catalog file %s: larger than %d bytes", path, maxCatalogBytes)
	}
	return ParseCatalog(embeddedCatalog, data, path)
}

// ParseCatalog builds a catalog from a base file and an optional override
// (nil: the base alone) named overrideName in messages. Both are YAML (or
// JSON) in the format of the embedded catalog.yaml.
func ParseCatalog(base, override []byte, overrideName string) (*Catalog, error) {
	baseDoc, err := parseCatalogDoc(base, EmbeddedSource, true)
	if err != nil {
		return nil, err
	}
	cat := &Catalog{Version: baseDoc.version, Source: EmbeddedSource}
	sources := make(map[string]string, len(baseDoc.models)) // model id → where its values come from
	for _, m := range baseDoc.models {
		sources[m.id] = EmbeddedSource
	}
	if override != nil {
		over, err := parseCatalogDoc(override, overrideName, false)
		if err != nil {
			return nil, err
		}
		cat.Source = EmbeddedSource + " + " + overrideName
		for _, om := range over.models {
			if i := slices.IndexFunc(baseDoc.models, func(b docModel) bool { return b.id == om.id }); i >= 0 {
				mergeMapping(baseDoc.models[i].node, om.node)
				sources[om.id] = overrideName
			} else {
				baseDoc.models = append(baseDoc.models, om)
				sources[om.id] = overrideName
			}
		}
	}
	cat.index = make(map[string]*Model)
	for _, dm := range baseDoc.models {
		src := sources[dm.id]
		where := "catalog " + src
		if src != EmbeddedSource {
			where = "catalog file " + src
		}
		var spec modelSpec
		if err := dm.node.Decode(&spec); err != nil {
			return nil, fmt.Errorf("%s: model %q: %s", where, dm.id, yamlMessage(err))
		}
		m, field, err := spec.model()
		if err != nil {
			return nil, fmt.Errorf("%s: model %q: %s: %w", where, dm.id, field, err)
		}
		m.Source = src
		for _, n := range m.names() {
			key := strings.ToLower(n)
			if other, dup := cat.index[key]; dup && other != m {
				return nil, fmt.Errorf("%s: model %q: ids: the name %q is model %q's already", where, m.ID, n, other.ID)
			}
			cat.index[key] = m
		}
		cat.models = append(cat.models, m)
	}
	if len(cat.models) == 0 {
		return nil, fmt.Errorf("catalog %s: models: lists no model", cat.Source)
	}
	return cat, nil
}

// docModel is one entry of a catalog file, still as YAML.
type docModel struct {
	id   string
	node *yaml.Node
}

type catalogDoc struct {
	version int
	models  []docModel
}

// parseCatalogDoc reads one catalog file and checks each entry's field names
// and value types (so a message can name the file), leaving the merge and
// the value checks to the caller. A base file must name its version; an
// override may leave it out.
func parseCatalogDoc(data []byte, name string, needVersion bool) (*catalogDoc, error) {
	where := "catalog file " + name
	if name == EmbeddedSource {
		where = "catalog " + name
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: empty", where)
		}
		return nil, fmt.Errorf("%s: %s", where, yamlMessage(err))
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s: must be a mapping with version and models", where)
	}
	out := &catalogDoc{}
	var modelsNode *yaml.Node
	for i := 0; i+1 < len(doc.Content); i += 2 {
		key, val := doc.Content[i], doc.Content[i+1]
		switch key.Value {
		case "version":
			if err := val.Decode(&out.version); err != nil {
				return nil, fmt.Errorf("%s: version: %s", where, yamlMessage(err))
			}
			if out.version != CatalogVersion {
				return nil, fmt.Errorf("%s: version: %d is not a version this build reads: use %d", where, out.version, CatalogVersion)
			}
		case "models":
			modelsNode = val
		default:
			return nil, fmt.Errorf("%s: unknown field %q (known: version, models)", where, key.Value)
		}
	}
	if needVersion && out.version == 0 {
		return nil, fmt.Errorf("%s: version: required (%d)", where, CatalogVersion)
	}
	if modelsNode == nil || modelsNode.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s: models: required, a list of models", where)
	}
	seen := make(map[string]bool)
	for i, n := range modelsNode.Content {
		if n.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s: models[%d]: must be a mapping", where, i)
		}
		id := ""
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == "id" && n.Content[j+1].Kind == yaml.ScalarNode {
				id = strings.TrimSpace(n.Content[j+1].Value)
			}
		}
		if id == "" {
			return nil, fmt.Errorf("%s: models[%d]: id: required", where, i)
		}
		if seen[id] {
			return nil, fmt.Errorf("%s: model %q: id: listed twice", where, id)
		}
		seen[id] = true
		if path, err := checkFields(n, reflect.TypeFor[modelSpec](), ""); err != nil {
			return nil, fmt.Errorf("%s: model %q: %s: %w", where, id, path, err)
		}
		var spec modelSpec // types only; values are checked after the merge
		if err := n.Decode(&spec); err != nil {
			return nil, fmt.Errorf("%s: model %q: %s", where, id, yamlMessage(err))
		}
		out.models = append(out.models, docModel{id: id, node: n})
	}
	return out, nil
}

// checkFields refuses field names t does not declare, anywhere in n, and a
// key given twice; it returns the dotted path of the offence.
func checkFields(n *yaml.Node, t reflect.Type, path string) (string, error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if t.Kind() != reflect.Struct {
		if n == nil || n.Decode(reflect.New(t).Interface()) != nil {
			return path, errors.New(wantType(t, n))
		}
		return "", nil
	}
	if n == nil || n.Kind != yaml.MappingNode {
		if path == "" {
			return "model", errors.New("must be a mapping")
		}
		return path, errors.New("must be a mapping")
	}
	seen := make(map[string]bool)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i].Value
		p := key
		if path != "" {
			p = path + "." + key
		}
		if seen[key] {
			return p, errors.New("given twice")
		}
		seen[key] = true
		f, ok := fieldByTag(t, key)
		if !ok {
			return p, fmt.Errorf("unknown field (known: %s)", strings.Join(tagNames(t), ", "))
		}
		if p, err := checkFields(n.Content[i+1], f.Type, p); err != nil {
			return p, err
		}
	}
	return "", nil
}

// wantType says what a value of type t looks like, for a node that is not one.
func wantType(t reflect.Type, n *yaml.Node) string {
	got := "this value"
	if n != nil && n.Kind == yaml.ScalarNode {
		got = strconv.Quote(n.Value)
	}
	switch t.Kind() {
	case reflect.Int:
		return fmt.Sprintf("must be a whole number, not %s", got)
	case reflect.Bool:
		return fmt.Sprintf("must be true or false, not %s", got)
	case reflect.String:
		return "must be text, not a list or mapping"
	case reflect.Slice:
		return "must be a list of text, e.g. [a, b]"
	}
	return "has the wrong type"
}

func fieldByTag(t reflect.Type, name string) (reflect.StructField, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		if tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ","); tag == name {
			return f, true
		}
	}
	return reflect.StructField{}, false
}

func tagNames(t reflect.Type) []string {
	var out []string
	for i := range t.NumField() {
		if tag, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); tag != "" {
			out = append(out, tag)
		}
	}
	return out
}

// mergeMapping writes over's keys into base: mappings merge key by key,
// anything else (scalars, lists) replaces the base's value.
func mergeMapping(base, over *yaml.Node) {
	for i := 0; i+1 < len(over.Content); i += 2 {
		key, val := over.Content[i], over.Content[i+1]
		j := -1
		for k := 0; k+1 < len(base.Content); k += 2 {
			if base.Content[k].Value == key.Value {
				j = k
				break
			}
		}
		switch {
		case j < 0:
			base.Content = append(base.Content, key, val)
		case base.Content[j+1].Kind == yaml.MappingNode && val.Kind == yaml.MappingNode:
			mergeMapping(base.Content[j+1], val)
		default:
			base.Content[j+1] = val
		}
	}
}

var yamlTypeName = regexp.MustCompile(` into [\w.\[\]*]+`)

// yamlMessage is a YAML error without the Go type names it mentions.
func yamlMessage(err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "unmarshal errors:\n  ", "")
	return yamlTypeName.ReplaceAllStringFunc(msg, func(s string) string {
		switch {
		case strings.Contains(s, "int"):
			return " into a number"
		case strings.Contains(s, "bool"):
			return " into true/false"
		case strings.Contains(s, "[]"):
			return " into a list"
		case strings.Contains(s, "string"):
			return " into text"
		}
		return " into a mapping"
	})
}

// modelSpec is one model as the catalog file writes it.
type modelSpec struct {
	ID     string `yaml:"id"`
	Name   string `yaml:"name"`
	Family string `yaml:"family"`
	IDs    struct {
		Volcengine string   `yaml:"volcengine"`
		BytePlus   string   `yaml:"byteplus"`
		Aliases    []string `yaml:"aliases"`
	} `yaml:"ids"`
	Modes     []string `yaml:"modes"`
	Durations struct {
		Min     int  `yaml:"min"`
		Max     int  `yaml:"max"`
		Default *int `yaml:"default"`
		Auto    bool `yaml:"auto"`
		Frames  bool `yaml:"frames"`
	} `yaml:"durations"`
	Resolutions struct {
		Allowed   []string `yaml:"allowed"`
		Default   string   `yaml:"default"`
		Reference []string `yaml:"reference"`
	} `yaml:"resolutions"`
	Ratios struct {
		Text             ratioSpec `yaml:"text"`
		Image            ratioSpec `yaml:"image"`
		Reference        ratioSpec `yaml:"reference"`
		Fallback         string    `yaml:"fallback"`
		AdaptiveRequired []string  `yaml:"adaptive_required"`
	} `yaml:"ratios"`
	References struct {
		Images           int  `yaml:"images"`
		Videos           int  `yaml:"videos"`
		Audio            int  `yaml:"audio"`
		Total            int  `yaml:"total"`
		AudioNeedsVisual bool `yaml:"audio_needs_visual"`
	} `yaml:"references"`
	Features struct {
		Audio           bool `yaml:"audio"`
		Draft           bool `yaml:"draft"`
		Flex            bool `yaml:"flex"`
		CameraFixed     bool `yaml:"camera_fixed"`
		ReturnLastFrame bool `yaml:"return_last_frame"`
		Priority        bool `yaml:"priority"`
		WebSearch       bool `yaml:"web_search"`
		HEICInput       bool `yaml:"heic_input"`
	} `yaml:"features"`
	OutputFormats []string `yaml:"output_formats"`
	Billing       struct {
		DraftPercent      *int `yaml:"draft_percent"`
		InputVideo        bool `yaml:"input_video"`
		InputVideoSeconds int  `yaml:"input_video_seconds"`
	} `yaml:"billing"`
	MaxPromptChars int `yaml:"max_prompt_chars"`
	RPM            int `yaml:"rpm"`
	Concurrency    int `yaml:"concurrency"`
}

type ratioSpec struct {
	Default  string `yaml:"default"`
	Adaptive bool   `yaml:"adaptive"`
}

// Ranges a catalog value must stay in: wide enough for any model to come,
// narrow enough that arithmetic on them cannot overflow.
const (
	maxCatalogDuration   = 600
	maxCatalogReferences = 100
	maxCatalogPrompt     = 100000
	maxCatalogRPM        = 1000000
	maxCatalogConcurrent = 100000
	defaultDraftPercent  = 60
)

// OutputFormats are the result containers a catalog may list.
var OutputFormats = []string{"mp4", "mov"}

var modelIDPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._/-]*$`)

// model checks the spec's values and builds the Model; on error it also
// names the field at fault.
func (s *modelSpec) model() (*Model, string, error) {
	fail := func(field, format string, args ...any) (*Model, string, error) {
		return nil, field, fmt.Errorf(format, args...)
	}
	m := &Model{ID: s.ID, Name: strings.TrimSpace(s.Name), Family: Family(s.Family),
		VolcengineID: strings.TrimSpace(s.IDs.Volcengine), BytePlusID: strings.TrimSpace(s.IDs.BytePlus)}
	if !modelIDPattern.MatchString(s.ID) {
		return fail("id", "%q is not allowed: lower-case letters, digits and . _ / -", s.ID)
	}
	if m.Name == "" {
		return fail("name", "required")
	}
	if _, ok := pixelTables[m.Family]; !ok {
		return fail("family", "%q is not a pixel-size family: allowed 1.0, 1.5, 2.0", s.Family)
	}
	for i, a := range s.IDs.Aliases {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" {
			return fail(fmt.Sprintf("ids.aliases[%d]", i), "empty")
		}
		m.Aliases = append(m.Aliases, a)
	}

	modes := make(map[InputMode]bool)
	if len(s.Modes) == 0 {
		return fail("modes", "required: one or more of %s", joinModes(allModes))
	}
	for i, md := range s.Modes {
		mode := InputMode(md)
		if !slices.Contains(allModes, mode) {
			return fail(fmt.Sprintf("modes[%d]", i), "%q is not a mode: allowed %s", md, joinModes(allModes))
		}
		if modes[mode] {
			return fail(fmt.Sprintf("modes[%d]", i), "%q listed twice", md)
		}
		modes[mode] = true
	}

	d := s.Durations
	switch {
	case d.Min < 1 || d.Min > maxCatalogDuration:
		return fail("durations.min", "%d is out of range: allowed 1–%d", d.Min, maxCatalogDuration)
	case d.Max < d.Min || d.Max > maxCatalogDuration:
		return fail("durations.max", "%d is out of range: allowed durations.min (%d)–%d", d.Max, d.Min, maxCatalogDuration)
	case d.Default == nil:
		return fail("durations.default", "required")
	case *d.Default == -1 && !d.Auto:
		return fail("durations.default", "-1 (the model chooses) needs durations.auto: true")
	case *d.Default != -1 && (*d.Default < d.Min || *d.Default > d.Max):
		return fail("durations.default", "%d is out of range: allowed %d–%d or -1", *d.Default, d.Min, d.Max)
	}
	m.Durations = DurationLimits{Min: d.Min, Max: d.Max, Default: *d.Default, Auto: d.Auto, Frames: d.Frames}

	res := s.Resolutions
	if len(res.Allowed) == 0 {
		return fail("resolutions.allowed", "required: one or more of %s", strings.Join(resolutionSuffixes, ", "))
	}
	for _, list := range []struct {
		field string
		vals  []string
	}{{"resolutions.allowed", res.Allowed}, {"resolutions.reference", res.Reference}} {
		for i, r := range list.vals {
			f := fmt.Sprintf("%s[%d]", list.field, i)
			if _, ok := pixelTables[m.Family][r]; !ok {
				return fail(f, "%q has no pixel size in family %s: allowed %s", r, m.Family, strings.Join(familyResolutions(m.Family), ", "))
			}
			if slices.Index(list.vals, r) != i {
				return fail(f, "%q listed twice", r)
			}
		}
	}
	if !slices.Contains(res.Allowed, res.Default) {
		return fail("resolutions.default", "%q is not in resolutions.allowed (%s)", res.Default, strings.Join(res.Allowed, ", "))
	}
	m.Resolutions, m.DefaultResolution = res.Allowed, res.Default
	if res.Reference != nil {
		m.ReferenceResolutions = res.Reference
	}

	rt := s.Ratios
	for _, c := range []struct {
		field string
		spec  ratioSpec
		dst   *RatioRule
	}{{"ratios.text", rt.Text, &m.TextRatio}, {"ratios.image", rt.Image, &m.ImageRatio}, {"ratios.reference", rt.Reference, &m.ReferenceRatio}} {
		switch {
		case c.spec.Default == RatioAdaptive && !c.spec.Adaptive:
			return fail(c.field+".default", "adaptive needs %s.adaptive: true", c.field)
		case c.spec.Default != RatioAdaptive && !slices.Contains(FixedRatios, c.spec.Default):
			return fail(c.field+".default", "%q is not a ratio: allowed %s, adaptive", c.spec.Default, strings.Join(FixedRatios, ", "))
		}
		*c.dst = RatioRule{Default: c.spec.Default, Adaptive: c.spec.Adaptive}
	}
	if !slices.Contains(FixedRatios, rt.Fallback) {
		return fail("ratios.fallback", "%q is not a fixed ratio: allowed %s", rt.Fallback, strings.Join(FixedRatios, ", "))
	}
	m.FallbackRatio = rt.Fallback
	for i, md := range rt.AdaptiveRequired {
		f := fmt.Sprintf("ratios.adaptive_required[%d]", i)
		mode := InputMode(md)
		switch {
		case !modes[mode]:
			return fail(f, "%q is not one of the model's modes (%s)", md, strings.Join(s.Modes, ", "))
		case !m.RatioRule(mode).Adaptive:
			return fail(f, "%q requires adaptive, which the mode's ratio rule does not allow", md)
		}
		m.AdaptiveRequired = append(m.AdaptiveRequired, mode)
	}

	rf := s.References
	for _, c := range []struct {
		field string
		v     int
	}{{"references.images", rf.Images}, {"references.videos", rf.Videos}, {"references.audio", rf.Audio}} {
		if c.v < 0 || c.v > maxCatalogReferences {
			return fail(c.field, "%d is out of range: allowed 0–%d", c.v, maxCatalogReferences)
		}
	}
	sum := rf.Images + rf.Videos + rf.Audio
	switch {
	case rf.Total < 0 || rf.Total > sum:
		return fail("references.total", "%d is out of range: allowed 0 (no cap beyond each kind's) to %d (images+videos+audio)", rf.Total, sum)
	case modes[ModeReference] && sum == 0:
		return fail("references", "mode reference needs a number of images, videos or audio")
	case sum > 0 && !modes[ModeReference] && !modes[ModeEdit] && !modes[ModeExtend]:
		return fail("references", "references are given but modes has no reference, edit or extend")
	case (modes[ModeEdit] || modes[ModeExtend]) && rf.Videos == 0:
		return fail("references.videos", "modes edit and extend work on a reference video: give at least 1")
	}
	m.Inputs = InputLimits{
		Text: modes[ModeText], FirstFrame: modes[ModeFirstFrame], FirstLast: modes[ModeFirstLast],
		Reference: modes[ModeReference], Edit: modes[ModeEdit], Extend: modes[ModeExtend], DraftTask: modes[ModeDraftTask],
		MaxReferenceImages: rf.Images, MaxReferenceVideos: rf.Videos, MaxReferenceAudio: rf.Audio,
		MaxReferenceTotal: rf.Total, AudioNeedsVisual: rf.AudioNeedsVisual,
	}

	ft := s.Features
	m.Features = Features{Audio: ft.Audio, Draft: ft.Draft, Flex: ft.Flex, CameraFixed: ft.CameraFixed,
		ReturnLastFrame: ft.ReturnLastFrame, Priority: ft.Priority, WebSearch: ft.WebSearch, HEICInput: ft.HEICInput}
	if modes[ModeDraftTask] && !ft.Draft {
		return fail("features.draft", "mode draft_task re-renders a draft: the model must make drafts (features.draft: true)")
	}

	if len(s.OutputFormats) == 0 {
		return fail("output_formats", "required: one or more of %s", strings.Join(OutputFormats, ", "))
	}
	for i, f := range s.OutputFormats {
		if !slices.Contains(OutputFormats, f) {
			return fail(fmt.Sprintf("output_formats[%d]", i), "%q is not a format: allowed %s", f, strings.Join(OutputFormats, ", "))
		}
		if slices.Index(s.OutputFormats, f) != i {
			return fail(fmt.Sprintf("output_formats[%d]", i), "%q listed twice", f)
		}
	}
	m.OutputFormats = s.OutputFormats

	b := s.Billing
	m.Billing = Billing{DraftPercent: defaultDraftPercent, InputVideo: b.InputVideo, InputVideoSeconds: b.InputVideoSeconds}
	if b.DraftPercent != nil {
		m.Billing.DraftPercent = *b.DraftPercent
	}
	switch {
	case m.Billing.DraftPercent < 1 || m.Billing.DraftPercent > 100:
		return fail("billing.draft_percent", "%d is out of range: allowed 1–100", m.Billing.DraftPercent)
	case b.InputVideoSeconds < 0 || b.InputVideoSeconds > maxCatalogDuration:
		return fail("billing.input_video_seconds", "%d is out of range: allowed 0–%d", b.InputVideoSeconds, maxCatalogDuration)
	case b.InputVideo && b.InputVideoSeconds == 0 && rf.Videos > 0:
		return fail("billing.input_video_seconds", "required with billing.input_video: the seconds assumed for a reference video of unknown length")
	}

	switch {
	case s.MaxPromptChars < 0 || s.MaxPromptChars > maxCatalogPrompt:
		return fail("max_prompt_chars", "%d is out of range: allowed 1–%d (0: %d)", s.MaxPromptChars, maxCatalogPrompt, DefaultMaxPromptChars)
	case s.RPM < 1 || s.RPM > maxCatalogRPM:
		return fail("rpm", "%d is out of range: allowed 1–%d", s.RPM, maxCatalogRPM)
	case s.Concurrency < 1 || s.Concurrency > maxCatalogConcurrent:
		return fail("concurrency", "%d is out of range: allowed 1–%d", s.Concurrency, maxCatalogConcurrent)
	}
	m.MaxPromptChars, m.RPM, m.Concurrency = s.MaxPromptChars, s.RPM, s.Concurrency
	if m.MaxPromptChars == 0 {
		m.MaxPromptChars = DefaultMaxPromptChars
	}
	return m, "", nil
}

func familyResolutions(f Family) []string {
	var out []string
	for _, r := range resolutionSuffixes {
		if _, ok := pixelTables[f][r]; ok {
			out = append(out, r)
		}
	}
	return out
}

func joinModes(ms []InputMode) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = string(m)
	}
	return strings.Join(s, ", ")
}
