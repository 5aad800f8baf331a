package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"
)

// Scope is what a key may do; a key holds a set of them (a bit mask).
type Scope uint8

const (
	// ScopeRead: read tasks, files, deliveries, usage (GET, and the POST routes that only read).
	ScopeRead Scope = 1 << iota
	// ScopeSubmit: create, cancel and delete tasks, upload files, manage webhooks.
	ScopeSubmit
	// ScopeAdmin: the admin API (/admin/v1) for the key's own tenant: its
	// keys, ledger, usage and audit log, never its balance or limits.
	ScopeAdmin
	// ScopeGlobalAdmin: the admin API for every tenant, balances and limits
	// included. It implies ScopeAdmin (ParseScopes adds it).
	ScopeGlobalAdmin

	// ScopesClient is what a static key (SEEDGATE_API_KEYS) may do.
	ScopesClient = ScopeRead | ScopeSubmit
	// ScopesAll is everything (SEEDGATE_ADMIN_KEY).
	ScopesAll = ScopeRead | ScopeSubmit | ScopeAdmin | ScopeGlobalAdmin
)

var scopeNames = []struct {
	s    Scope
	name string
}{{ScopeRead, "read"}, {ScopeSubmit, "submit"}, {ScopeAdmin, "admin"}, {ScopeGlobalAdmin, "global_admin"}}

// Has reports whether every scope of want is in s.
func (s Scope) Has(want Scope) bool { return s&want == want }

// Names lists the scopes of s by name, in a fixed order.
func (s Scope) Names() []string {
	out := []string{}
	for _, n := range scopeNames {
		if s.Has(n.s) {
			out = append(out, n.name)
		}
	}
	return out
}

func (s Scope) String() string { return strings.Join(s.Names(), ",") }

// ParseScopes reads scope names (read, submit, admin, global_admin); unknown
// names are an error.
func ParseScopes(names []string) (Scope, error) {
	var s Scope
next:
	for _, name := range names {
		name = strings.ToLower(strings.TrimSpace(name))
		for _, n := range scopeNames {
			if n.name == name {
				s |= n.s
				continue next
			}
		}
		return 0, fmt.Errorf("unknown scope %q: use read, submit, admin or global_admin", name)
	}
	if s.Has(ScopeGlobalAdmin) {
		s |= ScopeAdmin
	}
	return s, nil
}

// Stored keys look like sgk_<id>_<secret>: the id (16 base32 characters, 80
// random bits) names the key in lists, logs and the store without revealing
// it; the secret is 32 random bytes (52 base32 characters).
const (
	keyPrefix = "sgk_"
	idChars   = 16
	secretLen = 32
)

var keyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// NewKey returns a new stored key and its id ("key_<id>", Principal.KeyID).
func NewKey() (id, key string) {
	idb := make([]byte, idChars*5/8)
	sec := make([]byte, secretLen)
	_, _ = rand.Read(idb) // crypto/rand never fails on supported platforms
	_, _ = rand.Read(sec)
	raw := keyEncoding.EncodeToString(idb)
	return "key_" + raw, keyPrefix + raw + "_" + keyEncoding.EncodeToString(sec)
}

// StoredKeyID returns the id of a key in the stored-key format, or false.
func StoredKeyID(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, keyPrefix)
	if !ok || len(rest) != idChars+1+(secretLen*8+4)/5 || rest[idChars] != '_' {
		return "", false
	}
	for _, c := range rest[:idChars] + rest[idChars+1:] {
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return "", false
		}
	}
	return "key_" + rest[:idChars], true
}

// HashKey is what the store keeps of a key: the hex SHA-256 of it. A fast hash
// is the right one here: the keys are 256-bit random strings, so there is no
// dictionary to try and guessing is hopeless at any speed, while a slow
// password hash (bcrypt, argon2) would cost every request milliseconds of CPU
// for no gain.
func HashKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:])
}
