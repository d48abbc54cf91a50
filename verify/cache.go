package verify

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// credCache remembers what the store said about API keys, personal tokens and
// browser sessions: the record and the principal built from it, or that there
// is none. Entries are keyed by the credential's prefix and lookup id (its
// Display), so a key, a token and a session cookie that happen to share a
// lookup id never see each other's entry.
// Entries live for a fixed time; Forget and ForgetAll drop them sooner when the
// store says something changed.
type credCache struct {
	keys     KeyStore
	tokens   TokenStore   // nil: personal tokens are refused before they reach the cache
	sessions SessionStore // nil: session cookies are refused before they reach the cache
	entries  *boundedCache[*entry]
	loads    singleflight.Group
	epoch    atomic.Uint64 // bumped by every Forget: loads that started before it are not kept
	ttl      time.Duration
	negTTL   time.Duration
	now      func() time.Time
}

// entry is what the cache keeps of one stored key, token or session: enough to
// check a presented secret and the credential's state at the time of each
// request.
type entry struct {
	kind      *storedKind
	id        string // the key's, token's or session's id, for last-used writes (and a session's deny-list check)
	principal *Principal
	expiresAt int64        // unix ns; 0: never
	expires   int64        // unix ns: when this entry stops being trusted
	touched   atomic.Int64 // unix seconds of the last use passed to the touch queue
	mac       storedMAC
	revoked   bool
	disabled  bool // the key, or the token's or session's user, is disabled
	missing   bool // the store has no credential with this lookup id
}

// storedMAC is a credential's stored secret MAC held in place, not behind a
// slice of its own: 32 bytes in the entry instead of a slice header there and
// an allocation elsewhere (about 40 bytes per cached credential).
type storedMAC struct {
	sum     [sha256.Size]byte
	n       uint8 // how many bytes of sum the store gave; 0 when it gave more than fit, so nothing matches
	version int16
}

// newStoredMAC keeps mac (of key version) in place. A MAC of another length
// than HMAC-SHA-256's never matches a presented secret (fail closed).
func newStoredMAC(version int16, mac []byte) storedMAC {
	m := storedMAC{version: version}
	if len(mac) <= len(m.sum) {
		m.n = uint8(copy(m.sum[:], mac))
	}
	return m
}

// bytes is the stored MAC as the store gave it (empty when it was too long).
func (m *storedMAC) bytes() []byte { return m.sum[:m.n] }

// storedKind is a sort of credential the store holds, with the reasons it is
// refused, built once so that a refusal costs no allocation.
type storedKind struct {
	kind   Kind
	counts bool // Decision.CredentialID names its credentials: API keys and personal tokens
	prefix string
	noun   string // plural, for the log
	// Why a credential of this kind is refused.
	unknown, wrongSecret, revoked, disabled, expired error
}

var (
	storedKeys = &storedKind{kind: KindAPIKey, counts: true, prefix: PrefixAPIKey, noun: "keys", unknown: ErrUnknownKey, wrongSecret: ErrWrongSecret,
		revoked: ErrRevoked, disabled: ErrDisabled, expired: ErrExpired}
	storedTokens = &storedKind{kind: KindPersonalToken, counts: true, prefix: PrefixPersonalToken, noun: "personal tokens",
		unknown:     fmt.Errorf("personal token: %w", ErrUnknownKey),
		wrongSecret: fmt.Errorf("personal token: %w", ErrWrongSecret),
		revoked:     fmt.Errorf("personal token: %w", ErrRevoked),
		disabled:    fmt.Errorf("personal token: %w: its user is disabled", ErrDisabled),
		expired:     fmt.Errorf("personal token: %w", ErrExpired)}
)

// unixNano is t in unix nanoseconds, 0 for the zero time (never).
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// check returns why the credential may not be used at now, or nil.
func (e *entry) check(now time.Time) error {
	switch {
	case e.revoked:
		return e.kind.revoked
	case e.disabled:
		return e.kind.disabled
	case e.expiresAt != 0 && now.UnixNano() >= e.expiresAt:
		return e.kind.expired
	}
	return nil
}

// loadTimeout bounds one store read, whoever is waiting for it.
const loadTimeout = 2 * time.Second

