package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/seedgate/seedgate/internal/baseservice"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/task"
)

// Key ids of the keys that are not stored.
const (
	AdminKeyID = "admin" // SEEDGATE_ADMIN_KEY
	OpenKeyID  = "open"  // everyone, on a gateway without keys
)

// DefaultCacheTTL is how long a looked-up key is trusted without asking the
// store again: a revoked key stops working within it on every instance.
const DefaultCacheTTL = 5 * time.Second

// KeyringConfig wires a Keyring.
type KeyringConfig struct {
	// Store keeps the stored keys and the tenants' limits; nil: only the
	// static and admin keys exist, without tenant limits.
	Store store.AccountStore
	// Static are SEEDGATE_API_KEYS: the default tenant ("") with read and submit.
	Static []string
	// AdminKey is SEEDGATE_ADMIN_KEY: every scope, in the default tenant.
	AdminKey string
	// Defaults are the gateway's limits for tenants that set none (0: unlimited).
	DefaultRPM, DefaultMaxInFlight int
	// TTL bounds how stale a cached key may be (DefaultCacheTTL when 0).
	TTL    time.Duration
	Now    func() time.Time
	Logger *slog.Logger
}

// Keyring authenticates API keys: the admin key, the static keys and the
// stored (hashed) keys, resolving each key's tenant, scopes and limits.
// Lookups are cached for TTL, so a request costs no store round trip while
// revocations and limit changes reach every instance within TTL (at once on
// the instance that made them, through Forget).
type Keyring struct {
	c      KeyringConfig
	static StaticKeys

	mu     sync.Mutex
	cache  map[[32]byte]cached
	closed bool      // a stored key exists: never open again
	openAt time.Time // when "no stored key" was last confirmed
}

type cached struct {
	p       Principal
	expires time.Time // of the cache entry (TTL, or the key's own expiry if sooner)
}

// Errors of Authenticate that mean "not this key" (401).
var (
	ErrNoKey      = errors.New("a valid API key is required: send Authorization: Bearer <key>")
	ErrInvalidKey = errors.New("the API key is not valid")
	ErrRevokedKey = errors.New("the API key was revoked")
	ErrExpiredKey = errors.New("the API key has expired")
)

// NewKeyring returns a Keyring.
func NewKeyring(c KeyringConfig) *Keyring {
	if c.TTL <= 0 {
		c.TTL = DefaultCacheTTL
	}
	c.Now, c.Logger = baseservice.Now(c.Now), baseservice.Logger(c.Logger)
	return &Keyring{c: c, static: StaticKeys(c.Static), cache: map[[32]byte]cached{}}
}

// Open reports whether the gateway takes requests without a key: no static
// key, no admin key and no stored key (revoked ones count: revoking the last
// key must not open the gateway).
func (k *Keyring) Open(ctx context.Context) (bool, error) {
	if len(k.c.Static) > 0 || k.c.AdminKey != "" {
		return false, nil
	}
	if k.c.Store == nil {
		return true, nil
	}
	now := k.c.Now()
	k.mu.Lock()
	closed, fresh := k.closed, now.Sub(k.openAt) < k.c.TTL
	k.mu.Unlock()
	if closed {
		return false, nil
	}
	if fresh {
		return true, nil
	}
	has, err := k.c.Store.HasAPIKeys(ctx)
	if err != nil {
		return false, err
	}
	k.mu.Lock()
	if has {
		k.closed = true
	} else {
		k.openAt = now
	}
	k.mu.Unlock()
	return !has, nil
}

// OpenPrincipal is the caller on an open gateway (cached like a key: its
// limits are the default tenant's).
func (k *Keyring) OpenPrincipal(ctx context.Context) (Principal, error) {
	var none [32]byte // no key hashes to zeros
	now := k.c.Now()
	k.mu.Lock()
	e, ok := k.cache[none]
	k.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.p, nil
	}
	p, err := k.withTenantLimits(ctx, Principal{KeyID: OpenKeyID, Scopes: ScopesClient}, store.Limits{})
	if err != nil {
		return p, err
	}
	k.mu.Lock()
	k.cache[none] = cached{p: p, expires: now.Add(k.c.TTL)}
	k.mu.Unlock()
	return p, nil
}

// Authenticate returns the principal of key. Errors: ErrNoKey, ErrInvalidKey,
// ErrRevokedKey, ErrExpiredKey; anything else is the store failing.
func (k *Keyring) Authenticate(ctx context.Context, key string) (Principal, error) {
	if key == "" {
		return Principal{}, ErrNoKey
	}
	sum := sha256.Sum256([]byte(key))
	now := k.c.Now()
	k.mu.Lock()
	e, ok := k.cache[sum]
	k.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.p, nil
	}
	p, until, err := k.lookup(ctx, key, sum, now)
	if err != nil {
		k.mu.Lock()
		delete(k.cache, sum)
		k.mu.Unlock()
		return Principal{}, err
	}
	expires := now.Add(k.c.TTL)
	if !until.IsZero() && until.Before(expires) {
		expires = until
	}
	k.mu.Lock()
	if len(k.cache) > 10000 { // only valid keys are cached; bound it anyway
		k.cache = map[[32]byte]cached{}
	}
	k.cache[sum] = cached{p: p, expires: expires}
	k.mu.Unlock()
	return p, nil
}

