package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// accountTests run against stores implementing store.AccountStore.
var accountTests = []struct {
	name string
	fn   func(t *testing.T, s store.Store, a store.Store)
}{
	{"APIKeys", testAPIKeys},
	{"Tenants", testTenants},
	{"AdmitSettle", testAdmitSettle},
	{"AdmitRelease", testAdmitRelease},
	{"AdmitRefused", testAdmitRefused},
	{"AdmitConcurrentBalance", testAdmitConcurrentBalance},
	{"AdmitConcurrentInFlight", testAdmitConcurrentInFlight},
	{"LedgerNoDrift", testLedgerNoDrift},
	{"Unlimited", testUnlimited},
	{"TakeRequest", testTakeRequest},
	{"TakeRequestConcurrent", testTakeRequestConcurrent},
	{"Usage", testUsage},
	{"Audit", testAudit},
}

func testAPIKeys(t *testing.T, s store.Store, a store.Store) {
	ctx := t.Context()
	has, err := a.HasAPIKeys(ctx)
	require.NoError(t, err)
	require.False(t, has)

	k1 := &store.APIKey{ID: "key_one", Hash: "h1", Name: "first", Tenant: "acme", Scopes: []string{"read", "submit"},
		Limits: store.Limits{RPM: ptr(60)}, CreatedAt: base, CreatedBy: "admin", ExpiresAt: ptr(base.Add(time.Hour))}
	k2 := &store.APIKey{ID: "key_two", Hash: "h2", Name: "second", Tenant: "other", Scopes: []string{"admin"},
		CreatedAt: base.Add(time.Second), CreatedBy: "cli"}
	require.NoError(t, a.CreateAPIKey(ctx, k1))
	require.NoError(t, a.CreateAPIKey(ctx, k2))
	require.ErrorIs(t, a.CreateAPIKey(ctx, k1), store.ErrConflict)

	got, err := a.GetAPIKey(ctx, "key_one")
	require.NoError(t, err)
	require.Equal(t, "h1", got.Hash)
	require.Equal(t, []string{"read", "submit"}, got.Scopes)
	require.Equal(t, 60, *got.Limits.RPM)
	require.Nil(t, got.Limits.MaxInFlight)
	require.True(t, got.CreatedAt.Equal(msTime(base)))
	require.True(t, got.ExpiresAt.Equal(msTime(base.Add(time.Hour))))
	require.Nil(t, got.RevokedAt)
	_, err = a.GetAPIKey(ctx, "key_none")
	require.ErrorIs(t, err, store.ErrNotFound)

	all, err := a.ListAPIKeys(ctx, store.KeyFilter{})
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, "key_two", all[0].ID, "newest first")
	acme := "acme"
	some, err := a.ListAPIKeys(ctx, store.KeyFilter{Tenant: &acme})
	require.NoError(t, err)
	require.Len(t, some, 1)

	revoked, err := a.RevokeAPIKey(ctx, "key_one", base.Add(time.Minute))
	require.NoError(t, err)
	require.True(t, revoked.RevokedAt.Equal(msTime(base.Add(time.Minute))))
	again, err := a.RevokeAPIKey(ctx, "key_one", base.Add(time.Hour))
	require.NoError(t, err)
	require.True(t, again.RevokedAt.Equal(msTime(base.Add(time.Minute))), "the first revocation time stays")
	_, err = a.RevokeAPIKey(ctx, "key_none", base)
	require.ErrorIs(t, err, store.ErrNotFound)

	lim, err := a.SetAPIKeyLimits(ctx, "key_two", store.Limits{MaxInFlight: ptr(0)})
	require.NoError(t, err)
	require.Nil(t, lim.Limits.RPM)
	require.Equal(t, 0, *lim.Limits.MaxInFlight)
	_, err = a.SetAPIKeyLimits(ctx, "key_none", store.Limits{})
	require.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, a.TouchAPIKey(ctx, "key_two", base.Add(2*time.Minute)))
	got, err = a.GetAPIKey(ctx, "key_two")
	require.NoError(t, err)
	require.True(t, got.LastUsedAt.Equal(msTime(base.Add(2*time.Minute))))

	has, err = a.HasAPIKeys(ctx)
	require.NoError(t, err)
	require.True(t, has)
}

