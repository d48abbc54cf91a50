package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Options configures a Verifier. Zero values take the defaults shown.
type Options struct {
	CacheSize        int              // entries, keys, personal tokens and sessions together (and as many JWTs); default 100 000; the least likely to be asked for again are evicted first (W-TinyLFU)
	CacheTTL         time.Duration    // how long a verified key or token is trusted without the store; default 10 s
	NegativeCacheTTL time.Duration    // how long an unknown lookup id is remembered; default 5 s
	TouchInterval    time.Duration    // how often last-used times are written; default 10 s
	Now              func() time.Time // the clock; nil: time.Now, which also lets the handler's one clock read per request serve the verifier
	Logger           *slog.Logger

	// JWT, when set, admits authgate's JWT access tokens (cached like keys, up
	// to CacheSize tokens for at most CacheTTL). Without it they are refused as
	// malformed.
	JWT *JWTOptions

	// Tokens, when set, admits personal tokens (agp_…), read from it and cached
	// like API keys, in the same cache. Without it they are refused as
	// malformed.
	Tokens TokenStore

	// StaticKeys, when set, admits the keys fixed in the configuration. Only a
	// credential shaped like none of authgate's own (agk_, agp_, agr_, JWT) is
	// looked up there. Without it such credentials are refused as malformed.
	StaticKeys *StaticKeys

	// Sessions, when set, admits browser session cookies (ags_…), read from
	// its Store and cached like API keys, in the same cache; each use is also
	// checked against its Revoked list. Without it they are refused as
	// malformed.
	Sessions *SessionOptions

	// External lists the issuers other than authgate whose JWTs are admitted
	// (KindExternalJWT), each checked by its own rules and cached like
	// authgate's JWTs, in the same cache. A JWT is routed by its iss.
	External []ExternalIssuer
}

// Verifier turns a presented credential into a Principal. A key, personal
// token or session cookie seen within CacheTTL costs no store round trip, and a
// JWT seen within CacheTTL no signature check; a change the store announces
// (Forget) takes effect at once, and so does a revoked session. A Verifier is
// safe for concurrent use.
type Verifier struct {
	cache   *credCache
	jwt     *jwtVerifier    // nil: no JWT is accepted
	static  *StaticKeys     // nil: no static keys
	ended   SessionDenyList // browser sessions that ended; nil: sessions are not accepted
	cookie  string          // the session cookie's name; "" when sessions are not accepted
	hasher  *Hasher
	now     func() time.Time
	wall    bool // now is time.Now (Options.Now was nil): a caller's own time.Now reading may stand in for it
	log     *slog.Logger
	touches chan touchRef
	every   time.Duration
}

// touchRef names a key, a personal token or a session whose last use is to be written.
type touchRef struct {
	kind *storedKind
	id   string
}

// TouchGap is the least time between two last-used writes for one key,
// personal token or browser session.
const TouchGap = time.Minute

// Why a personal token is refused when they are not enabled; built once.
var errTokensDisabled = fmt.Errorf("%w: personal tokens are not enabled", ErrMalformed)

