package verify

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// PrefixSession starts every browser session cookie's value. A session cookie
// has the format of an API key (see Key), with this prefix.
const PrefixSession = "ags_"

// SessionRecord is what the verifier needs to know about a browser session
// (its cookie's stored MAC and state) and the user it belongs to. Zero times
// mean "not set".
type SessionRecord struct {
	ID         string // ses_…
	LookupID   string
	SecretMAC  []byte
	MACVersion int16
	ExpiresAt  time.Time // the earlier of the idle and the absolute expiry
	RevokedAt  time.Time // zero: live
	Domain     string    // the cookie domain it was signed in for; honoured there only

	UserID, Username, Email string
	Roles                   []string
	Scopes                  []string // the user's usable permissions now (as an access token's scope claim)
	UserDisabled            bool
}

// SessionStore is the storage the verifier reads browser sessions from.
type SessionStore interface {
	// SessionByCookie returns the browser session whose cookie has this lookup id, in any state,
	// with its user. Returns ErrNotFound if there is none.
	SessionByCookie(ctx context.Context, lookupID string) (SessionRecord, error)
	// SessionsTouch records that these browser sessions were used at `at`: last seen = at, idle
	// expiry slid to least(at + idle, absolute expiry); revoked sessions and never backwards.
	SessionsTouch(ctx context.Context, ids []string, at time.Time) error
}

// SessionOptions admits browser session cookies (Options.Sessions).
type SessionOptions struct {
	// Store is where sessions are read; required.
	Store SessionStore
	// Revoked is asked on every use of a session, cached or not, so a sign-out
	// takes effect as soon as the list learns of it; required. It may be the
	// DenyList that JWTOptions.Revoked uses: both are keyed by session id.
	Revoked SessionDenyList
	// Cookie is the name of the cookie carrying the session (for example
	// __Secure-authgate_session); required.
	Cookie string
}

// Why a session is refused, built once so that a refusal costs no allocation.
var (
	storedSessions = &storedKind{kind: KindSession, prefix: PrefixSession, noun: "browser sessions",
		unknown:     fmt.Errorf("session cookie: %w", ErrUnknownKey),
		wrongSecret: fmt.Errorf("session cookie: %w", ErrWrongSecret),
		revoked:     fmt.Errorf("session cookie: %w", ErrRevoked),
		disabled:    fmt.Errorf("session cookie: %w: its user is disabled", ErrDisabled),
		expired:     fmt.Errorf("session cookie: %w", ErrExpired)}
	errSessionEnded     = fmt.Errorf("session cookie: %w: the session ended (deny list)", ErrRevoked)
	errSessionsDisabled = fmt.Errorf("%w: browser sessions are not enabled", ErrMalformed)
)

// checkSessionOptions refuses options that would admit sessions without a way
// to learn they ended, or without a cookie to read them from.
func checkSessionOptions(o *SessionOptions) error {
	switch {
	case o.Store == nil || o.Revoked == nil:
		return errors.New("verify: SessionOptions needs a Store and Revoked")
	case !validCookieName(o.Cookie):
		return fmt.Errorf("verify: SessionOptions.Cookie %s is not a cookie name", quote(o.Cookie))
	}
	return nil
}

func (c *credCache) loadSession(ctx context.Context, lookupID string) (*entry, error) {
	r, err := c.sessions.SessionByCookie(ctx, lookupID)
	if err != nil {
		return nil, err
	}
	return &entry{id: r.ID, mac: newStoredMAC(r.MACVersion, r.SecretMAC),
		expiresAt: unixNano(r.ExpiresAt), revoked: !r.RevokedAt.IsZero(), disabled: r.UserDisabled,
		principal: NewPrincipal(Principal{Kind: KindSession, Subject: r.UserID,
			User: r.Username, Email: r.Email, Roles: r.Roles, Scopes: r.Scopes, SessionID: r.ID,
			CookieDomain: r.Domain})}, nil
}
