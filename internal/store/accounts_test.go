package store

import (
	"testing"

	"github.com/seedgate/seedgate/internal/task"
)

func TestCost(t *testing.T) {
	for _, tc := range []struct {
		tokens, rate, want int64
	}{
		{108900, RateUnit, 108900},           // balances in tokens: one unit per token
		{108900, 2_500_000, 272250},          // 2.5 micro-units per token ($2.50 per million)
		{1, 1, 1},                            // rounded up: never free
		{3, 500_000, 2},                      // 1.5 → 2
		{0, RateUnit, 0},                     // nothing used
		{-5, RateUnit, 0},                    // nonsense in, nothing charged
		{1 << 62, 1 << 40, 1<<63 - 1},        // saturates instead of wrapping
		{1 << 40, 3 * RateUnit, 3 << 40},     // large but exact
		{246840, 1_250_000, 308550},          // flex: half of 2.5
		{246840 * 6 / 10, 2_500_000, 370260}, // draft usage is 0.6× already
	} {
		if got := Cost(tc.tokens, tc.rate); got != tc.want {
			t.Errorf("Cost(%d, %d) = %d, want %d", tc.tokens, tc.rate, got, tc.want)
		}
	}
}

func TestChargeSettle(t *testing.T) {
	c := &Charge{EstimateTokens: 100, Reserved: 200, Rate: 2 * RateUnit}
	for _, tc := range []struct {
		st           task.Status
		usage        *task.Usage
		state        string
		tokens, cost int64
	}{
		{task.StatusSucceeded, &task.Usage{TotalTokens: 90}, ChargeSettled, 90, 180},
		{task.StatusSucceeded, nil, ChargeSettled, 100, 200},
		{task.StatusFailed, &task.Usage{TotalTokens: 90}, ChargeReleased, 0, 0},
		{task.StatusCancelled, nil, ChargeReleased, 0, 0},
		{task.StatusExpired, nil, ChargeReleased, 0, 0},
	} {
		state, tokens, cost := c.Settle(&task.Task{Status: tc.st, Usage: tc.usage})
		if state != tc.state || tokens != tc.tokens || cost != tc.cost {
			t.Errorf("%s: got %s %d %d, want %s %d %d", tc.st, state, tokens, cost, tc.state, tc.tokens, tc.cost)
		}
	}
}
