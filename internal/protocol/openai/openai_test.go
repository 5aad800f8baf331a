package openai_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/protocol/openai"
	"github.com/seedgate/seedgate/internal/protocol/prototest"
)

const golden = "../../dialect/openai/testdata/golden/"

func TestVideoRoundTrip(t *testing.T) {
	v := prototest.RoundTrip[openai.Video](t, golden+"json_create.json")
	require.Equal(t, "video", v.Object)
}

func TestErrorRoundTrip(t *testing.T) {
	e := prototest.RoundTrip[openai.ErrorEnvelope](t, golden+"error_wrong_key.json")
	require.Equal(t, "invalid_api_key", e.Error.Code)
	require.Nil(t, e.Error.Param)
}