func testTenants(t *testing.T, s store.Store, a store.Store) {
	ctx := t.Context()
	_, err := a.GetTenant(ctx, "acme")
	require.ErrorIs(t, err, store.ErrNotFound)

	tn, err := a.SetTenantLimits(ctx, "acme", store.Limits{RPM: ptr(10), MaxInFlight: ptr(2)}, base)
	require.NoError(t, err)
	require.Equal(t, 10, *tn.Limits.RPM)
	require.Nil(t, tn.Balance, "limits alone set no balance")

	tn, err = a.AdjustBalance(ctx, "acme", &store.LedgerEntry{At: base, Amount: 1000, Unit: "tokens", Actor: "admin", Note: "first"}, false)
	require.NoError(t, err)
	require.EqualValues(t, 1000, *tn.Balance)
	require.Equal(t, 2, *tn.Limits.MaxInFlight, "a top-up keeps the limits")
	tn, err = a.AdjustBalance(ctx, "acme", &store.LedgerEntry{At: base, Amount: -300, Unit: "tokens", Actor: "admin"}, false)
	require.NoError(t, err)
	require.EqualValues(t, 700, *tn.Balance)

	// A tenant without a row gets one from its first top-up.
	tn, err = a.AdjustBalance(ctx, "", &store.LedgerEntry{At: base, Amount: 5, Unit: "tokens", Actor: "admin"}, false)
	require.NoError(t, err)
	require.EqualValues(t, 5, *tn.Balance)
	require.Nil(t, tn.Limits.RPM)

	tn, err = a.SetTenantLimits(ctx, "acme", store.Limits{}, base.Add(time.Second))
	require.NoError(t, err)
	require.Nil(t, tn.Limits.RPM)
	require.EqualValues(t, 700, *tn.Balance, "limits keep the balance")

	all, err := a.ListTenants(ctx)
	require.NoError(t, err)
	require.Len(t, all, 2)
	require.Equal(t, "", all[0].ID)

	acme := "acme"
	led, err := a.ListLedger(ctx, store.LedgerFilter{Tenant: &acme})
	require.NoError(t, err)
	require.Len(t, led, 2)
	require.Equal(t, store.LedgerTopUp, led[0].Kind)
	require.EqualValues(t, -300, led[0].Delta)
	require.EqualValues(t, 700, *led[0].Balance)
	require.Equal(t, "first", led[1].Note)
	require.Greater(t, led[0].ID, led[1].ID, "newest first")
}

// charge is a charge of n estimated tokens at one unit per token.
func charge(tenant, key string, n int64) *store.Charge {
	return &store.Charge{Tenant: tenant, KeyID: key, Model: "doubao-seedance-1-0-pro-250528", EstimateTokens: n, Reserved: n,
		Rate: store.RateUnit, Unit: "tokens", CreatedAt: base}
}

func tenantTask(id, tenant string) *task.Task {
	tk := newTask(id)
	tk.Tenant = tenant
	return tk
}

func balanceOf(t *testing.T, a store.Store, tenant string) int64 {
	t.Helper()
	tn, err := a.GetTenant(t.Context(), tenant)
	require.NoError(t, err)
	require.NotNil(t, tn.Balance)
	return *tn.Balance
}

func topUp(t *testing.T, a store.Store, tenant string, n int64) {
	t.Helper()
	_, err := a.AdjustBalance(t.Context(), tenant, &store.LedgerEntry{At: base, Amount: n, Unit: "tokens", Actor: "test"}, false)
	require.NoError(t, err)
}

// finish moves a stored task to a terminal status through UpdateTask.
func finish(t *testing.T, s store.Store, id string, st task.Status, usage *task.Usage) {
	t.Helper()
	tk := get(t, s, id)
	tk.Status, tk.Usage = st, usage
	tk.UpdatedAt = base.Add(time.Hour)
	tk.FinishedAt, tk.NextCheckAt = ptr(tk.UpdatedAt), nil
	require.NoError(t, s.UpdateTask(t.Context(), tk))
}