// NewVerifier returns a Verifier reading API keys from store, personal
// tokens from o.Tokens when it is set, and browser sessions from o.Sessions
// when it is set.
func NewVerifier(store KeyStore, hasher *Hasher, o Options) (*Verifier, error) {
	if o.CacheSize == 0 {
		o.CacheSize = 100_000
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = 10 * time.Second
	}
	if o.NegativeCacheTTL == 0 {
		o.NegativeCacheTTL = 5 * time.Second
	}
	if o.TouchInterval == 0 {
		o.TouchInterval = 10 * time.Second
	}
	wallClock := o.Now == nil
	if wallClock {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	var sessions SessionStore
	if o.Sessions != nil {
		if err := checkSessionOptions(o.Sessions); err != nil {
			return nil, err
		}
		sessions = o.Sessions.Store
	}
	c, err := newCredCache(store, o.Tokens, sessions, o.CacheSize, o.CacheTTL, o.NegativeCacheTTL, o.Now)
	if err != nil {
		return nil, err
	}
	v := &Verifier{cache: c, static: o.StaticKeys, hasher: hasher, now: o.Now, wall: wallClock, log: o.Logger,
		touches: make(chan touchRef, 1024), every: o.TouchInterval}
	if o.Sessions != nil {
		v.ended, v.cookie = o.Sessions.Revoked, o.Sessions.Cookie
	}
	if o.JWT != nil || len(o.External) > 0 {
		if v.jwt, err = newJWTVerifier(o.JWT, o.External, o.CacheSize, o.CacheTTL, o.Now); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Authenticate returns the principal behind credential: an API key, a personal
// token (Options.Tokens), a browser session cookie's value (Options.Sessions),
// an access token (Options.JWT) or a static key (Options.StaticKeys), told
// apart by their shape. It returns ErrMalformed, ErrUnknownKey,
// ErrWrongSecret, ErrExpired, ErrDisabled, ErrRevoked, ErrUnknownSigningKey,
// ErrBadSignature or ErrInvalidClaims when the credential may not be used
// (ErrRevoked too for a session on SessionOptions.Revoked), and any other
// error when the store could not be read, in which case the caller must deny.
func (v *Verifier) Authenticate(ctx context.Context, credential string) (*Principal, error) {
	p, _, err := v.authenticate(ctx, credential, v.now())
	return p, err
}

// credRef names the credential a request presented, as far as it is known
// (for Decision): its kind once its shape is recognised, and for an API key
// or a personal token that was found, its id, even when it is refused.
type credRef struct {
	kind Kind
	id   string
}

// authenticate is Authenticate at the verifier's clock reading at (the
// caller's one reading for the request), also naming the credential.
func (v *Verifier) authenticate(ctx context.Context, credential string, at time.Time) (*Principal, credRef, error) {
	// A JWT verified before is found by its exact string, before its shape is
	// judged again: reading hundreds of bytes for that was most of what a
	// cached token cost. Only a token that passed every check is cached.
	if v.jwt != nil && !prefixed(credential) && len(credential) <= MaxCredentialLen {
		if e := v.jwt.cached(credential, at); e != nil {
			p, err := v.jwt.admit(e, at)
			return p, credRef{kind: e.principal.Kind}, err
		}
	}
	s, err := shapeOf(credential)
	switch {
	case err != nil:
		return nil, credRef{}, err
	case s == shapeAPIKey:
		return v.authenticateStored(ctx, storedKeys, credential, at)
	case s == shapePersonalToken && v.cache.tokens == nil:
		return nil, credRef{}, errTokensDisabled
	case s == shapePersonalToken:
		return v.authenticateStored(ctx, storedTokens, credential, at)
	case s == shapeSession && v.ended == nil:
		return nil, credRef{}, errSessionsDisabled
	case s == shapeSession:
		return v.authenticateStored(ctx, storedSessions, credential, at)
	case s == shapeJWT && v.jwt == nil:
		return nil, credRef{}, errJWTDisabled
	case s == shapeJWT:
		p, err := v.jwt.authenticate(ctx, credential, at)
		if err != nil {
			return nil, credRef{kind: KindJWT}, err
		}
		return p, credRef{kind: p.Kind}, nil
	case v.static == nil:
		return nil, credRef{}, errUnknownShape
	}
	p, err := v.static.authenticate(credential)
	return p, credRef{kind: KindStaticKey}, err
}

// authenticateStored verifies an API key, a personal token or a session
// cookie: they differ only in their prefix, the store they are read from, the
// principal built and, for a session, the deny list. now is the verifier's
// clock, read once by the caller.
func (v *Verifier) authenticateStored(ctx context.Context, kind *storedKind, credential string, now time.Time) (*Principal, credRef, error) {
	ref := credRef{kind: kind.kind}
	// 1. Shape and checksum: garbage costs no cache or store work.
	key, err := ParseKey(kind.prefix, credential)
	if err != nil {
		return nil, ref, err
	}
	// 2. The stored credential, from the cache or, at most once per TTL, the
	// store. Keyed by prefix and lookup id (a slice of credential: no allocation).
	// The caller's clock reading serves the cache and the state checks below.
	e, err := v.cache.get(ctx, credential[:prefixLen+lookupIDLen], now)
	if err != nil {
		return nil, ref, err
	}
	if e.missing {
		return nil, ref, kind.unknown
	}
	if kind.counts {
		ref.id = e.id
	}
	// 3. The secret, compared in constant time against its MAC.
	if !v.hasher.Equal(e.mac.version, key.Secret, e.mac.bytes()) {
		return nil, ref, kind.wrongSecret
	}
	// 4. Its state now, not when it was cached.
	if err := e.check(now); err != nil {
		return nil, ref, err
	}
	// 5. A session's sign-out, announced since the entry was read. Unlike a
	// JWT's, this check does not need the list to be Current: the entry is at
	// most CacheTTL old, and a reload reads the revocation from the store.
	if kind == storedSessions && v.ended.RevokedAt(e.id, now) {
		return nil, ref, errSessionEnded
	}
	v.touch(e, now)
	return e.principal, ref, nil
}

// Forget drops what the verifier knows about the API key, the personal token
// and the session cookie with this lookup id. Call it when the store announces
// that one changed.
func (v *Verifier) Forget(lookupID string) { v.cache.forget(lookupID) }

// ForgetAll drops everything cached: keys, personal tokens, sessions and JWTs.
// Call it after announcements may have been missed, when a user's roles,
// grants or state changed (personal tokens and sessions carry the user's
// current permissions), or when a JWT signing key was removed.
func (v *Verifier) ForgetAll() {
	v.cache.forgetAll()
	if v.jwt != nil {
		v.jwt.forgetAll()
	}
}

// touch queues a last-used write for the key, token or session, at most once per
// TouchGap per cache entry. It never blocks: when the queue is full the write
// is skipped.
func (v *Verifier) touch(e *entry, now time.Time) {
	sec := now.Unix()
	last := e.touched.Load()
	if sec-last < int64(TouchGap/time.Second) || !e.touched.CompareAndSwap(last, sec) {
		return
	}
	select {
	case v.touches <- touchRef{kind: e.kind, id: e.id}:
	default:
	}
}

// Run writes queued last-used times every TouchInterval, at most once per
// TouchGap per key, token or session, until ctx is done. Write failures are
// logged, never retried: last_used_at and a session's last seen are
// approximate by contract.
func (v *Verifier) Run(ctx context.Context) {
	tick := time.NewTicker(v.every)
	defer tick.Stop()
	pending := map[touchRef]bool{}
	written := map[touchRef]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case ref := <-v.touches:
			pending[ref] = true
		case <-tick.C:
			now := v.now()
			batches := map[*storedKind][]string{}
			for ref := range pending {
				if now.Sub(written[ref]) < TouchGap {
					continue
				}
				written[ref] = now
				batches[ref.kind] = append(batches[ref.kind], ref.id)
			}
			clear(pending)
			for ref, at := range written {
				if now.Sub(at) >= TouchGap {
					delete(written, ref)
				}
			}
			for kind, ids := range batches {
				v.write(ctx, kind.noun, ids, now, v.cache.toucher(kind))
			}
		}
	}
}

// write records one batch of last-used times, bounded like a store read.
func (v *Verifier) write(ctx context.Context, what string, ids []string, now time.Time,
	touch func(context.Context, []string, time.Time) error) {
	wctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	if err := touch(wctx, ids, now); err != nil && !errors.Is(err, context.Canceled) {
		v.log.Warn("record last use of "+what, "count", len(ids), "err", err)
	}
}
