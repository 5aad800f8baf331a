package store

import (
	"context"
	"errors"
	"fmt"
	"math/bits"
	"time"

	"github.com/seedgate/seedgate/internal/task"
)

// AccountStore keeps what tenants and their API keys are allowed: hashed API
// keys, per-tenant limits and balances, the charge (reservation) of every task
// and the ledger of balance changes, per-key request counters, and the admin
// audit log.
//
// The charge rule (kept by DB for every driver), like the outbox rule of
// WebhookStore: UpdateTask that writes a terminal status settles the task's
// open charge in the same transaction as the write — a succeeded task is
// charged its Usage.TotalTokens at the rate snapshotted in the charge (the
// estimate when it reports no usage), any other terminal status releases the
// reservation — and DeleteTask releases an open charge. So no reservation
// outlives its task and the ledger cannot drift, whoever finishes the task
// (the scheduler, a cancel, another instance) and wherever a process dies.
type AccountStore interface {
	AccountQueries
	// AdjustBalance adds e.Amount (may be negative) to the tenant's balance,
	// creating the balance (from 0) if the tenant had none, and records e in the
	// ledger (Kind LedgerTopUp). With unlimited set it removes the balance
	// instead (the tenant is no longer limited) and records an LedgerUnlimited entry.
	AdjustBalance(ctx context.Context, id string, e *LedgerEntry, unlimited bool) (*Tenant, error)
	// AdmitTask inserts t like CreateTask (outbox included) together with its
	// charge c, in one transaction, when the key has fewer than maxInFlight
	// open charges (0: no limit) and the tenant's balance, if it has one, covers
	// c.Reserved — which it then holds (c.Held). It records a LedgerReserve
	// entry. Errors: *InFlightError (errors.Is ErrTooManyInFlight),
	// *BalanceError (errors.Is ErrInsufficientBalance), ErrConflict (the task
	// id exists); nothing is written then.
	AdmitTask(ctx context.Context, t *task.Task, c *Charge, maxInFlight int) error
}

// AccountQueries are the account methods without a rule.
type AccountQueries interface {
	// CreateAPIKey stores k (ErrConflict if its id exists). k.Hash is all that
	// is kept of the secret.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// GetAPIKey returns the key with this id, or ErrNotFound.
	GetAPIKey(ctx context.Context, id string) (*APIKey, error)
	// ListAPIKeys returns keys, newest first.
	ListAPIKeys(ctx context.Context, f KeyFilter) ([]*APIKey, error)
	// HasAPIKeys reports whether any key was ever stored (revoked ones count:
	// revoking the last key must not open the gateway).
	HasAPIKeys(ctx context.Context) (bool, error)
	// RevokeAPIKey marks the key revoked at at (kept if it already was) and
	// returns it; ErrNotFound if there is none.
	RevokeAPIKey(ctx context.Context, id string, at time.Time) (*APIKey, error)
	// SetAPIKeyLimits replaces the key's own limits (nil fields: the tenant's).
	SetAPIKeyLimits(ctx context.Context, id string, l Limits) (*APIKey, error)
	// TouchAPIKey records when the key was last used.
	TouchAPIKey(ctx context.Context, id string, at time.Time) error

	// GetTenant returns the tenant's row, or ErrNotFound (a tenant exists
	// implicitly through its keys and tasks; a row holds limits or a balance).
	GetTenant(ctx context.Context, id string) (*Tenant, error)
	ListTenants(ctx context.Context) ([]*Tenant, error)
	// SetTenantLimits stores the tenant's default limits, creating its row.
	SetTenantLimits(ctx context.Context, id string, l Limits, now time.Time) (*Tenant, error)
	// SetTenantStorageQuota stores the bytes of files the tenant may keep
	// (nil: the gateway default; 0: unlimited), creating its row.
	SetTenantStorageQuota(ctx context.Context, id string, quota *int64, now time.Time) (*Tenant, error)
	// GetCharge returns a task's charge, or ErrNotFound.
	GetCharge(ctx context.Context, taskID string) (*Charge, error)
	// OpenCharges counts the open charges (in-flight tasks) of an API key.
	OpenCharges(ctx context.Context, keyID string) (int, error)
	// ListLedger returns entries, newest first.
	ListLedger(ctx context.Context, f LedgerFilter) ([]*LedgerEntry, error)
	// Usage sums the settled charges per tenant, model and UTC day of settlement.
	Usage(ctx context.Context, f UsageFilter) ([]UsageRow, error)

	// TakeRequest counts one request of keyID in the minute window starting at
	// window, unless limit requests were counted there already: then it counts
	// nothing and reports false. Atomic across instances sharing the database.
	TakeRequest(ctx context.Context, keyID string, window time.Time, limit int) (bool, error)

	// AppendAudit records an admin action (e.ID is set).
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// ListAudit returns entries, newest first.
	ListAudit(ctx context.Context, f AuditFilter) ([]*AuditEntry, error)
}