func newCredCache(keys KeyStore, tokens TokenStore, sessions SessionStore, size int, ttl, negTTL time.Duration,
	now func() time.Time) (*credCache, error) {
	c, err := newBoundedCache[*entry](size)
	if err != nil {
		return nil, err
	}
	return &credCache{keys: keys, tokens: tokens, sessions: sessions, entries: c, ttl: ttl, negTTL: negTTL, now: now}, nil
}

// get returns the entry for the credential whose prefix and lookup id are
// display, as it stands at the caller's clock reading at, reading the store at
// most once at a time per display when the cache has nothing fresh. Store
// failures are returned (the caller fails closed); they are never cached.
func (c *credCache) get(ctx context.Context, display string, at time.Time) (*entry, error) {
	now := at.UnixNano()
	if e, ok := c.entries.Get(display, func(e *entry) bool { return now < e.expires }); ok && now < e.expires {
		return e, nil
	}
	v, err, _ := c.loads.Do(display, func() (any, error) { return c.load(ctx, display) })
	if err != nil {
		return nil, err
	}
	return v.(*entry), nil
}

func (c *credCache) load(ctx context.Context, display string) (*entry, error) {
	epoch := c.epoch.Load()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
	defer cancel()
	kind, lookupID := storedKeys, display[prefixLen:]
	var e *entry
	var err error
	switch display[:prefixLen] {
	case PrefixPersonalToken:
		kind = storedTokens
		e, err = c.loadToken(ctx, lookupID)
	case PrefixSession:
		kind = storedSessions
		e, err = c.loadSession(ctx, lookupID)
	default:
		e, err = c.loadKey(ctx, lookupID)
	}
	switch {
	case errors.Is(err, ErrNotFound):
		e = &entry{missing: true, expires: c.now().Add(c.negTTL).UnixNano()}
	case err != nil:
		return nil, fmt.Errorf("load %s: %w", display, err)
	default:
		e.expires = c.now().Add(c.ttl).UnixNano()
	}
	e.kind = kind
	if c.epoch.Load() == epoch { // nothing changed while we read: safe to keep
		// A copy: display is a slice of the presented credential, and the
		// cache must keep neither its secret nor its bytes alive.
		c.entries.Add(strings.Clone(display), e)
	}
	return e, nil
}

func (c *credCache) loadKey(ctx context.Context, lookupID string) (*entry, error) {
	r, err := c.keys.KeyByLookupID(ctx, lookupID)
	if err != nil {
		return nil, err
	}
	return &entry{id: r.ID, mac: newStoredMAC(r.MACVersion, r.SecretMAC),
		expiresAt: unixNano(r.ExpiresAt), revoked: !r.RevokedAt.IsZero(), disabled: !r.DisabledAt.IsZero(),
		principal: NewPrincipal(Principal{Kind: KindAPIKey, Subject: r.Subject,
			KeyID: r.ID, KeyName: r.Name, Scopes: r.Scopes, RateLimit: r.RateLimit})}, nil
}

func (c *credCache) loadToken(ctx context.Context, lookupID string) (*entry, error) {
	r, err := c.tokens.TokenByLookupID(ctx, lookupID)
	if err != nil {
		return nil, err
	}
	return &entry{id: r.ID, mac: newStoredMAC(r.MACVersion, r.SecretMAC),
		expiresAt: unixNano(r.ExpiresAt), revoked: !r.RevokedAt.IsZero(), disabled: r.UserDisabled,
		principal: NewPrincipal(Principal{Kind: KindPersonalToken, Subject: r.UserID,
			User: r.Username, Email: r.Email, Roles: r.Roles,
			KeyID: r.ID, KeyName: r.Name, Scopes: r.Scopes, RateLimit: r.RateLimit})}, nil
}

// forget drops the API key, the personal token and the session cookie with
// this lookup id: announcements carry the lookup id alone.
func (c *credCache) forget(lookupID string) {
	c.epoch.Add(1)
	c.entries.Remove(PrefixAPIKey + lookupID)
	c.entries.Remove(PrefixPersonalToken + lookupID)
	c.entries.Remove(PrefixSession + lookupID)
}

// toucher returns the store method recording last use for credentials of kind k.
func (c *credCache) toucher(k *storedKind) func(context.Context, []string, time.Time) error {
	switch k {
	case storedTokens:
		return c.tokens.TokensTouch
	case storedSessions:
		return c.sessions.SessionsTouch
	}
	return c.keys.KeysTouch
}

func (c *credCache) forgetAll() {
	c.epoch.Add(1)
	c.entries.Purge()
}
