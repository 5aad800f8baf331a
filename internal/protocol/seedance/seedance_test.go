package seedance_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/protocol/prototest"
	"github.com/seedgate/seedgate/internal/protocol/seedance"
)

const golden = "../../dialect/seedance/testdata/golden/"

func TestEnvelopeRoundTrip(t *testing.T) {
	files, err := filepath.Glob(golden + "003_*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		e := prototest.RoundTrip[seedance.Envelope](t, f)
		require.True(t, e.Success, f)
	}
}

func TestErrorRoundTrip(t *testing.T) {
	e := prototest.RoundTrip[seedance.ErrorAnswer](t, golden+"error_wrong_key.json")
	require.Equal(t, "invalid_token", e.Error.Code)
}
