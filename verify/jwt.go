package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Signing algorithms a JWT signing key may use, by their JOSE names. Each key
// has exactly one (RFC 8725 §3.1).
const (
	AlgES256 = "ES256" // ECDSA P-256; the key is an *ecdsa.PublicKey
	AlgEdDSA = "EdDSA" // Ed25519; the key is an ed25519.PublicKey
	AlgHS256 = "HS256" // HMAC-SHA-256; the key is the []byte secret
)

// JWTOptions configures the verification of the access tokens authgate issues.
type JWTOptions struct {
	Issuer   string          // the iss every token must carry; required
	Audience string          // a value the aud of every token must hold; required
	Leeway   time.Duration   // clock skew allowed on exp, nbf and iat; default 30 s
	Keys     JWTKeys         // the issuer's verification keys; required
	Revoked  SessionDenyList // sessions whose tokens are refused; required
}

// JWTKeys looks up the issuer's verification keys. It is called for every token
// not already cached, so it must answer from memory, never over the network.
//
// When a key is removed, call Verifier.ForgetAll: tokens it signed that are
// already cached would otherwise keep passing for up to Options.CacheTTL.
type JWTKeys interface {
	// VerificationKey returns the algorithm (AlgES256, AlgEdDSA or AlgHS256)
	// and key of the signing key with this kid, or ok false if there is none.
	VerificationKey(kid string) (alg string, key any, ok bool)
}

// SessionDenyList says which login sessions are revoked, and whether it is up
// to date. It is asked on every request that presents a JWT, cached or not, so
// it must answer from memory. DenyList is one.
//
// Current is part of the contract, not an option: while it is false, access
// tokens are refused with a 500, because authgate fails closed rather than
// honour a token whose session may have been revoked where it cannot see. A
// list that is always complete (a fixed set, in a test) says so by returning
// true.
//
// Both take the time to judge at, the verifier's one clock reading for the
// request: a clock read costs about 0.1 µs on a VM, and the list is asked on
// every request that presents a JWT.
type SessionDenyList interface {
	// RevokedAt reports whether tokens of the session with this id must be
	// refused at now.
	RevokedAt(sessionID string, now time.Time) bool
	// CurrentAt reports whether the list may be trusted at now: it holds every
	// revocation made until a moment recent enough.
	CurrentAt(now time.Time) bool
}

// errDenyListStale is an internal failure: Status maps it to 500.
var errDenyListStale = errors.New("the session deny-list is out of date (Postgres unreachable?)")

// defaultLeeway follows RFC 7519 §4.1.4's "a few minutes at most", and the
// common 30 s of OAuth libraries.
const defaultLeeway = 30 * time.Second

// Why a JWT is refused, where the reason is always the same; built once.
var (
	errJWTDisabled    = fmt.Errorf("%w: JWTs are not enabled", ErrMalformed)
	errWrongTyp       = fmt.Errorf("%w: typ is not %s", ErrMalformed, TypAccessToken)
	errNoKid          = fmt.Errorf("%w: no kid", ErrMalformed)
	errCrit           = fmt.Errorf("%w: crit header parameters are not supported", ErrMalformed)
	errSessionRevoked = fmt.Errorf("%w: session revoked", ErrRevoked)
)

// jwtVerifier turns JWTs into principals: authgate's own access tokens and,
// when configured, those of external issuers, told apart by their iss. A
// verified token is cached, keyed by its exact string, until its exp or for
// CacheTTL, whichever is sooner; for an access token of authgate's own, the
// deny list is asked on every use.
type jwtVerifier struct {
	own   *ownJWT                    // nil: authgate's own access tokens are refused
	ext   map[string]*externalIssuer // by iss; nil: no external issuer
	cache *boundedCache[*tokenEntry]
	epoch atomic.Uint64 // bumped by forgetAll: verifications that started before it are not kept
	ttl   time.Duration
}

// ownJWT checks the access tokens authgate issues.
type ownJWT struct {
	parser  *jwt.Parser
	keys    JWTKeys
	revoked SessionDenyList
}

type tokenEntry struct {
	principal *Principal
	expires   int64 // unix ns: min(exp, verified + CacheTTL)
}

