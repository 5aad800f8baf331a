package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

var _ store.AccountStore = (*Store)(nil)

const apiKeyColumns = `id, hash, name, tenant, scopes, rpm, max_in_flight, created_at, created_by,
	expires_at, revoked_at, last_used_at`

const tenantColumns = `id, rpm, max_in_flight, balance, created_at, updated_at`

const chargeColumns = `task_id, tenant, key_id, model, state, held, estimate_tokens, reserved, rate, unit,
	tokens, amount, created_at, settled_at`

const ledgerColumns = `id, at, tenant, kind, task_id, key_id, model, tokens, amount, delta, balance, unit, actor, note`

const auditColumns = `id, at, actor, action, target, detail, status, request_id`

func scanAPIKey(r pgx.Row) (*store.APIKey, error) {
	var (
		k                         store.APIKey
		scopes                    string
		created                   int64
		expires, revoked, lastUse *int64
	)
	if err := r.Scan(&k.ID, &k.Hash, &k.Name, &k.Tenant, &scopes, &k.Limits.RPM, &k.Limits.MaxInFlight, &created, &k.CreatedBy,
		&expires, &revoked, &lastUse); err != nil {
		return nil, err
	}
	k.Scopes = []string{}
	if scopes != "" {
		k.Scopes = strings.Split(scopes, ",")
	}
	k.CreatedAt = fromMillis(created)
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = timePtr(expires), timePtr(revoked), timePtr(lastUse)
	return &k, nil
}

// CreateAPIKey implements store.AccountStore.
func (s *Store) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		k.ID, k.Hash, text(k.Name), text(k.Tenant), strings.Join(k.Scopes, ","), k.Limits.RPM, k.Limits.MaxInFlight,
		toMillis(k.CreatedAt), text(k.CreatedBy), nullMillis(k.ExpiresAt), nullMillis(k.RevokedAt), nullMillis(k.LastUsedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: create api key %s: %w", k.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: create api key %s: %w", k.ID, err)
	}
	return nil
}

// GetAPIKey implements store.AccountStore.
func (s *Store) GetAPIKey(ctx context.Context, id string) (*store.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1`, text(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: api key %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: api key %s: %w", id, err)
	}
	return k, nil
}

// ListAPIKeys implements store.AccountStore.
func (s *Store) ListAPIKeys(ctx context.Context, f store.KeyFilter) ([]*store.APIKey, error) {
	q, args := `SELECT `+apiKeyColumns+` FROM api_keys`, []any{}
	if f.Tenant != nil {
		q += ` WHERE tenant = $1`
		args = append(args, text(*f.Tenant))
	}
	rows, err := s.pool.Query(ctx, q+` ORDER BY created_at DESC, id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list api keys: %w", err)
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.APIKey, error) { return scanAPIKey(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list api keys: %w", err)
	}
	if keys == nil {
		keys = []*store.APIKey{}
	}
	return keys, nil
}

// HasAPIKeys implements store.AccountStore.
func (s *Store) HasAPIKeys(ctx context.Context) (bool, error) {
	var ok bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys)`).Scan(&ok); err != nil {
		return false, fmt.Errorf("postgres: has api keys: %w", err)
	}
	return ok, nil
}

// RevokeAPIKey implements store.AccountStore.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) (*store.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2
		RETURNING `+apiKeyColumns, toMillis(at), text(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: revoke api key %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: revoke api key %s: %w", id, err)
	}
	return k, nil
}

// SetAPIKeyLimits implements store.AccountStore.
func (s *Store) SetAPIKeyLimits(ctx context.Context, id string, l store.Limits) (*store.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `UPDATE api_keys SET rpm = $1, max_in_flight = $2 WHERE id = $3
		RETURNING `+apiKeyColumns, l.RPM, l.MaxInFlight, text(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: api key %s limits: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: api key %s limits: %w", id, err)
	}
	return k, nil
}

// TouchAPIKey implements store.AccountStore.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, toMillis(at), text(id)); err != nil {
		return fmt.Errorf("postgres: touch api key %s: %w", id, err)
	}
	return nil
}

