package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"time"

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

func nullInt(p *int) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: int64(*p), Valid: true}
}

func intPtr(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

func int64Ptr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	v := n.Int64
	return &v
}

func scanAPIKey(r rowScanner) (*store.APIKey, error) {
	var (
		k                         store.APIKey
		scopes                    string
		rpm, inFlight             sql.NullInt64
		created                   int64
		expires, revoked, lastUse sql.NullInt64
	)
	if err := r.Scan(&k.ID, &k.Hash, &k.Name, &k.Tenant, &scopes, &rpm, &inFlight, &created, &k.CreatedBy,
		&expires, &revoked, &lastUse); err != nil {
		return nil, err
	}
	k.Scopes = splitScopes(scopes)
	k.Limits = store.Limits{RPM: intPtr(rpm), MaxInFlight: intPtr(inFlight)}
	k.CreatedAt = fromMillis(created)
	k.ExpiresAt, k.RevokedAt, k.LastUsedAt = timePtr(expires), timePtr(revoked), timePtr(lastUse)
	return &k, nil
}

func splitScopes(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Split(s, ",")
}

// CreateAPIKey implements store.AccountStore.
func (s *Store) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO api_keys (`+apiKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Hash, k.Name, k.Tenant, strings.Join(k.Scopes, ","), nullInt(k.Limits.RPM), nullInt(k.Limits.MaxInFlight),
		toMillis(k.CreatedAt), k.CreatedBy, nullMillis(k.ExpiresAt), nullMillis(k.RevokedAt), nullMillis(k.LastUsedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: create api key %s: %w", k.ID, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create api key %s: %w", k.ID, err)
	}
	return nil
}

// GetAPIKey implements store.AccountStore.
func (s *Store) GetAPIKey(ctx context.Context, id string) (*store.APIKey, error) {
	k, err := scanAPIKey(s.read.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: api key %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: api key %s: %w", id, err)
	}
	return k, nil
}

// ListAPIKeys implements store.AccountStore.
func (s *Store) ListAPIKeys(ctx context.Context, f store.KeyFilter) ([]*store.APIKey, error) {
	q, args := `SELECT `+apiKeyColumns+` FROM api_keys`, []any{}
	if f.Tenant != nil {
		q += ` WHERE tenant = ?`
		args = append(args, *f.Tenant)
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY created_at DESC, id DESC`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list api keys: %w", err)
	}
	defer rows.Close()
	out := []*store.APIKey{}
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list api keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list api keys: %w", err)
	}
	return out, nil
}

// HasAPIKeys implements store.AccountStore.
func (s *Store) HasAPIKeys(ctx context.Context) (bool, error) {
	var ok bool
	if err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys)`).Scan(&ok); err != nil {
		return false, fmt.Errorf("sqlite: has api keys: %w", err)
	}
	return ok, nil
}

// RevokeAPIKey implements store.AccountStore.
func (s *Store) RevokeAPIKey(ctx context.Context, id string, at time.Time) (*store.APIKey, error) {
	var k *store.APIKey
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, toMillis(at), id); err != nil {
			return err
		}
		var err error
		k, err = scanAPIKey(tx.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ?`, id))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: revoke api key %s: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: revoke api key %s: %w", id, err)
	}
	return k, nil
}

// SetAPIKeyLimits implements store.AccountStore.
func (s *Store) SetAPIKeyLimits(ctx context.Context, id string, l store.Limits) (*store.APIKey, error) {
	var k *store.APIKey
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET rpm = ?, max_in_flight = ? WHERE id = ?`,
			nullInt(l.RPM), nullInt(l.MaxInFlight), id); err != nil {
			return err
		}
		var err error
		k, err = scanAPIKey(tx.QueryRowContext(ctx, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = ?`, id))
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: api key %s limits: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: api key %s limits: %w", id, err)
	}
	return k, nil
}

