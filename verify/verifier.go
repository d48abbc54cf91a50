package verify

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Options configures a Verifier. Zero values take the defaults shown.
type Options struct {
	CacheSize        int           // entries; default 100 000
	CacheTTL         time.Duration // how long a verified key is trusted without the store; default 10 s
	NegativeCacheTTL time.Duration // how long an unknown lookup id is remembered; default 5 s
	TouchInterval    time.Duration // how often last-used times are written; default 10 s
	Now              func() time.Time
	Logger           *slog.Logger

	// JWT, when set, admits authgate's JWT access tokens (cached like keys, up
	// to CacheSize tokens for at most CacheTTL). Without it they are refused as
	// malformed.
	JWT *JWTOptions
}

// Verifier turns a presented credential into a Principal. A key seen within
// CacheTTL costs no store round trip, and a token seen within CacheTTL no
// signature check; a change the store announces (Forget) takes effect at once,
// and so does a revoked session. A Verifier is safe for concurrent use.
type Verifier struct {
	cache   *keyCache
	jwt     *jwtVerifier // nil: JWTs are not accepted
	hasher  *Hasher
	now     func() time.Time
	log     *slog.Logger
	touches chan string
	every   time.Duration
}

// TouchGap is the least time between two last-used writes for one key.
const TouchGap = time.Minute

// NewVerifier returns a Verifier reading keys from store.
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
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	c, err := newKeyCache(store, o.CacheSize, o.CacheTTL, o.NegativeCacheTTL, o.Now)
	if err != nil {
		return nil, err
	}
	v := &Verifier{cache: c, hasher: hasher, now: o.Now, log: o.Logger,
		touches: make(chan string, 1024), every: o.TouchInterval}
	if o.JWT != nil {
		if v.jwt, err = newJWTVerifier(*o.JWT, o.CacheSize, o.CacheTTL, o.Now); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// Authenticate returns the principal behind credential: an API key or, when
// Options.JWT is set, an access token, told apart by their shape. It returns
// ErrMalformed, ErrUnknownKey, ErrWrongSecret, ErrExpired, ErrDisabled,
// ErrRevoked, ErrUnknownSigningKey, ErrBadSignature or ErrInvalidClaims when the
// credential may not be used, and any other error when the store could not be
// read, in which case the caller must deny.
func (v *Verifier) Authenticate(ctx context.Context, credential string) (*Principal, error) {
	s, err := shapeOf(credential)
	switch {
	case err != nil:
		return nil, err
	case s == shapeJWT && v.jwt == nil:
		return nil, errJWTDisabled
	case s == shapeJWT:
		return v.jwt.authenticate(credential)
	}
	return v.authenticateKey(ctx, credential)
}

func (v *Verifier) authenticateKey(ctx context.Context, credential string) (*Principal, error) {
	// 1. Shape and checksum: garbage costs no cache or store work.
	key, err := ParseKey(PrefixAPIKey, credential)
	if err != nil {
		return nil, err
	}
	// 2. The stored key, from the cache or, at most once per TTL, the store.
	e, err := v.cache.get(ctx, key.LookupID)
	if err != nil {
		return nil, err
	}
	if e.missing {
		return nil, ErrUnknownKey
	}
	// 3. The secret, compared in constant time against its MAC.
	if !v.hasher.Equal(e.rec.MACVersion, key.Secret, e.rec.SecretMAC) {
		return nil, ErrWrongSecret
	}
	// 4. Its state now, not when it was cached.
	now := v.now()
	if err := e.rec.check(now); err != nil {
		return nil, err
	}
	v.touch(e, now)
	return e.principal, nil
}

// Forget drops what the verifier knows about the key with this lookup id.
// Call it when the store announces that the key changed.
func (v *Verifier) Forget(lookupID string) { v.cache.forget(lookupID) }

// ForgetAll drops everything cached, keys and tokens, e.g. after announcements
// may have been missed or a JWT signing key was removed.
func (v *Verifier) ForgetAll() {
	v.cache.forgetAll()
	if v.jwt != nil {
		v.jwt.forgetAll()
	}
}

// touch queues a last-used write for the key, at most once per TouchGap per
// cache entry. It never blocks: when the queue is full the write is skipped.
func (v *Verifier) touch(e *entry, now time.Time) {
	sec := now.Unix()
	last := e.touched.Load()
	if sec-last < int64(TouchGap/time.Second) || !e.touched.CompareAndSwap(last, sec) {
		return
	}
	select {
	case v.touches <- e.rec.ID:
	default:
	}
}

// Run writes queued last-used times every TouchInterval, at most once per
// TouchGap per key, until ctx is done. Write failures are logged, never retried:
// last_used_at is approximate by contract.
func (v *Verifier) Run(ctx context.Context) {
	tick := time.NewTicker(v.every)
	defer tick.Stop()
	pending := map[string]bool{}
	written := map[string]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-v.touches:
			pending[id] = true
		case <-tick.C:
			now := v.now()
			ids := make([]string, 0, len(pending))
			for id := range pending {
				if now.Sub(written[id]) >= TouchGap {
					ids = append(ids, id)
					written[id] = now
				}
			}
			clear(pending)
			for id, at := range written {
				if now.Sub(at) >= TouchGap {
					delete(written, id)
				}
			}
			if len(ids) == 0 {
				continue
			}
			wctx, cancel := context.WithTimeout(ctx, loadTimeout)
			if err := v.cache.store.KeysTouch(wctx, ids, now); err != nil && !errors.Is(err, context.Canceled) {
				v.log.Warn("record last use of keys", "keys", len(ids), "err", err)
			}
			cancel()
		}
	}
}