// Limits are per-key limits; nil means "inherit" (a key from its tenant, a
// tenant from the gateway's defaults), 0 means unlimited.
type Limits struct {
	RPM         *int `json:"rpm"`           // requests per minute
	MaxInFlight *int `json:"max_in_flight"` // queued + running tasks
}

// APIKey is a stored API key. The key itself is never stored: Hash is the
// hex SHA-256 of it.
type APIKey struct {
	ID         string // "key_…": the non-secret part of the key, also auth.Principal.KeyID
	Hash       string
	Name       string
	Tenant     string
	Scopes     []string // of auth's scopes: read, submit, admin
	Limits     Limits
	CreatedAt  time.Time
	CreatedBy  string // who made it (an admin key id, or cli)
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
}

// KeyFilter selects keys for ListAPIKeys.
type KeyFilter struct {
	Tenant *string // nil: every tenant
}

// Tenant is a tenant's stored settings.
type Tenant struct {
	ID     string
	Limits Limits
	// Balance, in Unit (tokens, or micro-units of the price table's currency);
	// nil means the tenant is not limited by a balance.
	Balance *int64
	// StorageQuota bounds the bytes of files the tenant keeps; nil: the
	// gateway default, 0: unlimited.
	StorageQuota *int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Charge states.
const (
	ChargeOpen     = "open"     // reserved; the task is live
	ChargeSettled  = "settled"  // the task succeeded and was charged Amount
	ChargeReleased = "released" // the task failed, was cancelled or expired: nothing charged
)

// RateUnit is the token count Charge.Rate prices.
const RateUnit = 1_000_000

// Charge is what a task costs its tenant: reserved at submit, settled or
// released when the task finishes (see AccountStore).
type Charge struct {
	TaskID string
	Tenant string
	KeyID  string
	Model  string
	State  string
	// Held says Reserved was taken from the tenant's balance (it had one at submit).
	Held           bool
	EstimateTokens int64
	Reserved       int64
	// Rate is the price snapshotted at submit: Unit per RateUnit tokens
	// (RateUnit for balances kept in tokens).
	Rate int64
	Unit string
	// Tokens and Amount: the usage and cost once settled.
	Tokens    int64
	Amount    int64
	CreatedAt time.Time
	SettledAt *time.Time
}

// Cost is the price of tokens at the charge's rate, rounded up.
func (c *Charge) Cost(tokens int64) int64 {
	return Cost(tokens, c.Rate)
}

// Cost is tokens × rate / RateUnit rounded up, saturating instead of overflowing.
func Cost(tokens, rate int64) int64 {
	if tokens <= 0 || rate <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(tokens), uint64(rate))
	if hi >= RateUnit { // the quotient would not fit in 64 bits
		return 1<<63 - 1
	}
	q, r := bits.Div64(hi, lo, RateUnit)
	if r > 0 {
		q++
	}
	if q > 1<<63-1 {
		return 1<<63 - 1
	}
	return int64(q)
}