// TouchAPIKey implements store.AccountStore.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, toMillis(at), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("sqlite: touch api key %s: %w", id, err)
	}
	return nil
}

func scanTenant(r rowScanner) (*store.Tenant, error) {
	var (
		t                      store.Tenant
		rpm, inFlight, balance sql.NullInt64
		created, updated       int64
	)
	if err := r.Scan(&t.ID, &rpm, &inFlight, &balance, &created, &updated); err != nil {
		return nil, err
	}
	t.Limits = store.Limits{RPM: intPtr(rpm), MaxInFlight: intPtr(inFlight)}
	t.Balance = int64Ptr(balance)
	t.CreatedAt, t.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &t, nil
}

// GetTenant implements store.AccountStore.
func (s *Store) GetTenant(ctx context.Context, id string) (*store.Tenant, error) {
	t, err := scanTenant(s.read.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: tenant %q: %w", id, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: tenant %q: %w", id, err)
	}
	return t, nil
}

// ListTenants implements store.AccountStore.
func (s *Store) ListTenants(ctx context.Context) ([]*store.Tenant, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list tenants: %w", err)
	}
	defer rows.Close()
	out := []*store.Tenant{}
	for rows.Next() {
		t, err := scanTenant(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list tenants: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list tenants: %w", err)
	}
	return out, nil
}

// SetTenantLimits implements store.AccountStore.
func (s *Store) SetTenantLimits(ctx context.Context, id string, l store.Limits, now time.Time) (*store.Tenant, error) {
	var t *store.Tenant
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ms := toMillis(now)
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES (?, ?, ?, NULL, ?, ?)
			ON CONFLICT (id) DO UPDATE SET rpm = excluded.rpm, max_in_flight = excluded.max_in_flight, updated_at = excluded.updated_at`,
			id, nullInt(l.RPM), nullInt(l.MaxInFlight), ms, ms); err != nil {
			return err
		}
		var err error
		t, err = scanTenant(tx.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: tenant %q limits: %w", id, err)
	}
	return t, nil
}

// AdjustBalance implements store.AccountStore.
func (s *Store) AdjustBalance(ctx context.Context, id string, e *store.LedgerEntry, unlimited bool) (*store.Tenant, error) {
	var t *store.Tenant
	err := s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ms := toMillis(e.At)
		if _, err := tx.ExecContext(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES (?, NULL, NULL, NULL, ?, ?)
			ON CONFLICT (id) DO NOTHING`, id, ms, ms); err != nil {
			return err
		}
		e.Tenant = id
		if unlimited {
			if _, err := tx.ExecContext(ctx, `UPDATE tenants SET balance = NULL, updated_at = ? WHERE id = ?`, ms, id); err != nil {
				return err
			}
			// Open reservations no longer came from a balance: settling them
			// must not credit a balance set up later.
			if _, err := tx.ExecContext(ctx, `UPDATE charges SET held = 0 WHERE tenant = ? AND state = 'open'`, id); err != nil {
				return err
			}
			e.Kind, e.Delta, e.Balance = store.LedgerUnlimited, 0, nil
		} else {
			var bal int64
			if err := tx.QueryRowContext(ctx, `UPDATE tenants SET balance = coalesce(balance, 0) + ?, updated_at = ? WHERE id = ? RETURNING balance`,
				e.Amount, ms, id).Scan(&bal); err != nil {
				return err
			}
			e.Kind, e.Delta, e.Balance = store.LedgerTopUp, e.Amount, &bal
		}
		if err := insertLedger(ctx, tx, e); err != nil {
			return err
		}
		var err error
		t, err = scanTenant(tx.QueryRowContext(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = ?`, id))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("sqlite: tenant %q balance: %w", id, err)
	}
	return t, nil
}

func insertLedger(ctx context.Context, tx *sql.Tx, e *store.LedgerEntry) error {
	var bal sql.NullInt64
	if e.Balance != nil {
		bal = sql.NullInt64{Int64: *e.Balance, Valid: true}
	}
	return tx.QueryRowContext(ctx, `INSERT INTO ledger (at, tenant, kind, task_id, key_id, model, tokens, amount, delta, balance, unit, actor, note)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		toMillis(e.At), e.Tenant, e.Kind, e.TaskID, e.KeyID, e.Model, e.Tokens, e.Amount, e.Delta, bal, e.Unit, e.Actor, e.Note).Scan(&e.ID)
}