func scanTenant(r pgx.Row) (*store.Tenant, error) {
	var (
		t                store.Tenant
		created, updated int64
	)
	if err := r.Scan(&t.ID, &t.Limits.RPM, &t.Limits.MaxInFlight, &t.Balance, &created, &updated); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &t, nil
}

// GetTenant implements store.AccountStore.
func (s *Store) GetTenant(ctx context.Context, id string) (*store.Tenant, error) {
	t, err := scanTenant(s.pool.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, text(id)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: tenant %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: tenant %q: %w", id, err)
	}
	return t, nil
}

// ListTenants implements store.AccountStore.
func (s *Store) ListTenants(ctx context.Context) ([]*store.Tenant, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list tenants: %w", err)
	}
	ts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.Tenant, error) { return scanTenant(r) })
	if err != nil {
		return nil, fmt.Errorf("postgres: list tenants: %w", err)
	}
	if ts == nil {
		ts = []*store.Tenant{}
	}
	return ts, nil
}

// SetTenantLimits implements store.AccountStore.
func (s *Store) SetTenantLimits(ctx context.Context, id string, l store.Limits, now time.Time) (*store.Tenant, error) {
	ms := toMillis(now)
	t, err := scanTenant(s.pool.QueryRow(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES ($1, $2, $3, NULL, $4, $4)
		ON CONFLICT (id) DO UPDATE SET rpm = excluded.rpm, max_in_flight = excluded.max_in_flight, updated_at = excluded.updated_at
		RETURNING `+tenantColumns, text(id), l.RPM, l.MaxInFlight, ms))
	if err != nil {
		return nil, fmt.Errorf("postgres: tenant %q limits: %w", id, err)
	}
	return t, nil
}

// AdjustBalance implements store.AccountStore.
func (s *Store) AdjustBalance(ctx context.Context, id string, e *store.LedgerEntry, unlimited bool) (*store.Tenant, error) {
	var t *store.Tenant
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		ms := toMillis(e.At)
		if _, err := tx.Exec(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES ($1, NULL, NULL, NULL, $2, $2)
			ON CONFLICT (id) DO NOTHING`, text(id), ms); err != nil {
			return err
		}
		e.Tenant = id
		if unlimited {
			if _, err := tx.Exec(ctx, `UPDATE tenants SET balance = NULL, updated_at = $1 WHERE id = $2`, ms, text(id)); err != nil {
				return err
			}
			// Open reservations no longer came from a balance: settling them
			// must not credit a balance set up later.
			if _, err := tx.Exec(ctx, `UPDATE charges SET held = false WHERE tenant = $1 AND state = 'open'`, text(id)); err != nil {
				return err
			}
			e.Kind, e.Delta, e.Balance = store.LedgerUnlimited, 0, nil
		} else {
			var bal int64
			if err := tx.QueryRow(ctx, `UPDATE tenants SET balance = coalesce(balance, 0) + $1, updated_at = $2 WHERE id = $3 RETURNING balance`,
				e.Amount, ms, text(id)).Scan(&bal); err != nil {
				return err
			}
			e.Kind, e.Delta, e.Balance = store.LedgerTopUp, e.Amount, &bal
		}
		if err := insertLedger(ctx, tx, e); err != nil {
			return err
		}
		var err error
		t, err = scanTenant(tx.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, text(id)))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: tenant %q balance: %w", id, err)
	}
	return t, nil
}

