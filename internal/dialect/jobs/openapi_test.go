package jobs

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	jp "github.com/seedgate/seedgate/internal/protocol/jobs"
)

func loadDoc(t *testing.T) map[string]any {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(openAPIDoc, &doc))
	return doc
}

// at walks a decoded JSON document by keys.
func at(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func TestOpenAPIDocumentIsWellFormed(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	require.Equal(t, "3.1.0", doc["openapi"])
	require.NotEmpty(t, at(doc, "info", "title"))
	schemas := at(doc, "components", "schemas").(map[string]any)

	// Every $ref names a schema that exists; every operation has an id and a 200.
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if r, ok := x["$ref"].(string); ok {
				refs = append(refs, r)
			}
			for _, c := range x {
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	require.NotEmpty(t, refs)
	for _, r := range refs {
		name, ok := strings.CutPrefix(r, "#/components/schemas/")
		require.True(t, ok, r)
		require.Contains(t, schemas, name, r)
	}
	ids := map[string]bool{}
	for p, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			id, _ := at(op, "operationId").(string)
			require.NotEmpty(t, id, "%s %s", method, p)
			require.False(t, ids[id], "operationId %s twice", id)
			ids[id] = true
			require.NotNil(t, at(op, "responses", "200"), "%s %s has no 200", method, p)
		}
	}
}

// The request examples in the document are bodies the jobs decoder accepts.
func TestOpenAPIRequestExamplesDecode(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	examples := at(doc, "paths", "/v1/jobs", "post", "requestBody", "content", "application/json", "examples").(map[string]any)
	require.GreaterOrEqual(t, len(examples), 3)
	for name, ex := range examples {
		body, err := json.Marshal(at(ex, "value"))
		require.NoError(t, err)
		model, req, err := DecodeCreate(body)
		require.NoError(t, err, "example %s", name)
		require.NotEmpty(t, model, name)
		require.NotEmpty(t, req.Prompt, name)
	}
	// The response example is exactly what render produces: no unknown fields.
	ex := at(doc, "paths", "/v1/jobs/{id}", "get", "responses", "200", "content", "application/json", "example")
	b, err := json.Marshal(ex)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var j jp.Job
	require.NoError(t, dec.Decode(&j))
	require.Equal(t, "succeeded", j.Status)
}

// jsonFields lists the JSON names of a struct's fields.
func jsonFields(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name != "" && name != "-" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

func schemaFields(t *testing.T, doc map[string]any, path ...string) []string {
	t.Helper()
	props, ok := at(doc, path...).(map[string]any)
	require.True(t, ok, "%v", path)
	var out []string
	for k := range props {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// The document's schemas name exactly the fields the handlers read and write.
func TestOpenAPISchemasMatchWireTypes(t *testing.T) {
	t.Parallel()
	doc := loadDoc(t)
	s := func(name string, sub ...string) []string {
		return schemaFields(t, doc, append([]string{"components", "schemas", name}, append(sub, "properties")...)...)
	}
	for _, c := range []struct {
		schema []string
		typ    any
	}{
		{s("CreateJobRequest"), jp.CreateRequest{}},
		{s("Input"), jp.Input{}},
		{s("Job"), jp.Job{}},
		{s("Output"), jp.Output{}},
		{s("Video"), jp.Video{}},
		{s("Usage"), jp.Usage{}},
		{s("JobError"), jp.JobError{}},
		{s("JobList"), jp.ListAnswer{}},
		{s("File"), fileAnswer{}},
		{s("Model"), modelAnswer{}},
		{s("Model", "properties", "durations"), modelDurations{}},
		{s("Model", "properties", "inputs"), modelInputs{}},
		{s("Model", "properties", "features"), modelFeatures{}},
		{s("Model", "properties", "default_ratio"), defaultRatios{}},
		{s("Model", "properties", "billing"), modelBilling{}},
		{s("ModelList"), modelList{}},
		{s("ErrorAnswer", "properties", "error"), jp.ErrorBody{}},
	} {
		require.Equal(t, jsonFields(reflect.TypeOf(c.typ)), c.schema, "%T", c.typ)
	}

	// Enums that must follow the code.
	codes := at(doc, "components", "schemas", "ErrorAnswer", "properties", "error", "properties", "code", "enum").([]any)
	for _, c := range []string{"invalid_parameter", "unknown_model", "not_found", "conflict", "rate_limited", "unauthorized"} {
		require.True(t, slices.Contains(codes, any(c)), c)
	}
}