// AdmitTask implements store.AccountStore.
func (s *Store) AdmitTask(ctx context.Context, t *task.Task, c *store.Charge, maxInFlight int) error {
	if t == nil || t.ID == "" || c == nil {
		return errors.New("sqlite: admit task: a task with an id and a charge are required")
	}
	args, err := taskArgs(t, 1)
	if err != nil {
		return fmt.Errorf("sqlite: admit task %s: %w", t.ID, err)
	}
	c.TaskID, c.State, c.Held = t.ID, store.ChargeOpen, false
	err = s.inWriteTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		// The single writer serializes admissions: what is counted here cannot
		// change before the insert below.
		if maxInFlight > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM charges WHERE key_id = ? AND state = 'open'`, c.KeyID).Scan(&n); err != nil {
				return err
			}
			if n >= maxInFlight {
				return &store.InFlightError{InFlight: n, Limit: maxInFlight}
			}
		}
		var bal sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT balance FROM tenants WHERE id = ?`, c.Tenant).Scan(&bal)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		entry := &store.LedgerEntry{At: c.CreatedAt, Tenant: c.Tenant, Kind: store.LedgerReserve, TaskID: t.ID, KeyID: c.KeyID,
			Model: c.Model, Tokens: c.EstimateTokens, Amount: c.Reserved, Unit: c.Unit, Actor: c.KeyID}
		if bal.Valid {
			if bal.Int64 < c.Reserved || bal.Int64 <= 0 {
				return &store.BalanceError{Balance: bal.Int64, Needed: c.Reserved}
			}
			var after int64
			if err := tx.QueryRowContext(ctx, `UPDATE tenants SET balance = balance - ?, updated_at = ? WHERE id = ? RETURNING balance`,
				c.Reserved, toMillis(c.CreatedAt), c.Tenant).Scan(&after); err != nil {
				return err
			}
			c.Held, entry.Delta, entry.Balance = true, -c.Reserved, &after
		}
		if err := insertTask(ctx, tx, t, args); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO charges (`+chargeColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			c.TaskID, c.Tenant, c.KeyID, c.Model, c.State, c.Held, c.EstimateTokens, c.Reserved, c.Rate, c.Unit,
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
			return fmt.Errorf("sqlite: admit task %s: %w", t.ID, store.ErrConflict)
		}
		return fmt.Errorf("sqlite: admit task %s: %w", t.ID, err)
	}
	t.Version = 1
	return nil
}

func scanCharge(r rowScanner) (*store.Charge, error) {
	var (
		c       store.Charge
		created int64
		settled sql.NullInt64
	)
	if err := r.Scan(&c.TaskID, &c.Tenant, &c.KeyID, &c.Model, &c.State, &c.Held, &c.EstimateTokens, &c.Reserved,
		&c.Rate, &c.Unit, &c.Tokens, &c.Amount, &created, &settled); err != nil {
		return nil, err
	}
	c.CreatedAt, c.SettledAt = fromMillis(created), timePtr(settled)
	return &c, nil
}

// settleCharge ends t's open charge, if it has one, as t's terminal status
// says (store.AccountStore's charge rule). It runs inside the transaction
// that writes the status.
func settleCharge(ctx context.Context, tx *sql.Tx, t *task.Task) error {
	c, err := scanCharge(tx.QueryRowContext(ctx, `SELECT `+chargeColumns+` FROM charges WHERE task_id = ? AND state = 'open'`, t.ID))
	if errors.Is(err, sql.ErrNoRows) {
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

// closeCharge writes the end of an open charge: its state, the balance
// (the reservation back, the cost taken) and the ledger entry.
func closeCharge(ctx context.Context, tx *sql.Tx, c *store.Charge, state string, tokens, amount int64, at time.Time) error {
	ms := toMillis(at)
	if _, err := tx.ExecContext(ctx, `UPDATE charges SET state = ?, tokens = ?, amount = ?, settled_at = ? WHERE task_id = ?`,
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
		err := tx.QueryRowContext(ctx, `UPDATE tenants SET balance = balance + ?, updated_at = ? WHERE id = ? AND balance IS NOT NULL RETURNING balance`,
			c.Reserved-amount, ms, c.Tenant).Scan(&bal)
		switch {
		case err == nil:
			e.Delta, e.Balance = c.Reserved-amount, &bal
		case !errors.Is(err, sql.ErrNoRows): // no row: the tenant was made unlimited meanwhile
			return fmt.Errorf("close charge: %w", err)
		}
	}
	if err := insertLedger(ctx, tx, e); err != nil {
		return fmt.Errorf("close charge: %w", err)
	}
	return nil
}

// releaseCharge releases the open charge of a task being deleted.
func releaseCharge(ctx context.Context, tx *sql.Tx, taskID string, at time.Time) error {
	c, err := scanCharge(tx.QueryRowContext(ctx, `SELECT `+chargeColumns+` FROM charges WHERE task_id = ? AND state = 'open'`, taskID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("release charge: %w", err)
	}
	return closeCharge(ctx, tx, c, store.ChargeReleased, 0, 0, at)
}

// GetCharge implements store.AccountStore.
func (s *Store) GetCharge(ctx context.Context, taskID string) (*store.Charge, error) {
	c, err := scanCharge(s.read.QueryRowContext(ctx, `SELECT `+chargeColumns+` FROM charges WHERE task_id = ?`, taskID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: charge %s: %w", taskID, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: charge %s: %w", taskID, err)
	}
	return c, nil
}

// OpenCharges implements store.AccountStore.
func (s *Store) OpenCharges(ctx context.Context, keyID string) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM charges WHERE key_id = ? AND state = 'open'`, keyID).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: open charges of %s: %w", keyID, err)
	}
	return n, nil
}

