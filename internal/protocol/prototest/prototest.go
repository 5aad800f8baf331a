// Package prototest checks a protocol's wire types against the golden answers
// the dialects' tests keep: every field of the golden JSON decodes into the
// type, and the type encodes back to the same JSON.
package prototest

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// numeric are the keys whose golden values are placeholders for numbers that
// change between runs ("{created_at}").
var numeric = map[string]bool{"created_at": true, "updated_at": true, "finished_at": true, "completed_at": true,
	"seed": true, "created": true, "updated": true, "finished": true, "progress": true}

// RoundTrip decodes the golden file into a T, refusing unknown fields, and
// checks that T encodes back to the same JSON. Placeholders of volatile
// numbers become 1. It returns the decoded value for further checks.
func RoundTrip[T any](t *testing.T, file string) T {
	t.Helper()
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	var doc any
	require.NoError(t, json.Unmarshal(raw, &doc))
	doc = fill(doc)
	want, err := json.Marshal(doc)
	require.NoError(t, err)

	var v T
	dec := json.NewDecoder(bytes.NewReader(want))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&v), "%s does not decode into %T", file, v)
	got, err := json.Marshal(v)
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(got), "%T does not encode back to %s", v, file)
	return v
}

func fill(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && numeric[k] && strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
				x[k] = 1.0
				continue
			}
			x[k] = fill(e)
		}
	case []any:
		for i, e := range x {
			x[i] = fill(e)
		}
	}
	return v
}