// lookup finds key without the cache; until is when the key expires (zero: never).
func (k *Keyring) lookup(ctx context.Context, key string, sum [32]byte, now time.Time) (p Principal, until time.Time, err error) {
	if k.c.AdminKey != "" && subtle.ConstantTimeCompare([]byte(k.c.AdminKey), []byte(key)) == 1 {
		p = Principal{KeyID: AdminKeyID, Scopes: ScopesAll}
		p, err = k.withTenantLimits(ctx, p, store.Limits{RPM: new(int), MaxInFlight: new(int)})
		return p, time.Time{}, err
	}
	if sp, ok := k.static.Lookup(key); ok {
		sp.Scopes = ScopesClient
		p, err = k.withTenantLimits(ctx, sp, store.Limits{})
		return p, time.Time{}, err
	}
	id, ok := StoredKeyID(key)
	if !ok || k.c.Store == nil {
		return Principal{}, time.Time{}, ErrInvalidKey
	}
	sk, err := k.c.Store.GetAPIKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return Principal{}, time.Time{}, ErrInvalidKey
	}
	if err != nil {
		return Principal{}, time.Time{}, err
	}
	// The id only finds the row; the secret must match the stored hash.
	want := fmt.Sprintf("%x", sum)
	if subtle.ConstantTimeCompare([]byte(want), []byte(sk.Hash)) != 1 {
		return Principal{}, time.Time{}, ErrInvalidKey
	}
	switch {
	case sk.RevokedAt != nil:
		return Principal{}, time.Time{}, ErrRevokedKey
	case sk.ExpiresAt != nil && !now.Before(*sk.ExpiresAt):
		return Principal{}, time.Time{}, ErrExpiredKey
	}
	scopes, err := ParseScopes(sk.Scopes)
	if err != nil {
		return Principal{}, time.Time{}, fmt.Errorf("api key %s: %w", sk.ID, err)
	}
	p = Principal{KeyID: sk.ID, Tenant: sk.Tenant, Scopes: scopes, Name: sk.Name}
	if p, err = k.withTenantLimits(ctx, p, sk.Limits); err != nil {
		return Principal{}, time.Time{}, err
	}
	// Last use, at most once a minute per key and instance (a write per request would be too many).
	if sk.LastUsedAt == nil || now.Sub(*sk.LastUsedAt) > time.Minute {
		if err := k.c.Store.TouchAPIKey(ctx, sk.ID, now); err != nil {
			k.c.Logger.WarnContext(ctx, "recording the last use of an API key failed", "key", sk.ID, "err", err)
		}
	}
	if sk.ExpiresAt != nil {
		until = *sk.ExpiresAt
	}
	return p, until, nil
}

// withTenantLimits resolves p's limits: the key's own, else its tenant's, else the defaults.
func (k *Keyring) withTenantLimits(ctx context.Context, p Principal, own store.Limits) (Principal, error) {
	var tl store.Limits
	if k.c.Store != nil && (own.RPM == nil || own.MaxInFlight == nil) {
		t, err := k.c.Store.GetTenant(ctx, p.Tenant)
		switch {
		case err == nil:
			tl = t.Limits
		case !errors.Is(err, store.ErrNotFound):
			return p, err
		}
	}
	p.RPM = store.LimitOr(k.c.DefaultRPM, own.RPM, tl.RPM)
	p.MaxInFlight = store.LimitOr(k.c.DefaultMaxInFlight, own.MaxInFlight, tl.MaxInFlight)
	return p, nil
}

// Forget drops every cached key, so revocations and limit changes made here
// apply at once on this instance (others see them within TTL).
func (k *Keyring) Forget() {
	k.mu.Lock()
	k.cache = map[[32]byte]cached{}
	k.closed = false
	k.openAt = time.Time{}
	k.mu.Unlock()
}

// AuthError turns an Authenticate error into the error a client sees.
func AuthError(err error) *task.Error {
	switch {
	case errors.Is(err, ErrNoKey), errors.Is(err, ErrInvalidKey), errors.Is(err, ErrRevokedKey), errors.Is(err, ErrExpiredKey):
		return task.Errorf(task.CodeUnauthorized, "", "%s", err.Error())
	}
	return task.Errorf(task.CodeUnavailable, "", "the API key could not be checked: the store did not answer")
}
