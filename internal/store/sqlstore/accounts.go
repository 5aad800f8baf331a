package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/seedgate/seedgate/internal/store"
)

const apiKeyColumns = `id, hash, name, tenant, scopes, rpm, max_in_flight, created_at, created_by,
	expires_at, revoked_at, last_used_at`

const tenantColumns = `id, rpm, max_in_flight, balance, created_at, updated_at, storage_quota`

const chargeColumns = `task_id, tenant, key_id, model, state, held, estimate_tokens, reserved, rate, unit,
	tokens, amount, created_at, settled_at`

const ledgerColumns = `id, at, tenant, kind, task_id, key_id, model, tokens, amount, delta, balance, unit, actor, note`

const auditColumns = `id, at, actor, action, target, detail, status, request_id`

var (
	insertAPIKeySQL = `INSERT INTO api_keys (` + apiKeyColumns + `) VALUES (` + params(1, 12) + `)`
	insertChargeSQL = `INSERT INTO charges (` + chargeColumns + `) VALUES (` + params(1, 14) + `)`
	insertLedgerSQL = `INSERT INTO ledger (at, tenant, kind, task_id, key_id, model, tokens, amount, delta, balance, unit, actor, note)
		VALUES (` + params(1, 13) + `) RETURNING id`
)

func scanAPIKey(r Row) (*store.APIKey, error) {
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

func nullInt(p *int) *int64 {
	if p == nil {
		return nil
	}
	v := int64(*p)
	return &v
}

// CreateAPIKey implements store.AccountQueries.
func (c Conn) CreateAPIKey(ctx context.Context, k *store.APIKey) error {
	_, err := c.Q.Exec(ctx, insertAPIKeySQL,
		k.ID, k.Hash, k.Name, k.Tenant, strings.Join(k.Scopes, ","), nullInt(k.Limits.RPM), nullInt(k.Limits.MaxInFlight),
		toMillis(k.CreatedAt), k.CreatedBy, nullMillis(k.ExpiresAt), nullMillis(k.RevokedAt), nullMillis(k.LastUsedAt))
	if err != nil {
		return fmt.Errorf("create api key %s: %w", k.ID, err)
	}
	return nil
}

// apiKey reads one key with query (which returns apiKeyColumns).
func (c Conn) apiKey(ctx context.Context, what, id, query string, args ...any) (*store.APIKey, error) {
	k, err := scanAPIKey(c.Q.QueryRow(ctx, query, args...))
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", what, id, err)
	}
	return k, nil
}

// GetAPIKey implements store.AccountQueries.
func (c Conn) GetAPIKey(ctx context.Context, id string) (*store.APIKey, error) {
	return c.apiKey(ctx, "api key", id, `SELECT `+apiKeyColumns+` FROM api_keys WHERE id = $1`, id)
}

// RevokeAPIKey implements store.AccountQueries.
func (c Conn) RevokeAPIKey(ctx context.Context, id string, at time.Time) (*store.APIKey, error) {
	return c.apiKey(ctx, "revoke api key", id, `UPDATE api_keys SET revoked_at = coalesce(revoked_at, $1) WHERE id = $2
		RETURNING `+apiKeyColumns, toMillis(at), id)
}

// SetAPIKeyLimits implements store.AccountQueries.
func (c Conn) SetAPIKeyLimits(ctx context.Context, id string, l store.Limits) (*store.APIKey, error) {
	return c.apiKey(ctx, "api key limits", id, `UPDATE api_keys SET rpm = $1, max_in_flight = $2 WHERE id = $3
		RETURNING `+apiKeyColumns, nullInt(l.RPM), nullInt(l.MaxInFlight), id)
}

// ListAPIKeys implements store.AccountQueries.
func (c Conn) ListAPIKeys(ctx context.Context, f store.KeyFilter) ([]*store.APIKey, error) {
	var w Where
	if f.Tenant != nil {
		w.Add("tenant = ?", *f.Tenant)
	}
	rows, err := c.Q.Query(ctx, `SELECT `+apiKeyColumns+` FROM api_keys`+w.SQL()+` ORDER BY created_at DESC, id DESC`, w.Args...)
	keys, err := collect(rows, err, scanAPIKey)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	return keys, nil
}

