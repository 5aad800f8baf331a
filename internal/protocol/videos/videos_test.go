package videos_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/protocol/prototest"
	"github.com/seedgate/seedgate/internal/protocol/videos"
)

const golden = "../../dialect/videos/testdata/golden/"

func TestRoundTrip(t *testing.T) {
	answers, err := filepath.Glob(golden + "002_*_answer.json")
	require.NoError(t, err)
	require.NotEmpty(t, answers)
	for _, f := range answers {
		a := prototest.RoundTrip[videos.CreateAnswer](t, f)
		require.Equal(t, 200, a.Code, f)
	}
	statuses, err := filepath.Glob(golden + "002_*_status.json")
	require.NoError(t, err)
	require.NotEmpty(t, statuses)
	for _, f := range statuses {
		s := prototest.RoundTrip[videos.StatusAnswer](t, f)
		require.Equal(t, "succeeded", s.Data.Status, f)
	}
}

func TestErrorRoundTrip(t *testing.T) {
	e := prototest.RoundTrip[videos.ErrorEnvelope](t, golden+"error_wrong_key.json")
	require.Equal(t, 401, e.Error.Code)
}