// ListLedger implements store.AccountStore.
func (s *Store) ListLedger(ctx context.Context, f store.LedgerFilter) ([]*store.LedgerEntry, error) {
	where, args := []string{"1 = 1"}, []any{}
	if f.Tenant != nil {
		where, args = append(where, "tenant = ?"), append(args, *f.Tenant)
	}
	if f.TaskID != "" {
		where, args = append(where, "task_id = ?"), append(args, f.TaskID)
	}
	if f.Before > 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	rows, err := s.read.QueryContext(ctx, `SELECT `+ledgerColumns+` FROM ledger WHERE `+strings.Join(where, " AND ")+
		` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list ledger: %w", err)
	}
	defer rows.Close()
	out := []*store.LedgerEntry{}
	for rows.Next() {
		var (
			e   store.LedgerEntry
			at  int64
			bal sql.NullInt64
		)
		if err := rows.Scan(&e.ID, &at, &e.Tenant, &e.Kind, &e.TaskID, &e.KeyID, &e.Model, &e.Tokens, &e.Amount, &e.Delta,
			&bal, &e.Unit, &e.Actor, &e.Note); err != nil {
			return nil, fmt.Errorf("sqlite: list ledger: %w", err)
		}
		e.At, e.Balance = fromMillis(at), int64Ptr(bal)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list ledger: %w", err)
	}
	return out, nil
}

// Usage implements store.AccountStore.
func (s *Store) Usage(ctx context.Context, f store.UsageFilter) ([]store.UsageRow, error) {
	where, args := []string{"state = 'settled'"}, []any{}
	if f.Tenant != nil {
		where, args = append(where, "tenant = ?"), append(args, *f.Tenant)
	}
	if !f.From.IsZero() {
		where, args = append(where, "settled_at >= ?"), append(args, toMillis(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "settled_at < ?"), append(args, toMillis(f.To))
	}
	rows, err := s.read.QueryContext(ctx, `SELECT settled_at / 86400000 AS day, tenant, model, unit, count(*), sum(tokens), sum(amount)
		FROM charges WHERE `+strings.Join(where, " AND ")+`
		GROUP BY day, tenant, model, unit ORDER BY day DESC, tenant, model, unit`, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: usage: %w", err)
	}
	defer rows.Close()
	out := []store.UsageRow{}
	for rows.Next() {
		var (
			r   store.UsageRow
			day int64
		)
		if err := rows.Scan(&day, &r.Tenant, &r.Model, &r.Unit, &r.Tasks, &r.Tokens, &r.Amount); err != nil {
			return nil, fmt.Errorf("sqlite: usage: %w", err)
		}
		r.Day = time.UnixMilli(day * 86400000).UTC().Format(time.DateOnly)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: usage: %w", err)
	}
	return out, nil
}

// TakeRequest implements store.AccountStore: one upsert that either counts
// the request or, when the window is full, matches nothing. A request counter
// need not survive a power cut, so its commit skips the fsync that every
// other commit makes (synchronous=NORMAL for this statement only): that is
// most of a commit's cost, and limited keys pay it on every request.
func (s *Store) TakeRequest(ctx context.Context, keyID string, window time.Time, limit int) (bool, error) {
	conn, err := s.write.Conn(ctx) // the writer pool's one connection
	if err != nil {
		return false, fmt.Errorf("sqlite: take request of %s: %w", keyID, err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
		return false, fmt.Errorf("sqlite: take request of %s: %w", keyID, err)
	}
	defer func() {
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`); err != nil {
			// Never hand back a connection less durable than the DSN says: drop it.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			s.log.Error("sqlite: restoring synchronous=FULL failed; connection dropped", "err", err)
		}
	}()
	var n int
	err = conn.QueryRowContext(ctx, `INSERT INTO rate_windows (key_id, window_start, count) VALUES (?1, ?2, 1)
		ON CONFLICT (key_id) DO UPDATE SET
			count = CASE WHEN excluded.window_start > rate_windows.window_start THEN 1 ELSE rate_windows.count + 1 END,
			window_start = max(rate_windows.window_start, excluded.window_start)
		WHERE excluded.window_start > rate_windows.window_start OR rate_windows.count < ?3
		RETURNING count`, keyID, toMillis(window), limit).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("sqlite: take request of %s: %w", keyID, err)
	}
	return true, nil
}

// AppendAudit implements store.AccountStore.
func (s *Store) AppendAudit(ctx context.Context, e *store.AuditEntry) error {
	err := s.write.QueryRowContext(ctx, `INSERT INTO audit_log (at, actor, action, target, detail, status, request_id)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		toMillis(e.At), e.Actor, e.Action, e.Target, e.Detail, e.Status, e.RequestID).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("sqlite: append audit: %w", err)
	}
	return nil
}

// ListAudit implements store.AccountStore.
func (s *Store) ListAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 100
	}
	q, args := `SELECT `+auditColumns+` FROM audit_log`, []any{}
	if f.Before > 0 {
		q += ` WHERE id < ?`
		args = append(args, f.Before)
	}
	rows, err := s.read.QueryContext(ctx, q+` ORDER BY id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list audit: %w", err)
	}
	defer rows.Close()
	out := []*store.AuditEntry{}
	for rows.Next() {
		var (
			e  store.AuditEntry
			at int64
		)
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Target, &e.Detail, &e.Status, &e.RequestID); err != nil {
			return nil, fmt.Errorf("sqlite: list audit: %w", err)
		}
		e.At = fromMillis(at)
		out = append(out, &e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list audit: %w", err)
	}
	return out, nil
}
