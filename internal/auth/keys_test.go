package auth_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/seedgate/seedgate/internal/auth"
	"github.com/seedgate/seedgate/internal/store"
	"github.com/seedgate/seedgate/internal/store/sqlite"
)

func TestNewKey(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		id, key := auth.NewKey()
		require.Regexp(t, `^sgk_[a-z2-7]{16}_[a-z2-7]{52}$`, key)
		got, ok := auth.StoredKeyID(key)
		require.True(t, ok)
		require.Equal(t, id, got)
		require.False(t, seen[key])
		seen[key] = true
		require.Len(t, auth.HashKey(key), 64)
	}
	for _, bad := range []string{"", "sgk_", "sk-abc", "sgk_aaaaaaaaaaaaaaaa_" + strings.Repeat("a", 51),
		"sgk_aaaaaaaaaaaaaaaa-" + strings.Repeat("a", 52), "sgk_AAAAAAAAAAAAAAAA_" + strings.Repeat("a", 52),
		"sgk_aaaaaaaaaaaaaaa1_" + strings.Repeat("a", 52)} {
		_, ok := auth.StoredKeyID(bad)
		require.False(t, ok, bad)
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	s, err := auth.ParseScopes([]string{"Read", " submit "})
	require.NoError(t, err)
	require.Equal(t, auth.ScopesClient, s)
	require.Equal(t, []string{"read", "submit"}, s.Names())
	require.True(t, auth.ScopesAll.Has(auth.ScopeAdmin|auth.ScopeRead))
	require.False(t, s.Has(auth.ScopeAdmin))
	_, err = auth.ParseScopes([]string{"read", "root"})
	require.Error(t, err)

	g, err := auth.ParseScopes([]string{"global_admin"})
	require.NoError(t, err)
	require.Equal(t, []string{"admin", "global_admin"}, g.Names(), "global_admin implies admin")
	require.True(t, auth.Principal{Scopes: g}.Global())
	require.True(t, auth.Principal{Scopes: auth.ScopesAll}.Global(), "SEEDGATE_ADMIN_KEY is a global admin")
	require.False(t, auth.Principal{Scopes: auth.ScopeAdmin | auth.ScopesClient}.Global(), "admin alone is a tenant's")
}

func FuzzStoredKeyID(f *testing.F) {
	_, key := auth.NewKey()
	f.Add(key)
	f.Add("sk-dialect-test")
	f.Add("Bearer " + key)
	f.Fuzz(func(t *testing.T, s string) {
		id, ok := auth.StoredKeyID(s)
		if ok && (!strings.HasPrefix(id, "key_") || len(id) != 20 || !strings.Contains(s, id[4:])) {
			t.Fatalf("StoredKeyID(%q) = %q", s, id)
		}
	})
}

func keyring(t testing.TB, c auth.KeyringConfig) (*auth.Keyring, store.Store) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "seedgate.db"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	c.Store = st
	return auth.NewKeyring(c), st
}

func storeKey(t testing.TB, st store.AccountStore, tenant string, scopes auth.Scope, l store.Limits, expires *time.Time) string {
	id, key := auth.NewKey()
	require.NoError(t, st.CreateAPIKey(context.Background(), &store.APIKey{ID: id, Hash: auth.HashKey(key), Tenant: tenant,
		Scopes: scopes.Names(), Limits: l, CreatedAt: time.Now(), ExpiresAt: expires}))
	return key
}

func TestKeyring(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := func() time.Time { return now }
	k, st := keyring(t, auth.KeyringConfig{Static: []string{"static-1"}, AdminKey: "admin-key-0123456789",
		DefaultRPM: 60, DefaultMaxInFlight: 4, TTL: time.Second, Now: clock})
	ctx := t.Context()
	open, err := k.Open(ctx)
	require.NoError(t, err)
	require.False(t, open, "static keys close the gateway")

	p, err := k.Authenticate(ctx, "static-1")
	require.NoError(t, err)
	require.Equal(t, auth.Principal{KeyID: "static:1", Scopes: auth.ScopesClient, RPM: 60, MaxInFlight: 4}, p)
	p, err = k.Authenticate(ctx, "admin-key-0123456789")
	require.NoError(t, err)
	require.Equal(t, auth.Principal{KeyID: "admin", Scopes: auth.ScopesAll}, p, "the admin key has no limits")

	// Limits: the key's own, else its tenant's, else the defaults.
	_, err = st.SetTenantLimits(ctx, "acme", store.Limits{RPM: new(int)}, now)
	require.NoError(t, err)
	five := 5
	own := storeKey(t, st, "acme", auth.ScopeRead, store.Limits{MaxInFlight: &five}, nil)
	p, err = k.Authenticate(ctx, own)
	require.NoError(t, err)
	require.Equal(t, "acme", p.Tenant)
	require.Equal(t, 0, p.RPM, "the tenant's 0: unlimited")
	require.Equal(t, 5, p.MaxInFlight)
	require.Equal(t, auth.ScopeRead, p.Scopes)

	for _, bad := range []string{"", "static-2", "sgk_aaaaaaaaaaaaaaaa_" + strings.Repeat("a", 52), flipLast(own)} {
		_, err := k.Authenticate(ctx, bad)
		require.Error(t, err, bad)
		require.Equal(t, "unauthorized", string(auth.AuthError(err).Code))
	}

	// Revocation: cached for the TTL, then refused.
	id, _ := auth.StoredKeyID(own)
	_, err = st.RevokeAPIKey(ctx, id, now)
	require.NoError(t, err)
	_, err = k.Authenticate(ctx, own)
	require.NoError(t, err, "still cached")
	now = now.Add(1100 * time.Millisecond)
	_, err = k.Authenticate(ctx, own)
	require.ErrorIs(t, err, auth.ErrRevokedKey)

	// Expiry ends the cache entry early.
	exp := now.Add(200 * time.Millisecond)
	short := storeKey(t, st, "acme", auth.ScopeRead, store.Limits{}, &exp)
	_, err = k.Authenticate(ctx, short)
	require.NoError(t, err)
	now = now.Add(300 * time.Millisecond)
	_, err = k.Authenticate(ctx, short)
	require.ErrorIs(t, err, auth.ErrExpiredKey)

	// A failing store is not "invalid key".
	st.Close()
	_, err = k.Authenticate(ctx, storeKeyLike())
	require.Error(t, err)
	require.False(t, errors.Is(err, auth.ErrInvalidKey))
	require.Equal(t, "unavailable", string(auth.AuthError(err).Code))
}

func flipLast(key string) string {
	if strings.HasSuffix(key, "a") {
		return key[:len(key)-1] + "b"
	}
	return key[:len(key)-1] + "a"
}

func storeKeyLike() string { _, k := auth.NewKey(); return k }

// BenchmarkAuthenticate is a request's key check once the key is cached.
func BenchmarkAuthenticate(b *testing.B) {
	k, st := keyring(b, auth.KeyringConfig{TTL: time.Hour})
	key := storeKey(b, st, "acme", auth.ScopesClient, store.Limits{}, nil)
	ctx := b.Context()
	for b.Loop() {
		if _, err := k.Authenticate(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAuthenticateUncached is the lookup each instance makes once per TTL and key.
func BenchmarkAuthenticateUncached(b *testing.B) {
	k, st := keyring(b, auth.KeyringConfig{TTL: time.Hour})
	key := storeKey(b, st, "acme", auth.ScopesClient, store.Limits{}, nil)
	ctx := b.Context()
	for b.Loop() {
		k.Forget()
		if _, err := k.Authenticate(ctx, key); err != nil {
			b.Fatal(err)
		}
	}
}