func testAdmitSettle(t *testing.T, s store.Store, a store.Store) {
	ctx := t.Context()
	topUp(t, a, "acme", 1000)
	tk := callbackTask("cgt-ok", "https://example.com/hook")
	tk.Tenant = "acme"
	c := charge("acme", "key_a", 400)
	require.NoError(t, a.AdmitTask(ctx, tk, c, 0))
	require.EqualValues(t, 1, tk.Version)
	require.True(t, c.Held)
	require.EqualValues(t, 600, balanceOf(t, a, "acme"))
	requireTask(t, tk, get(t, s, "cgt-ok"))
	msgs, err := s.ListWebhookMessages(ctx, "cgt-ok")
	require.NoError(t, err)
	require.Len(t, msgs, 1, "an admitted task gets its first webhook event like a created one")
	n, err := a.OpenCharges(ctx, "key_a")
	require.NoError(t, err)
	require.Equal(t, 1, n)

	// A non-terminal update leaves the charge open.
	running := get(t, s, "cgt-ok")
	running.Status = task.StatusRunning
	require.NoError(t, s.UpdateTask(ctx, running))
	got, err := a.GetCharge(ctx, "cgt-ok")
	require.NoError(t, err)
	require.Equal(t, store.ChargeOpen, got.State)

	finish(t, s, "cgt-ok", task.StatusSucceeded, &task.Usage{TotalTokens: 350, CompletionTokens: 350})
	got, err = a.GetCharge(ctx, "cgt-ok")
	require.NoError(t, err)
	require.Equal(t, store.ChargeSettled, got.State)
	require.EqualValues(t, 350, got.Tokens)
	require.EqualValues(t, 350, got.Amount)
	require.True(t, got.SettledAt.Equal(msTime(base.Add(time.Hour))))
	require.EqualValues(t, 650, balanceOf(t, a, "acme"), "charged the usage, not the estimate")
	n, err = a.OpenCharges(ctx, "key_a")
	require.NoError(t, err)
	require.Equal(t, 0, n)

	// Writing the terminal task again settles nothing twice.
	again := get(t, s, "cgt-ok")
	again.Progress = 100
	require.NoError(t, s.UpdateTask(ctx, again))
	require.EqualValues(t, 650, balanceOf(t, a, "acme"))

	led, err := a.ListLedger(ctx, store.LedgerFilter{TaskID: "cgt-ok"})
	require.NoError(t, err)
	require.Len(t, led, 2)
	require.Equal(t, store.LedgerSettle, led[0].Kind)
	require.EqualValues(t, 350, led[0].Amount)
	require.EqualValues(t, 50, led[0].Delta)
	require.EqualValues(t, 650, *led[0].Balance)
	require.Equal(t, store.LedgerReserve, led[1].Kind)
	require.EqualValues(t, 400, led[1].Amount)
	require.EqualValues(t, -400, led[1].Delta)
	require.Equal(t, "key_a", led[1].KeyID)

	// Success without usage reported charges the estimate.
	require.NoError(t, a.AdmitTask(ctx, tenantTask("cgt-nousage", "acme"), charge("acme", "key_a", 100), 0))
	finish(t, s, "cgt-nousage", task.StatusSucceeded, nil)
	got, err = a.GetCharge(ctx, "cgt-nousage")
	require.NoError(t, err)
	require.EqualValues(t, 100, got.Amount)
	require.EqualValues(t, 550, balanceOf(t, a, "acme"))

	// Costs above the estimate are charged too (the balance may dip below zero).
	require.NoError(t, a.AdmitTask(ctx, tenantTask("cgt-over", "acme"), charge("acme", "key_a", 500), 0))
	finish(t, s, "cgt-over", task.StatusSucceeded, &task.Usage{TotalTokens: 600})
	require.EqualValues(t, -50, balanceOf(t, a, "acme"))
}