func insertLedger(ctx context.Context, tx pgx.Tx, e *store.LedgerEntry) error {
	return tx.QueryRow(ctx, `INSERT INTO ledger (at, tenant, kind, task_id, key_id, model, tokens, amount, delta, balance, unit, actor, note)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		toMillis(e.At), text(e.Tenant), e.Kind, text(e.TaskID), text(e.KeyID), text(e.Model), e.Tokens, e.Amount, e.Delta,
		e.Balance, text(e.Unit), text(e.Actor), text(e.Note)).Scan(&e.ID)
}

// AdmitTask implements store.AccountStore.
func (s *Store) AdmitTask(ctx context.Context, t *task.Task, c *store.Charge, maxInFlight int) error {
	if t == nil || t.ID == "" || c == nil {
		return errors.New("postgres: admit task: a task with an id and a charge are required")
	}
	args, err := taskArgs(t, 1)
	if err != nil {
		return fmt.Errorf("postgres: admit task %s: %w", t.ID, err)
	}
	args["msg_version"] = int64(1)
	args["notify_payload"] = s.notifyPayload(t.ID)
	c.TaskID, c.State, c.Held = t.ID, store.ChargeOpen, false
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if maxInFlight > 0 {
			// Admissions of one key queue on this lock, so two of them never
			// both count the same free slot; settlements need no lock (they
			// only free slots).
			if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('seedgate.inflight.' || current_schema() || '.' || $1, 0))`,
				text(c.KeyID)); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM charges WHERE key_id = $1 AND state = 'open'`, text(c.KeyID)).Scan(&n); err != nil {
				return err
			}
			if n >= maxInFlight {
				return &store.InFlightError{InFlight: n, Limit: maxInFlight}
			}
		}
		// FOR UPDATE: concurrent admissions of the tenant take turns with its balance.
		var bal *int64
		err := tx.QueryRow(ctx, `SELECT balance FROM tenants WHERE id = $1 FOR UPDATE`, text(c.Tenant)).Scan(&bal)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		entry := &store.LedgerEntry{At: c.CreatedAt, Tenant: c.Tenant, Kind: store.LedgerReserve, TaskID: t.ID, KeyID: c.KeyID,
			Model: c.Model, Tokens: c.EstimateTokens, Amount: c.Reserved, Unit: c.Unit, Actor: c.KeyID}
		if bal != nil {
			if *bal < c.Reserved || *bal <= 0 {
				return &store.BalanceError{Balance: *bal, Needed: c.Reserved}
			}
			var after int64
			if err := tx.QueryRow(ctx, `UPDATE tenants SET balance = balance - $1, updated_at = $2 WHERE id = $3 RETURNING balance`,
				c.Reserved, toMillis(c.CreatedAt), text(c.Tenant)).Scan(&after); err != nil {
				return err
			}
			c.Held, entry.Delta, entry.Balance = true, -c.Reserved, &after
		}
		if _, err := tx.Exec(ctx, createTaskSQL, args); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO charges (`+chargeColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			c.TaskID, text(c.Tenant), text(c.KeyID), text(c.Model), c.State, c.Held, c.EstimateTokens, c.Reserved, c.Rate, text(c.Unit),
			c.Tokens, c.Amount, toMillis(c.CreatedAt), nullMillis(c.SettledAt)); err != nil {
			return err
		}
		return insertLedger(ctx, tx, entry)
	})
	if err != nil {
		c.Held = false
		switch {
		case errors.Is(err, store.ErrTooManyInFlight), errors.Is(err, store.ErrInsufficientBalance):
			return err
		case isUniqueViolation(err):
			return fmt.Errorf("postgres: admit task %s: %w", t.ID, store.ErrConflict)
		}
		return fmt.Errorf("postgres: admit task %s: %w", t.ID, err)
	}
	t.Version = 1
	return nil
}

func scanCharge(r pgx.Row) (*store.Charge, error) {
	var (
		c       store.Charge
		created int64
		settled *int64
	)
	if err := r.Scan(&c.TaskID, &c.Tenant, &c.KeyID, &c.Model, &c.State, &c.Held, &c.EstimateTokens, &c.Reserved,
		&c.Rate, &c.Unit, &c.Tokens, &c.Amount, &created, &settled); err != nil {
		return nil, err
	}
	c.CreatedAt, c.SettledAt = fromMillis(created), timePtr(settled)
	return &c, nil
}