// HasAPIKeys implements store.AccountQueries.
func (c Conn) HasAPIKeys(ctx context.Context) (bool, error) {
	var ok bool
	if err := c.Q.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM api_keys)`).Scan(&ok); err != nil {
		return false, fmt.Errorf("has api keys: %w", err)
	}
	return ok, nil
}

// TouchAPIKey implements store.AccountQueries.
func (c Conn) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	if _, err := c.Q.Exec(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, toMillis(at), id); err != nil {
		return fmt.Errorf("touch api key %s: %w", id, err)
	}
	return nil
}

func scanTenant(r Row) (*store.Tenant, error) {
	var (
		t                store.Tenant
		created, updated int64
	)
	if err := r.Scan(&t.ID, &t.Limits.RPM, &t.Limits.MaxInFlight, &t.Balance, &created, &updated, &t.StorageQuota); err != nil {
		return nil, err
	}
	t.CreatedAt, t.UpdatedAt = fromMillis(created), fromMillis(updated)
	return &t, nil
}

// GetTenant implements store.AccountQueries and store.Executor.
func (c Conn) GetTenant(ctx context.Context, id string) (*store.Tenant, error) {
	t, err := scanTenant(c.Q.QueryRow(ctx, `SELECT `+tenantColumns+` FROM tenants WHERE id = $1`, id))
	if err != nil {
		return nil, fmt.Errorf("tenant %q: %w", id, err)
	}
	return t, nil
}

// ListTenants implements store.AccountQueries.
func (c Conn) ListTenants(ctx context.Context) ([]*store.Tenant, error) {
	rows, err := c.Q.Query(ctx, `SELECT `+tenantColumns+` FROM tenants ORDER BY id`)
	ts, err := collect(rows, err, scanTenant)
	if err != nil {
		return nil, fmt.Errorf("list tenants: %w", err)
	}
	return ts, nil
}

// SetTenantLimits implements store.AccountQueries.
func (c Conn) SetTenantLimits(ctx context.Context, id string, l store.Limits, now time.Time) (*store.Tenant, error) {
	t, err := scanTenant(c.Q.QueryRow(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES ($1, $2, $3, NULL, $4, $4, NULL)
		ON CONFLICT (id) DO UPDATE SET rpm = excluded.rpm, max_in_flight = excluded.max_in_flight, updated_at = excluded.updated_at
		RETURNING `+tenantColumns, id, nullInt(l.RPM), nullInt(l.MaxInFlight), toMillis(now)))
	if err != nil {
		return nil, fmt.Errorf("tenant %q limits: %w", id, err)
	}
	return t, nil
}