func testAdmitRelease(t *testing.T, s store.Store, a store.Store) {
	ctx := t.Context()
	topUp(t, a, "acme", 1000)
	for _, st := range []task.Status{task.StatusFailed, task.StatusCancelled, task.StatusExpired} {
		id := "cgt-" + string(st)
		require.NoError(t, a.AdmitTask(ctx, tenantTask(id, "acme"), charge("acme", "key_a", 300), 0))
		require.EqualValues(t, 700, balanceOf(t, a, "acme"))
		finish(t, s, id, st, &task.Usage{TotalTokens: 300}) // usage of a failed task is not billed
		require.EqualValues(t, 1000, balanceOf(t, a, "acme"), "%s releases the reservation", st)
		c, err := a.GetCharge(ctx, id)
		require.NoError(t, err)
		require.Equal(t, store.ChargeReleased, c.State)
		require.Zero(t, c.Amount)
	}
	// Deleting a live task releases its reservation in the same transaction.
	require.NoError(t, a.AdmitTask(ctx, tenantTask("cgt-deleted", "acme"), charge("acme", "key_a", 300), 0))
	require.NoError(t, s.DeleteTask(ctx, "cgt-deleted"))
	require.EqualValues(t, 1000, balanceOf(t, a, "acme"))
	c, err := a.GetCharge(ctx, "cgt-deleted")
	require.NoError(t, err, "the charge outlives its task")
	require.Equal(t, store.ChargeReleased, c.State)
	led, err := a.ListLedger(ctx, store.LedgerFilter{TaskID: "cgt-deleted"})
	require.NoError(t, err)
	require.Len(t, led, 2)
	require.Equal(t, store.LedgerRelease, led[0].Kind)
	require.EqualValues(t, 300, led[0].Delta)

	// A tenant without a balance is not limited, and its charges are still kept.
	require.NoError(t, a.AdmitTask(ctx, tenantTask("cgt-free", "free"), charge("free", "key_f", 1<<40), 0))
	c, err = a.GetCharge(ctx, "cgt-free")
	require.NoError(t, err)
	require.False(t, c.Held)
	finish(t, s, "cgt-free", task.StatusSucceeded, &task.Usage{TotalTokens: 42})
	c, err = a.GetCharge(ctx, "cgt-free")
	require.NoError(t, err)
	require.EqualValues(t, 42, c.Amount)
	_, err = a.GetTenant(ctx, "free")
	require.ErrorIs(t, err, store.ErrNotFound, "charging an unlimited tenant creates no balance")
}

func testAdmitRefused(t *testing.T, s store.Store, a store.Store) {
	ctx := t.Context()
	topUp(t, a, "acme", 500)
	err := a.AdmitTask(ctx, tenantTask("cgt-big", "acme"), charge("acme", "key_a", 501), 0)
	var be *store.BalanceError
	require.ErrorAs(t, err, &be)
	require.ErrorIs(t, err, store.ErrInsufficientBalance)
	require.EqualValues(t, 500, be.Balance)
	require.EqualValues(t, 501, be.Needed)
	_, err = s.GetTask(ctx, "cgt-big")
	require.ErrorIs(t, err, store.ErrNotFound, "a refused admission stores no task")
	_, err = a.GetCharge(ctx, "cgt-big")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.EqualValues(t, 500, balanceOf(t, a, "acme"))

	require.NoError(t, a.AdmitTask(ctx, tenantTask("cgt-1", "acme"), charge("acme", "key_a", 100), 2))
	require.NoError(t, a.AdmitTask(ctx, tenantTask("cgt-2", "acme"), charge("acme", "key_a", 100), 2))
	err = a.AdmitTask(ctx, tenantTask("cgt-3", "acme"), charge("acme", "key_a", 100), 2)
	var fe *store.InFlightError
	require.ErrorAs(t, err, &fe)
	require.ErrorIs(t, err, store.ErrTooManyInFlight)
	require.Equal(t, 2, fe.InFlight)
	require.NoError(t, a.AdmitTask(ctx, tenantTask("cgt-3", "acme"), charge("acme", "key_b", 100), 2), "the limit is per key")
	finish(t, s, "cgt-1", task.StatusFailed, nil)
	require.NoError(t, a.AdmitTask(ctx, tenantTask("cgt-4", "acme"), charge("acme", "key_a", 100), 2), "a finished task frees its slot")

	// An existing id is a conflict, and takes nothing from the balance.
	before := balanceOf(t, a, "acme")
	err = a.AdmitTask(ctx, tenantTask("cgt-4", "acme"), charge("acme", "key_c", 100), 0)
	require.ErrorIs(t, err, store.ErrConflict)
	require.Equal(t, before, balanceOf(t, a, "acme"))

	// A balance at zero or below admits nothing, not even a free estimate.
	topUp(t, a, "zero", 0)
	require.ErrorIs(t, a.AdmitTask(ctx, tenantTask("cgt-z", "zero"), charge("zero", "key_z", 0), 0), store.ErrInsufficientBalance)
}

