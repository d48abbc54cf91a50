package db

import (
	"context"
	"fmt"
	"time"

	"github.com/authgate/authgate/db/internal/dbsqlc"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

var _ verify.SessionStore = (*DB)(nil)

// SessionInsertBrowser implements issue.SessionStore: a browser session
// (s.Kind is ignored) with its cookie and its idle lifetime s.IdleTTL, in whole
// seconds. A new session is live. Returns verify.ErrNotFound if the user does
// not exist, issue.ErrConflict naming sessions_cookie_lookup_id_key if the
// cookie's lookup id is taken.
func (db *DB) SessionInsertBrowser(ctx context.Context, s issue.Session, c issue.SessionCookie) error {
	idle := int32(s.IdleTTL / time.Second)
	err := db.q.SessionInsert(ctx, dbsqlc.SessionInsertParams{
		ID: s.ID, UserID: s.UserID, CreatedAt: s.CreatedAt, RefreshedAt: s.RefreshedAt,
		IdleExpiresAt: s.IdleExpiresAt, ExpiresAt: s.ExpiresAt, IP: s.IP, UserAgent: s.UserAgent,
		Kind: issue.SessionBrowser, DeviceName: s.DeviceName, CookieLookupID: &c.LookupID, CookieMAC: c.SecretMAC,
		CookieMACVersion: &c.MACVersion, CookieDomain: &c.Domain, IdleSeconds: &idle, Remember: s.Remember,
	})
	return unknownName(err, map[string]string{"sessions_user_id_fkey": fmt.Sprintf("user %q", s.UserID)})
}

// SessionByCookie implements verify.SessionStore. ExpiresAt is the earlier of
// the idle and the absolute expiry. Roles and Scopes are the user's now:
// Scopes are what an access token signed now would carry (issue.UserScopes),
// so a role taken away counts from the next read. Returns verify.ErrNotFound
// if no browser session's cookie has this lookup id, which is also the case
// once its user is deleted.
func (db *DB) SessionByCookie(ctx context.Context, lookupID string) (verify.SessionRecord, error) {
	r, err := db.q.SessionGetByCookie(ctx, lookupID)
	if err != nil {
		return verify.SessionRecord{}, interpretError(err)
	}
	roles, perms, err := db.userGrants(ctx, r.UserID)
	if err != nil {
		return verify.SessionRecord{}, fmt.Errorf("session %s: %w", r.ID, err)
	}
	exp := r.ExpiresAt
	if r.IdleExpiresAt.Before(exp) {
		exp = r.IdleExpiresAt
	}
	return verify.SessionRecord{
		ID: r.ID, LookupID: r.CookieLookupID, SecretMAC: r.CookieMAC, MACVersion: r.CookieMACVersion, Domain: r.CookieDomain,
		ExpiresAt: exp, RevokedAt: orZero(r.RevokedAt), UserID: r.UserID, Username: r.Username, Email: r.Email,
		Roles: nonNil(roles), Scopes: issue.UserScopes(roles, perms), UserDisabled: r.UserDisabled,
	}, nil
}

// SessionsTouch implements verify.SessionStore: each browser session among
// ids that was live at at is last seen at at, and its idle expiry slides to
// at + its idle lifetime, never beyond its absolute expiry. Revoked and
// expired sessions are left as they are, and nothing moves backwards; API
// sessions among ids are ignored (a refresh touches those).
func (db *DB) SessionsTouch(ctx context.Context, ids []string, at time.Time) error {
	return interpretError(db.q.SessionsTouch(ctx, dbsqlc.SessionsTouchParams{Ids: ids, At: at}))
}