// Settle returns how c ends for t, which has just reached a terminal status:
// the new state, the tokens counted and the amount charged. Stores call it in
// the transaction that writes the status.
func (c *Charge) Settle(t *task.Task) (state string, tokens, amount int64) {
	if t.Status != task.StatusSucceeded {
		return ChargeReleased, 0, 0
	}
	tokens = c.EstimateTokens // the provider said nothing: what was estimated
	if t.Usage != nil {
		tokens = t.Usage.TotalTokens
	}
	return ChargeSettled, tokens, c.Cost(tokens)
}

// Ledger entry kinds.
const (
	LedgerReserve   = "reserve"   // a task's estimate held at submit
	LedgerSettle    = "settle"    // a succeeded task's reservation exchanged for its cost
	LedgerRelease   = "release"   // a failed, cancelled or expired task's reservation returned
	LedgerTopUp     = "topup"     // an admin added to (or took from) the balance
	LedgerUnlimited = "unlimited" // an admin removed the balance: the tenant is unlimited
)

// LedgerEntry is one change of a tenant's budget.
type LedgerEntry struct {
	ID     int64
	At     time.Time
	Tenant string
	Kind   string
	TaskID string
	KeyID  string
	Model  string
	Tokens int64 // reserve: the estimate; settle: the usage
	// Amount is what the entry is about, in Unit: the reservation (reserve,
	// release), the cost (settle), the top-up.
	Amount int64
	// Delta is the change of the balance (0 for tenants without one).
	Delta int64
	// Balance after the entry; nil when the tenant has none.
	Balance *int64
	Unit    string
	Actor   string // who: an API key id, an admin, "gateway"
	Note    string
}

// LedgerFilter selects ledger entries.
type LedgerFilter struct {
	Tenant *string
	TaskID string
	Limit  int   // 0: 100
	Before int64 // entries with a smaller ID (paging); 0: from the newest
}

// UsageFilter selects what Usage sums. Zero fields do not filter.
type UsageFilter struct {
	Tenant   *string
	From, To time.Time // settled at in [From, To)
}

// UsageRow is the settled usage of one tenant, model and UTC day.
type UsageRow struct {
	Day    string // 2006-01-02
	Tenant string
	Model  string
	Unit   string
	Tasks  int
	Tokens int64
	Amount int64
}

// AuditEntry is one admin action.
type AuditEntry struct {
	ID        int64
	At        time.Time
	Actor     string // the key that did it (its id), or "cli"
	Action    string // e.g. keys.create, tenants.balance
	Target    string // what it was done to (a key id, a tenant)
	Detail    string // JSON of the parameters (never a secret)
	Status    int    // the HTTP status answered (0 for the CLI)
	RequestID string
}

// AuditFilter selects audit entries.
type AuditFilter struct {
	Limit  int   // 0: 100
	Before int64 // entries with a smaller ID (paging)
	// Tenant keeps the entries made by the tenant's stored keys or done to
	// them (nil: every entry).
	Tenant *string
}

// Admission errors.
var (
	ErrTooManyInFlight     = errors.New("store: too many tasks in flight")
	ErrInsufficientBalance = errors.New("store: insufficient balance")
)

// InFlightError says the key already has Limit tasks in flight.
type InFlightError struct{ InFlight, Limit int }

func (e *InFlightError) Error() string {
	return fmt.Sprintf("%d tasks in flight, the limit is %d", e.InFlight, e.Limit)
}
func (e *InFlightError) Unwrap() error { return ErrTooManyInFlight }

// BalanceError says the tenant's balance does not cover the reservation.
type BalanceError struct{ Balance, Needed int64 }

func (e *BalanceError) Error() string {
	return fmt.Sprintf("the balance is %d, the estimate needs %d", e.Balance, e.Needed)
}
func (e *BalanceError) Unwrap() error { return ErrInsufficientBalance }

// LimitOr resolves a limit: the first non-nil of ps, else def.
func LimitOr(def int, ps ...*int) int {
	for _, p := range ps {
		if p != nil {
			return *p
		}
	}
	return def
}
