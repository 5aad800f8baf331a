package metrics

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// quantile interpolates within a bucket like Prometheus' histogram_quantile,
// over what was observed between two samples.
func TestQuantile(t *testing.T) {
	bounds := []float64{1, 2, 4}
	before := histogram{bounds: bounds, counts: []float64{10, 10, 10}, total: 10}
	after := histogram{bounds: bounds, counts: []float64{10, 14, 18}, total: 20} // +4 in (1,2], +4 in (2,4], +2 above 4
	require.Nil(t, quantile(.5, after, after), "nothing observed in between")
	require.InDelta(t, 1.5, *quantile(.2, before, after), 1e-9)  // rank 2 of the 4 in (1,2]
	require.InDelta(t, 3.0, *quantile(.6, before, after), 1e-9)  // rank 6: 2 into the 4 of (2,4]
	require.InDelta(t, 4.0, *quantile(.99, before, after), 1e-9) // beyond the last bound: the last bound
	first := histogram{}                                         // the family did not exist yet
	require.InDelta(t, 0.5, *quantile(.5, first, histogram{bounds: bounds, counts: []float64{2, 2, 2}, total: 2}), 1e-9)
}