func testAdmitConcurrentBalance(t *testing.T, s store.Store, a store.Store) {
	const callers, cost, fits = 24, 100, 7
	topUp(t, a, "acme", fits*cost+cost/2)
	var ok, refused atomic.Int32
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			err := a.AdmitTask(context.Background(), tenantTask(fmt.Sprintf("cgt-c%02d", i), "acme"), charge("acme", fmt.Sprintf("key_%d", i%3), cost), 0)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, store.ErrInsufficientBalance):
				refused.Add(1)
			default:
				errs[i] = err
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	require.EqualValues(t, fits, ok.Load(), "exactly what the balance covers is admitted")
	require.EqualValues(t, callers-fits, refused.Load())
	require.EqualValues(t, cost/2, balanceOf(t, a, "acme"), "never overspent")
	page, err := s.ListTasks(t.Context(), store.TaskFilter{Limit: 100})
	require.NoError(t, err)
	require.Len(t, page.Tasks, fits)
}

func testAdmitConcurrentInFlight(t *testing.T, s store.Store, a store.Store) {
	const callers, limit = 16, 3
	var ok atomic.Int32
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			err := a.AdmitTask(context.Background(), tenantTask(fmt.Sprintf("cgt-f%02d", i), "acme"), charge("acme", "key_a", 10), limit)
			switch {
			case err == nil:
				ok.Add(1)
			case !errors.Is(err, store.ErrTooManyInFlight):
				errs[i] = err
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	require.EqualValues(t, limit, ok.Load())
	n, err := a.OpenCharges(t.Context(), "key_a")
	require.NoError(t, err)
	require.Equal(t, limit, n)
}

// testLedgerNoDrift runs a mixed batch (successes, failures, cancels,
// expiries, deletes, concurrently) and checks the books: the balance is the
// top-ups minus the settled costs, the settled amounts equal the usages, and
// no reservation is left open.
func testLedgerNoDrift(t *testing.T, s store.Store, a store.Store) {
	ctx := t.Context()
	const start = 1_000_000
	topUp(t, a, "acme", start)
	const n = 40
	var wantTokens atomic.Int64
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			id := fmt.Sprintf("cgt-d%02d", i)
			c := charge("acme", "key_a", int64(1000+i*10))
			if err := a.AdmitTask(context.Background(), tenantTask(id, "acme"), c, 0); err != nil {
				errs[i] = err
				return
			}
			tk, err := s.GetTask(context.Background(), id)
			if err != nil {
				errs[i] = err
				return
			}
			tk.UpdatedAt = base.Add(time.Minute)
			switch i % 5 {
			case 0, 1:
				tk.Status, tk.Usage = task.StatusSucceeded, &task.Usage{TotalTokens: int64(900 + i*13)}
				wantTokens.Add(int64(900 + i*13))
			case 2:
				tk.Status = task.StatusFailed
			case 3:
				tk.Status = task.StatusCancelled
			case 4:
				if i%2 == 0 {
					errs[i] = s.DeleteTask(context.Background(), id)
					return
				}
				tk.Status = task.StatusExpired
			}
			errs[i] = s.UpdateTask(context.Background(), tk)
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))

	acme := "acme"
	var settled, topups, deltas int64
	reserved, closed := map[string]bool{}, map[string]bool{}
	before := int64(0)
	for {
		page, err := a.ListLedger(ctx, store.LedgerFilter{Tenant: &acme, Limit: 7, Before: before})
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			deltas += e.Delta
			switch e.Kind {
			case store.LedgerReserve:
				reserved[e.TaskID] = true
			case store.LedgerSettle:
				settled += e.Amount
				require.False(t, closed[e.TaskID], "closed twice")
				closed[e.TaskID] = true
			case store.LedgerRelease:
				require.False(t, closed[e.TaskID], "closed twice")
				closed[e.TaskID] = true
			case store.LedgerTopUp:
				topups += e.Amount
			}
		}
		before = page[len(page)-1].ID
	}
	require.Len(t, reserved, n)
	require.Equal(t, reserved, closed, "every reservation was settled or released")
	require.Equal(t, wantTokens.Load(), settled, "the settlements are the usages (one unit per token)")
	require.EqualValues(t, start, topups)
	require.Equal(t, topups-settled, balanceOf(t, a, "acme"), "the balance is the top-ups minus the costs")
	require.Equal(t, balanceOf(t, a, "acme"), deltas, "the deltas add up to the balance")
	for i := range n {
		c, err := a.GetCharge(ctx, fmt.Sprintf("cgt-d%02d", i))
		require.NoError(t, err)
		require.NotEqual(t, store.ChargeOpen, c.State)
	}
}