// SetTenantStorageQuota implements store.AccountQueries.
func (c Conn) SetTenantStorageQuota(ctx context.Context, id string, quota *int64, now time.Time) (*store.Tenant, error) {
	t, err := scanTenant(c.Q.QueryRow(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES ($1, NULL, NULL, NULL, $2, $2, $3)
		ON CONFLICT (id) DO UPDATE SET storage_quota = excluded.storage_quota, updated_at = excluded.updated_at
		RETURNING `+tenantColumns, id, toMillis(now), quota))
	if err != nil {
		return nil, fmt.Errorf("tenant %q storage quota: %w", id, err)
	}
	return t, nil
}

// EnsureTenant implements store.Executor.
func (c Conn) EnsureTenant(ctx context.Context, id string, at time.Time) error {
	_, err := c.Q.Exec(ctx, `INSERT INTO tenants (`+tenantColumns+`) VALUES ($1, NULL, NULL, NULL, $2, $2, NULL)
		ON CONFLICT (id) DO NOTHING`, id, toMillis(at))
	return err
}

// TenantBalance implements store.Executor.
func (c Conn) TenantBalance(ctx context.Context, id string) (*int64, error) {
	var bal *int64
	err := c.Q.QueryRow(ctx, `SELECT balance FROM tenants WHERE id = $1`+c.D.ForUpdate, id).Scan(&bal)
	if notFound(err) {
		return nil, nil
	}
	return bal, err
}

// AddBalance implements store.Executor.
func (c Conn) AddBalance(ctx context.Context, id string, delta int64, orZero bool, at time.Time) (*int64, error) {
	q := `UPDATE tenants SET balance = balance + $1, updated_at = $2 WHERE id = $3 AND balance IS NOT NULL RETURNING balance`
	if orZero {
		q = `UPDATE tenants SET balance = coalesce(balance, 0) + $1, updated_at = $2 WHERE id = $3 RETURNING balance`
	}
	var bal int64
	err := c.Q.QueryRow(ctx, q, delta, toMillis(at), id).Scan(&bal)
	if notFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &bal, nil
}

// RemoveBalance implements store.Executor.
func (c Conn) RemoveBalance(ctx context.Context, id string, at time.Time) error {
	_, err := c.Q.Exec(ctx, `UPDATE tenants SET balance = NULL, updated_at = $1 WHERE id = $2`, toMillis(at), id)
	return err
}

func scanCharge(r Row) (*store.Charge, error) {
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

// InsertCharge implements store.Executor.
func (c Conn) InsertCharge(ctx context.Context, ch *store.Charge) error {
	_, err := c.Q.Exec(ctx, insertChargeSQL,
		ch.TaskID, ch.Tenant, ch.KeyID, ch.Model, ch.State, ch.Held, ch.EstimateTokens, ch.Reserved, ch.Rate, ch.Unit,
		ch.Tokens, ch.Amount, toMillis(ch.CreatedAt), nullMillis(ch.SettledAt))
	return err
}

// OpenCharge implements store.Executor.
func (c Conn) OpenCharge(ctx context.Context, taskID string) (*store.Charge, error) {
	return scanCharge(c.Q.QueryRow(ctx, `SELECT `+chargeColumns+` FROM charges WHERE task_id = $1 AND state = 'open'`+c.D.ForUpdate, taskID))
}

// CloseCharge implements store.Executor.
func (c Conn) CloseCharge(ctx context.Context, taskID, state string, tokens, amount int64, at time.Time) error {
	return changed(c.Q.Exec(ctx, `UPDATE charges SET state = $1, tokens = $2, amount = $3, settled_at = $4
		WHERE task_id = $5 AND state = 'open'`, state, tokens, amount, toMillis(at), taskID))
}

// UnholdCharges implements store.Executor.
func (c Conn) UnholdCharges(ctx context.Context, tenant string) error {
	_, err := c.Q.Exec(ctx, `UPDATE charges SET held = false WHERE tenant = $1 AND state = 'open'`, tenant)
	return err
}

// LockOpenCharges implements store.Executor.
func (c Conn) LockOpenCharges(ctx context.Context, keyID string) (int, error) {
	if c.D.LockKey != "" {
		if _, err := c.Q.Exec(ctx, c.D.LockKey, "seedgate.inflight."+keyID); err != nil {
			return 0, err
		}
	}
	return c.countOpen(ctx, keyID)
}

func (c Conn) countOpen(ctx context.Context, keyID string) (int, error) {
	var n int
	err := c.Q.QueryRow(ctx, `SELECT count(*) FROM charges WHERE key_id = $1 AND state = 'open'`, keyID).Scan(&n)
	return n, err
}

// GetCharge implements store.AccountQueries.
func (c Conn) GetCharge(ctx context.Context, taskID string) (*store.Charge, error) {
	ch, err := scanCharge(c.Q.QueryRow(ctx, `SELECT `+chargeColumns+` FROM charges WHERE task_id = $1`, taskID))
	if err != nil {
		return nil, fmt.Errorf("charge %s: %w", taskID, err)
	}
	return ch, nil
}

// OpenCharges implements store.AccountQueries.
func (c Conn) OpenCharges(ctx context.Context, keyID string) (int, error) {
	n, err := c.countOpen(ctx, keyID)
	if err != nil {
		return 0, fmt.Errorf("open charges of %s: %w", keyID, err)
	}
	return n, nil
}

// InsertLedger implements store.Executor.
func (c Conn) InsertLedger(ctx context.Context, e *store.LedgerEntry) error {
	return c.Q.QueryRow(ctx, insertLedgerSQL,
		toMillis(e.At), e.Tenant, e.Kind, e.TaskID, e.KeyID, e.Model, e.Tokens, e.Amount, e.Delta, e.Balance, e.Unit, e.Actor, e.Note).Scan(&e.ID)
}

// ListLedger implements store.AccountQueries.
func (c Conn) ListLedger(ctx context.Context, f store.LedgerFilter) ([]*store.LedgerEntry, error) {
	var w Where
	if f.Tenant != nil {
		w.Add("tenant = ?", *f.Tenant)
	}
	if f.TaskID != "" {
		w.Add("task_id = ?", f.TaskID)
	}
	if f.Before > 0 {
		w.Add("id < ?", f.Before)
	}
	rows, err := c.Q.Query(ctx, `SELECT `+ledgerColumns+` FROM ledger`+w.SQL()+` ORDER BY id DESC LIMIT `+w.Next(limitOr100(f.Limit)), w.Args...)
	out, err := collect(rows, err, func(r Row) (*store.LedgerEntry, error) {
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
		return nil, fmt.Errorf("list ledger: %w", err)
	}
	return out, nil
}

func limitOr100(n int) int {
	if n <= 0 {
		return 100
	}
	return n
}

// Usage implements store.AccountQueries.
func (c Conn) Usage(ctx context.Context, f store.UsageFilter) ([]store.UsageRow, error) {
	var w Where
	w.Add("state = 'settled'")
	if f.Tenant != nil {
		w.Add("tenant = ?", *f.Tenant)
	}
	if !f.From.IsZero() {
		w.Add("settled_at >= ?", toMillis(f.From))
	}
	if !f.To.IsZero() {
		w.Add("settled_at < ?", toMillis(f.To))
	}
	rows, err := c.Q.Query(ctx, `SELECT settled_at / 86400000 AS day, tenant, model, unit, count(*),
			CAST(sum(tokens) AS bigint), CAST(sum(amount) AS bigint)
		FROM charges`+w.SQL()+`
		GROUP BY day, tenant, model, unit ORDER BY day DESC, tenant, model, unit`, w.Args...)
	out, err := collect(rows, err, func(r Row) (store.UsageRow, error) {
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
		return nil, fmt.Errorf("usage: %w", err)
	}
	return out, nil
}

// AppendAudit implements store.AccountQueries.
func (c Conn) AppendAudit(ctx context.Context, e *store.AuditEntry) error {
	err := c.Q.QueryRow(ctx, `INSERT INTO audit_log (at, actor, action, target, detail, status, request_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
		toMillis(e.At), e.Actor, e.Action, e.Target, e.Detail, e.Status, e.RequestID).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("append audit: %w", err)
	}
	return nil
}

// ListAudit implements store.AccountQueries.
func (c Conn) ListAudit(ctx context.Context, f store.AuditFilter) ([]*store.AuditEntry, error) {
	var w Where
	if f.Before > 0 {
		w.Add("id < ?", f.Before)
	}
	if f.Tenant != nil {
		w.Add("(actor IN (SELECT id FROM api_keys WHERE tenant = ?) OR target IN (SELECT id FROM api_keys WHERE tenant = ?))",
			*f.Tenant, *f.Tenant)
	}
	rows, err := c.Q.Query(ctx, `SELECT `+auditColumns+` FROM audit_log`+w.SQL()+` ORDER BY id DESC LIMIT `+w.Next(limitOr100(f.Limit)), w.Args...)
	out, err := collect(rows, err, func(r Row) (*store.AuditEntry, error) {
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
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return out, nil
}