func newJWTVerifier(o *JWTOptions, ext []ExternalIssuer, size int, ttl time.Duration, now func() time.Time) (*jwtVerifier, error) {
	c, err := newBoundedCache[*tokenEntry](size)
	if err != nil {
		return nil, err
	}
	j := &jwtVerifier{cache: c, ttl: ttl}
	if o != nil {
		if j.own, err = newOwnJWT(*o, now); err != nil {
			return nil, err
		}
	}
	if len(ext) > 0 {
		if j.ext, err = newExternalIssuers(ext, o, now); err != nil {
			return nil, err
		}
	}
	return j, nil
}

func newOwnJWT(o JWTOptions, now func() time.Time) (*ownJWT, error) {
	switch {
	case o.Issuer == "" || o.Audience == "":
		return nil, errors.New("verify: JWTOptions needs an Issuer and an Audience")
	case o.Keys == nil || o.Revoked == nil:
		return nil, errors.New("verify: JWTOptions needs Keys and Revoked")
	case o.Leeway < 0:
		return nil, errors.New("verify: JWTOptions.Leeway must not be negative")
	case o.Leeway == 0:
		o.Leeway = defaultLeeway
	}
	return &ownJWT{
		// The algorithms any key may have; keyFor pins the one of the token's key.
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{AlgES256, AlgEdDSA, AlgHS256}),
			jwt.WithIssuer(o.Issuer),
			jwt.WithAudience(o.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(o.Leeway),
			jwt.WithStrictDecoding(),
			jwt.WithTimeFunc(now),
		),
		keys: o.Keys, revoked: o.Revoked,
	}, nil
}

// authenticate returns the principal behind a JWT at now, the verifier's clock.
func (j *jwtVerifier) authenticate(ctx context.Context, token string, now time.Time) (*Principal, error) {
	// 1. A token verified recently, and not yet expired, costs no signature check.
	e := j.cached(token, now)
	if e == nil {
		var err error
		if e, err = j.verify(ctx, token, now); err != nil {
			return nil, err
		}
	}
	return j.admit(e, now)
}

// cached returns the entry of token if it was verified and is still fresh at
// now, else nil (dropping a stale one). Only a token that passed verify is
// ever cached, so a hit is one whose shape, signature and claims were checked.
func (j *jwtVerifier) cached(token string, now time.Time) *tokenEntry {
	ns := now.UnixNano()
	e, ok := j.cache.Get(token, func(e *tokenEntry) bool { return ns < e.expires })
	if !ok {
		return nil
	}
	if ns >= e.expires {
		j.cache.Remove(token)
		return nil
	}
	return e
}

// admit returns the principal of a verified token, unless its session has
// ended by now.
func (j *jwtVerifier) admit(e *tokenEntry, now time.Time) (*Principal, error) {
	if e.principal.Kind != KindJWT {
		return e.principal, nil // an external issuer's: no session of ours to ask about
	}
	// 2. Its session, now: a logout takes effect even for cached tokens.
	if !j.own.revoked.CurrentAt(now) {
		return nil, errDenyListStale
	}
	if j.own.revoked.RevokedAt(e.principal.SessionID, now) {
		return nil, errSessionRevoked
	}
	return e.principal, nil
}

// verify checks the token's signature and claims, by its issuer's rules, and,
// if they admit it, caches the principal it names.
func (j *jwtVerifier) verify(ctx context.Context, token string, now time.Time) (*tokenEntry, error) {
	epoch := j.epoch.Load()
	var (
		p   *Principal
		exp time.Time
		err error
	)
	x, err := j.issuerOf(token)
	switch {
	case err != nil:
		return nil, err
	case x != nil:
		p, exp, err = x.verify(ctx, token)
	default:
		p, exp, err = j.own.verify(token)
	}
	if err != nil {
		return nil, err
	}
	e := &tokenEntry{principal: p, expires: min(now.Add(j.ttl).UnixNano(), exp.UnixNano())}
	if now.UnixNano() < e.expires && j.epoch.Load() == epoch {
		j.cache.Add(token, e)
	}
	return e, nil
}