func testUnlimited(t *testing.T, s store.Store, a store.Store) {
	ctx := t.Context()
	topUp(t, a, "acme", 1000)
	require.NoError(t, a.AdmitTask(ctx, tenantTask("cgt-held", "acme"), charge("acme", "key_a", 400), 0))
	tn, err := a.AdjustBalance(ctx, "acme", &store.LedgerEntry{At: base, Actor: "admin", Unit: "tokens"}, true)
	require.NoError(t, err)
	require.Nil(t, tn.Balance)
	require.NoError(t, a.AdmitTask(ctx, tenantTask("cgt-free", "acme"), charge("acme", "key_a", 1<<40), 0), "unlimited")
	// A new balance must not be credited with a reservation made before it.
	topUp(t, a, "acme", 10)
	finish(t, s, "cgt-held", task.StatusFailed, nil)
	finish(t, s, "cgt-free", task.StatusSucceeded, &task.Usage{TotalTokens: 5})
	require.EqualValues(t, 10, balanceOf(t, a, "acme"))
}

func testTakeRequest(t *testing.T, s store.Store, a store.Store) {
	ctx := t.Context()
	w0 := base.Truncate(time.Minute)
	for i := range 3 {
		ok, err := a.TakeRequest(ctx, "key_a", w0, 3)
		require.NoError(t, err)
		require.True(t, ok, "request %d", i+1)
	}
	ok, err := a.TakeRequest(ctx, "key_a", w0, 3)
	require.NoError(t, err)
	require.False(t, ok, "the fourth in the window is refused")
	ok, err = a.TakeRequest(ctx, "key_b", w0, 3)
	require.NoError(t, err)
	require.True(t, ok, "limits are per key")
	ok, err = a.TakeRequest(ctx, "key_a", w0.Add(-time.Minute), 3)
	require.NoError(t, err)
	require.False(t, ok, "a late clock counts into the current window")
	ok, err = a.TakeRequest(ctx, "key_a", w0.Add(time.Minute), 3)
	require.NoError(t, err)
	require.True(t, ok, "a new window starts afresh")
	ok, err = a.TakeRequest(ctx, "key_a", w0, 3)
	require.NoError(t, err)
	require.True(t, ok, "…and a late clock counts into it")
	ok, err = a.TakeRequest(ctx, "key_a", w0.Add(time.Minute), 3)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = a.TakeRequest(ctx, "key_a", w0.Add(time.Minute), 3)
	require.NoError(t, err)
	require.False(t, ok)
}

