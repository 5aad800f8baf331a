package responses_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/protocol/openai"
	"github.com/seedgate/seedgate/internal/protocol/prototest"
	"github.com/seedgate/seedgate/internal/protocol/responses"
)

const golden = "../../dialect/responses/testdata/golden/"

func TestSubmitRoundTrip(t *testing.T) {
	a := prototest.RoundTrip[responses.SubmitAnswer](t, golden+"000_submit.json")
	require.Equal(t, a.Usage.TotalTokens, a.Usage.OutputTokens)
}

func TestQueryRoundTrip(t *testing.T) {
	r := prototest.RoundTrip[responses.Response](t, golden+"000_query_unstreamed.json")
	require.Equal(t, responses.QueryModel, r.Model)
	require.Len(t, r.Output, 1)
}

func TestErrorRoundTrip(t *testing.T) {
	e := prototest.RoundTrip[openai.ErrorEnvelope](t, golden+"error_wrong_key.json")
	require.Equal(t, "authentication_error", e.Error.Type)
}