// issuerOf returns the external issuer the token names, or nil for one of
// authgate's own. With no external issuer configured every JWT is taken for
// authgate's own, unread; otherwise its iss is read (not yet trusted: the
// issuer's rules then check everything) and one naming no configured issuer
// is refused.
func (j *jwtVerifier) issuerOf(token string) (*externalIssuer, error) {
	if j.ext == nil {
		if j.own == nil {
			return nil, errJWTDisabled
		}
		return nil, nil
	}
	iss, err := peekIssuer(token)
	if err != nil {
		return nil, err
	}
	if x, ok := j.ext[iss]; ok {
		return x, nil
	}
	if j.own == nil {
		return nil, fmt.Errorf("%w: iss %s is not a trusted issuer", ErrInvalidClaims, quote(iss))
	}
	return nil, nil // authgate's own, or refused by its parser's issuer check
}

// verify checks an access token of authgate's own and returns the principal
// it names and its exp.
func (o *ownJWT) verify(token string) (*Principal, time.Time, error) {
	var c AccessClaims
	if _, err := o.parser.ParseWithClaims(token, &c, o.keyFor); err != nil {
		return nil, time.Time{}, jwtError(err)
	}
	p, err := principalOf(&c)
	if err != nil {
		return nil, time.Time{}, err
	}
	return p, c.ExpiresAt.Time, nil // exp is required: never nil here
}

// keyFor is the parser's keyfunc. The parser has checked that alg is one we
// support; keyFor checks the header is an access token's and returns the key
// its kid names, only if alg is that key's algorithm. So a token cannot choose
// how its signature is checked: HS256 over a public key, or another key's
// algorithm, is refused.
func (o *ownJWT) keyFor(t *jwt.Token) (any, error) {
	if typ, _ := t.Header["typ"].(string); typ != TypAccessToken {
		return nil, errWrongTyp
	}
	if _, ok := t.Header["crit"]; ok {
		return nil, errCrit
	}
	kid, _ := t.Header["kid"].(string)
	if kid == "" {
		return nil, errNoKid
	}
	alg, key, ok := o.keys.VerificationKey(kid)
	if !ok {
		return nil, fmt.Errorf("%w %s", ErrUnknownSigningKey, quote(kid))
	}
	if got := t.Method.Alg(); got != alg {
		return nil, fmt.Errorf("%w: alg %s, but key %s is %s", ErrBadSignature, quote(got), quote(kid), alg)
	}
	return key, nil
}

// jwtError says why the parser refused a token in our sentinels, keeping its
// words for the log.
func jwtError(err error) error {
	var why error
	switch {
	case errors.Is(err, ErrMalformed), errors.Is(err, ErrUnknownSigningKey), errors.Is(err, ErrBadSignature):
		return fmt.Errorf("access token: %w", err) // keyFor's verdict, already ours
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		why = ErrBadSignature
	case errors.Is(err, jwt.ErrTokenExpired):
		why = ErrExpired
	case errors.Is(err, jwt.ErrTokenInvalidClaims):
		why = ErrInvalidClaims
	default: // undecodable segments, unknown alg: not a token we could have issued
		why = ErrMalformed
	}
	return fmt.Errorf("access token: %w: %w", why, err)
}

// principalOf builds the principal a verified token names, refusing claims no
// token of ours lacks and values that could not be passed on safely.
func principalOf(c *AccessClaims) (*Principal, error) {
	switch {
	case c.Subject == "":
		return nil, fmt.Errorf("access token: %w: no sub", ErrInvalidClaims)
	case c.SessionID == "":
		return nil, fmt.Errorf("access token: %w: no sid", ErrInvalidClaims)
	case c.ID == "":
		return nil, fmt.Errorf("access token: %w: no jti", ErrInvalidClaims)
	}
	var scopes []string
	if c.Scope != "" {
		scopes = strings.Split(c.Scope, " ")
	}
	for _, s := range scopes {
		if !ValidScope(s) {
			return nil, fmt.Errorf("access token: %w: scope %s", ErrInvalidClaims, quote(s))
		}
	}
	for _, r := range c.Roles { // joined with spaces in X-Auth-Roles: the same alphabet as scopes
		if !ValidScope(r) {
			return nil, fmt.Errorf("access token: %w: role %s", ErrInvalidClaims, quote(r))
		}
	}
	return NewPrincipal(Principal{Kind: KindJWT, Subject: c.Subject, User: c.Username, Email: c.Email,
		Roles: c.Roles, Scopes: scopes, SessionID: c.SessionID}), nil
}

func (j *jwtVerifier) forgetAll() {
	j.epoch.Add(1)
	j.cache.Purge()
}