func testTakeRequestConcurrent(t *testing.T, s store.Store, a store.Store) {
	const callers, limit = 30, 11
	w0 := base.Truncate(time.Minute)
	var ok atomic.Int32
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			took, err := a.TakeRequest(context.Background(), "key_a", w0, limit)
			errs[i] = err
			if took {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	require.EqualValues(t, limit, ok.Load())
}

func testUsage(t *testing.T, s store.Store, a store.Store) {
	ctx := t.Context()
	day1 := time.Date(2025, 3, 14, 23, 0, 0, 0, time.UTC)
	day2 := day1.Add(2 * time.Hour)
	mk := func(id, tenant, model string, at time.Time, st task.Status, tokens int64) {
		c := charge(tenant, "key_"+tenant, tokens)
		c.Model = model
		c.Rate = 2 * store.RateUnit // two units per token
		c.Unit = "micro-USD"
		require.NoError(t, a.AdmitTask(ctx, tenantTask(id, tenant), c, 0))
		tk := get(t, s, id)
		tk.Status, tk.Usage, tk.UpdatedAt = st, &task.Usage{TotalTokens: tokens}, at
		require.NoError(t, s.UpdateTask(ctx, tk))
	}
	mk("cgt-u1", "acme", "m1", day1, task.StatusSucceeded, 100)
	mk("cgt-u2", "acme", "m1", day1.Add(time.Minute), task.StatusSucceeded, 50)
	mk("cgt-u3", "acme", "m2", day1, task.StatusSucceeded, 7)
	mk("cgt-u4", "acme", "m1", day2, task.StatusSucceeded, 1)
	mk("cgt-u5", "acme", "m1", day2, task.StatusFailed, 1000)
	mk("cgt-u6", "other", "m1", day1, task.StatusSucceeded, 9)

	acme := "acme"
	rows, err := a.Usage(ctx, store.UsageFilter{Tenant: &acme})
	require.NoError(t, err)
	require.Equal(t, []store.UsageRow{
		{Day: "2025-03-15", Tenant: "acme", Model: "m1", Unit: "micro-USD", Tasks: 1, Tokens: 1, Amount: 2},
		{Day: "2025-03-14", Tenant: "acme", Model: "m1", Unit: "micro-USD", Tasks: 2, Tokens: 150, Amount: 300},
		{Day: "2025-03-14", Tenant: "acme", Model: "m2", Unit: "micro-USD", Tasks: 1, Tokens: 7, Amount: 14},
	}, rows)
	rows, err = a.Usage(ctx, store.UsageFilter{From: day2.Truncate(24 * time.Hour)})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	rows, err = a.Usage(ctx, store.UsageFilter{To: day2.Truncate(24 * time.Hour)})
	require.NoError(t, err)
	require.Len(t, rows, 3, "every tenant")
}

func testAudit(t *testing.T, s store.Store, a store.Store) {
	ctx := t.Context()
	for i := range 5 {
		e := &store.AuditEntry{At: base.Add(time.Duration(i) * time.Second), Actor: "admin", Action: "keys.create",
			Target: fmt.Sprintf("key_%d", i), Detail: `{"name":"x"}`, Status: 201, RequestID: "req"}
		require.NoError(t, a.AppendAudit(ctx, e))
		require.NotZero(t, e.ID)
	}
	page, err := a.ListAudit(ctx, store.AuditFilter{Limit: 3})
	require.NoError(t, err)
	require.Len(t, page, 3)
	require.Equal(t, "key_4", page[0].Target, "newest first")
	require.True(t, page[0].At.Equal(msTime(base.Add(4*time.Second))))
	require.Equal(t, 201, page[0].Status)
	rest, err := a.ListAudit(ctx, store.AuditFilter{Before: page[2].ID})
	require.NoError(t, err)
	require.Len(t, rest, 2)
	require.Equal(t, "key_0", rest[1].Target)

	// A tenant's entries: those made by its keys or done to them.
	for _, k := range []*store.APIKey{{ID: "key_a1", Tenant: "ta"}, {ID: "key_a2", Tenant: "ta"}, {ID: "key_b1", Tenant: "tb"}} {
		k.Hash, k.Scopes, k.CreatedAt = "h"+k.ID, []string{"admin"}, base
		require.NoError(t, a.CreateAPIKey(ctx, k))
	}
	for _, e := range []store.AuditEntry{
		{Actor: "key_a1", Action: "keys.create", Target: "key_a2"}, // by ta, to ta
		{Actor: "admin", Action: "keys.revoke", Target: "key_a2"},  // to ta
		{Actor: "key_a1", Action: "tenants.balance", Target: "ta"}, // by ta
		{Actor: "key_b1", Action: "keys.create", Target: "key_x"},  // by tb
		{Actor: "admin", Action: "tenants.limits", Target: "ta"},   // neither
	} {
		e.At, e.Detail = base, "{}"
		require.NoError(t, a.AppendAudit(ctx, &e))
	}
	actions := func(tenant string) []string {
		es, err := a.ListAudit(ctx, store.AuditFilter{Tenant: &tenant})
		require.NoError(t, err)
		var out []string
		for _, e := range es {
			out = append(out, e.Actor+">"+e.Target)
		}
		return out
	}
	require.Equal(t, []string{"key_a1>ta", "admin>key_a2", "key_a1>key_a2"}, actions("ta"))
	require.Equal(t, []string{"key_b1>key_x"}, actions("tb"))
	require.Empty(t, actions(""))
	all, err := a.ListAudit(ctx, store.AuditFilter{})
	require.NoError(t, err)
	require.Len(t, all, 10)
}