// settleCharge ends t's open charge, if it has one, as t's terminal status
// says (store.AccountStore's charge rule), inside the transaction that
// writes the status.
func settleCharge(ctx context.Context, tx pgx.Tx, t *task.Task) error {
	c, err := scanCharge(tx.QueryRow(ctx, `SELECT `+chargeColumns+` FROM charges WHERE task_id = $1 AND state = 'open' FOR UPDATE`, t.ID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("settle charge: %w", err)
	}
	state, tokens, amount := c.Settle(t)
	at := t.UpdatedAt
	if at.IsZero() {
		at = time.Now()
	}
	return closeCharge(ctx, tx, c, state, tokens, amount, at)
}

// closeCharge writes the end of an open charge: its state, the balance (the
// reservation back, the cost taken) and the ledger entry.
func closeCharge(ctx context.Context, tx pgx.Tx, c *store.Charge, state string, tokens, amount int64, at time.Time) error {
	ms := toMillis(at)
	if _, err := tx.Exec(ctx, `UPDATE charges SET state = $1, tokens = $2, amount = $3, settled_at = $4 WHERE task_id = $5`,
		state, tokens, amount, ms, c.TaskID); err != nil {
		return fmt.Errorf("close charge: %w", err)
	}
	e := &store.LedgerEntry{At: at, Tenant: c.Tenant, Kind: store.LedgerSettle, TaskID: c.TaskID, KeyID: c.KeyID,
		Model: c.Model, Tokens: tokens, Amount: amount, Unit: c.Unit, Actor: "gateway"}
	if state == store.ChargeReleased {
		e.Kind, e.Amount = store.LedgerRelease, c.Reserved
	}
	if c.Held {
		var bal int64
		err := tx.QueryRow(ctx, `UPDATE tenants SET balance = balance + $1, updated_at = $2 WHERE id = $3 AND balance IS NOT NULL RETURNING balance`,
			c.Reserved-amount, ms, c.Tenant).Scan(&bal)
		switch {
		case err == nil:
			e.Delta, e.Balance = c.Reserved-amount, &bal
		case !errors.Is(err, pgx.ErrNoRows): // no row: the tenant was made unlimited meanwhile
			return fmt.Errorf("close charge: %w", err)
		}
	}
	if err := insertLedger(ctx, tx, e); err != nil {
		return fmt.Errorf("close charge: %w", err)
	}
	return nil
}

// releaseCharge releases the open charge of a task being deleted.
func releaseCharge(ctx context.Context, tx pgx.Tx, taskID string, at time.Time) error {
	c, err := scanCharge(tx.QueryRow(ctx, `SELECT `+chargeColumns+` FROM charges WHERE task_id = $1 AND state = 'open' FOR UPDATE`, taskID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release charge: %w", err)
	}
	return closeCharge(ctx, tx, c, store.ChargeReleased, 0, 0, at)
}

// GetCharge implements store.AccountStore.
func (s *Store) GetCharge(ctx context.Context, taskID string) (*store.Charge, error) {
	c, err := scanCharge(s.pool.QueryRow(ctx, `SELECT `+chargeColumns+` FROM charges WHERE task_id = $1`, text(taskID)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: charge %s: %w", taskID, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: charge %s: %w", taskID, err)
	}
	return c, nil
}

// OpenCharges implements store.AccountStore.
func (s *Store) OpenCharges(ctx context.Context, keyID string) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM charges WHERE key_id = $1 AND state = 'open'`, text(keyID)).Scan(&n); err != nil {
		return 0, fmt.Errorf("postgres: open charges of %s: %w", keyID, err)
	}
	return n, nil
}

// where builds a WHERE clause of numbered parameters.
type where struct {
	terms []string
	args  []any
}

func (w *where) add(term string, arg any) {
	w.args = append(w.args, arg)
	w.terms = append(w.terms, strings.ReplaceAll(term, "?", "$"+strconv.Itoa(len(w.args))))
}

func (w *where) String() string {
	if len(w.terms) == 0 {
		return "TRUE"
	}
	return strings.Join(w.terms, " AND ")
}

// ListLedger implements store.AccountStore.
func (s *Store) ListLedger(ctx context.Context, f store.LedgerFilter) ([]*store.LedgerEntry, error) {
	var w where
	if f.Tenant != nil {
		w.add("tenant = ?", text(*f.Tenant))
	}
	if f.TaskID != "" {
		w.add("task_id = ?", text(f.TaskID))
	}
	if f.Before > 0 {
		w.add("id < ?", f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+ledgerColumns+` FROM ledger WHERE `+w.String()+
		` ORDER BY id DESC LIMIT `+strconv.Itoa(limit), w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list ledger: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.LedgerEntry, error) {
		var (
			e  store.LedgerEntry
			at int64
		)
		if err := r.Scan(&e.ID, &at, &e.Tenant, &e.Kind, &e.TaskID, &e.KeyID, &e.Model, &e.Tokens, &e.Amount, &e.Delta,
			&e.Balance, &e.Unit, &e.Actor, &e.Note); err != nil {
			return nil, err
		}
		e.At = fromMillis(at)
		return &e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list ledger: %w", err)
	}
	if out == nil {
		out = []*store.LedgerEntry{}
	}
	return out, nil
}

// Usage implements store.AccountStore.
func (s *Store) Usage(ctx context.Context, f store.UsageFilter) ([]store.UsageRow, error) {
	var w where
	w.terms = append(w.terms, "state = 'settled'")
	if f.Tenant != nil {
		w.add("tenant = ?", text(*f.Tenant))
	}
	if !f.From.IsZero() {
		w.add("settled_at >= ?", toMillis(f.From))
	}
	if !f.To.IsZero() {
		w.add("settled_at < ?", toMillis(f.To))
	}
	rows, err := s.pool.Query(ctx, `SELECT settled_at / 86400000 AS day, tenant, model, unit, count(*), sum(tokens)::bigint, sum(amount)::bigint
		FROM charges WHERE `+w.String()+`
		GROUP BY day, tenant, model, unit ORDER BY day DESC, tenant, model, unit`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: usage: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.UsageRow, error) {
		var (
			u   store.UsageRow
			day int64
		)
		if err := r.Scan(&day, &u.Tenant, &u.Model, &u.Unit, &u.Tasks, &u.Tokens, &u.Amount); err != nil {
			return u, err
		}
		u.Day = time.UnixMilli(day * 86400000).UTC().Format(time.DateOnly)
		return u, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: usage: %w", err)
	}
	if out == nil {
		out = []store.UsageRow{}
	}
	return out, nil
}

// TakeRequest implements store.AccountStore: one upsert that either counts
// the request or, when the window is full, matches nothing. Concurrent
// upserts of one key take turns on its row, each seeing the other's count.
func (s *Store) TakeRequest(ctx context.Context, keyID string, window time.Time, limit int) (bool, error) {
	var n int
	err := s.pool.QueryRow(ctx, `INSERT INTO rate_windows AS w (key_id, window_start, count) VALUES ($1, $2, 1)
		ON CONFLICT (key_id) DO UPDATE SET
			count = CASE WHEN excluded.window_start > w.window_start THEN 1 ELSE w.count + 1 END,
			window_start = greatest(w.window_start, excluded.window_start)
		WHERE excluded.window_start > w.window_start OR w.count < $3
		RETURNING count`, text(keyID), toMillis(window), limit).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("postgres: take request of %s: %w", keyID, err)
	}
	return true, nil
}

// AppendAudit implements store.AccountStore.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEntry) error {
	err := s.pool.QueryRow(ctx, `INSERT INTO audit_log (at, actor, action, target, detail, status, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		toMillis(e.At), text(e.Actor), text(e.Action), text(e.Target), text(e.Detail), e.Status, text(e.RequestID)).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	return nil
}

// ListAudit implements store.AccountStore.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditEntry, error) {
	var w where
	if f.Before > 0 {
		w.add("id < ?", f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.pool.Query(ctx, `SELECT `+auditColumns+` FROM audit_log WHERE `+w.String()+
		` ORDER BY id DESC LIMIT `+strconv.Itoa(limit), w.args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: list audit: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (*store.AuditEntry, error) {
		var (
			e  store.AuditEntry
			at int64
		)
		if err := r.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Status, &e.RequestID); err != nil {
			return nil, err
		}
		e.At = fromMillis(at)
		return &e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list audit: %w", err)
	}
	if out == nil {
		out = []*store.AuditEntry{}
	}
	return out, nil
}
