package jobs_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/protocol/jobs"
	"github.com/seedgate/seedgate/internal/protocol/prototest"
)

const golden = "../../dialect/jobs/testdata/golden/"

func TestJobRoundTrip(t *testing.T) {
	for _, f := range []string{"004_create.json", "004_get.json"} {
		j := prototest.RoundTrip[jobs.Job](t, golden+f)
		require.Equal(t, "job", j.Object, f)
	}
}
