package db

import (
	"context"
	"fmt"
	"time"

	"github.com/authgate/authgate/db/internal/dbsqlc"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

var _ issue.SessionStore = (*DB)(nil)

// SessionInsert implements issue.SessionStore: an API session (s.Kind "" or
// issue.SessionAPI). A new session is live: s.RevokedAt and s.RevokeReason are
// ignored, and so are s.Remember and s.IdleTTL. Returns verify.ErrNotFound if
// the user does not exist.
func (db *DB) SessionInsert(ctx context.Context, s issue.Session) error {
	kind := s.Kind
	if kind == "" {
		kind = issue.SessionAPI
	}
	err := db.q.SessionInsert(ctx, dbsqlc.SessionInsertParams{
		ID: s.ID, UserID: s.UserID, CreatedAt: s.CreatedAt, RefreshedAt: s.RefreshedAt,
		IdleExpiresAt: s.IdleExpiresAt, ExpiresAt: s.ExpiresAt, IP: s.IP, UserAgent: s.UserAgent,
		Kind: kind, DeviceName: s.DeviceName,
	})
	return unknownName(err, map[string]string{"sessions_user_id_fkey": fmt.Sprintf("user %q", s.UserID)})
}

// SessionByID implements issue.SessionStore.
func (db *DB) SessionByID(ctx context.Context, id string) (issue.Session, error) {
	return sessionFromRow(db.q.SessionGetByID(ctx, id))
}

// SessionByIDForUpdate implements issue.SessionStore.
func (db *DB) SessionByIDForUpdate(ctx context.Context, id string) (issue.Session, error) {
	return sessionFromRow(db.q.SessionGetByIDForUpdate(ctx, id))
}

// SessionListLive implements issue.SessionStore.
func (db *DB) SessionListLive(ctx context.Context, userID string, now time.Time) ([]issue.Session, error) {
	rows, err := db.q.SessionListLive(ctx, dbsqlc.SessionListLiveParams{UserID: userID, Now: now})
	if err != nil {
		return nil, interpretError(err)
	}
	sessions := make([]issue.Session, len(rows))
	for i, r := range rows {
		sessions[i], _ = sessionFromRow(r, nil)
	}
	return sessions, nil
}

// SessionTouch implements issue.SessionStore. Returns verify.ErrNotFound if no
// session has this id.
func (db *DB) SessionTouch(ctx context.Context, id string, refreshedAt, idleExpiresAt time.Time) error {
	return oneRow(db.q.SessionTouch(ctx, dbsqlc.SessionTouchParams{
		ID: id, RefreshedAt: refreshedAt, IdleExpiresAt: idleExpiresAt,
	}))
}

// SessionRevoke implements issue.SessionStore. Only the first revocation
// counts: a second one changes nothing and adds no deny-list row. Returns
// verify.ErrNotFound if no session has this id.
func (db *DB) SessionRevoke(ctx context.Context, id string, at time.Time, reason string, denyUntil time.Time) (bool, error) {
	r, err := db.q.SessionRevoke(ctx, dbsqlc.SessionRevokeParams{ID: id, RevokedAt: at, Reason: reason, DenyUntil: denyUntil})
	if err != nil {
		return false, interpretError(err)
	}
	if !r.Found {
		return false, fmt.Errorf("%w: session %q", verify.ErrNotFound, id)
	}
	return r.Changed, nil
}

// SessionRevokeAllForUser implements issue.SessionStore. It ends every session
// of the user not revoked yet, expired or not (an access token minted just
// before expiry may still be valid), and returns their ids, sorted.
func (db *DB) SessionRevokeAllForUser(ctx context.Context, userID string, at time.Time, reason string, denyUntil time.Time) ([]string, error) {
	ids, err := db.q.SessionRevokeAllForUser(ctx, dbsqlc.SessionRevokeAllForUserParams{
		UserID: userID, RevokedAt: at, Reason: reason, DenyUntil: denyUntil,
	})
	if err != nil {
		return nil, interpretError(err)
	}
	return nonNil(ids), nil
}

// SessionRevokeAllForUserExcept implements issue.SessionStore: as
// SessionRevokeAllForUser, sparing session keep ("" spares none).
func (db *DB) SessionRevokeAllForUserExcept(ctx context.Context, userID, keep string, at time.Time, reason string, denyUntil time.Time) ([]string, error) {
	ids, err := db.q.SessionRevokeAllForUserExcept(ctx, dbsqlc.SessionRevokeAllForUserExceptParams{
		UserID: userID, Keep: keep, RevokedAt: at, Reason: reason, DenyUntil: denyUntil,
	})
	if err != nil {
		return nil, interpretError(err)
	}
	return nonNil(ids), nil
}

// SessionRevocation is one entry of the access-token deny-list: tokens naming
// SessionID are refused until ExpiresAt.
type SessionRevocation struct {
	Seq       int64
	SessionID string
	ExpiresAt time.Time
}

// SessionRevocationsSince returns the deny-list entries after afterSeq that
// have not expired at now, in seq order. Seq is allocated at insert, not at
// commit, so a concurrent transaction may commit a smaller seq after a larger
// one was seen: callers that follow seq should also apply each announcement on
// ChannelSessions (its payload is the session id) and reload from 0 on Resync.
func (db *DB) SessionRevocationsSince(ctx context.Context, afterSeq int64, now time.Time) ([]SessionRevocation, error) {
	rows, err := db.q.SessionRevocationsSince(ctx, dbsqlc.SessionRevocationsSinceParams{AfterSeq: afterSeq, Now: now})
	if err != nil {
		return nil, interpretError(err)
	}
	revs := make([]SessionRevocation, len(rows))
	for i, r := range rows {
		revs[i] = SessionRevocation{Seq: r.Seq, SessionID: r.SessionID, ExpiresAt: r.ExpiresAt}
	}
	return revs, nil
}

// SessionRevocationsPrune deletes the deny-list entries that expired before
// before, which no access token can outlive, and returns how many.
func (db *DB) SessionRevocationsPrune(ctx context.Context, before time.Time) (int64, error) {
	n, err := db.q.SessionRevocationsPrune(ctx, before)
	return n, interpretError(err)
}

// RefreshTokenInsert implements issue.SessionStore. Returns verify.ErrNotFound
// if the session does not exist, issue.ErrConflict if the lookup id is taken.
func (db *DB) RefreshTokenInsert(ctx context.Context, t issue.RefreshToken) error {
	err := db.q.RefreshTokenInsert(ctx, dbsqlc.RefreshTokenInsertParams{
		LookupID: t.LookupID, SessionID: t.SessionID, SecretMAC: t.SecretMAC, MACVersion: t.MACVersion,
		CreatedAt: t.CreatedAt, UsedAt: t.UsedAt,
	})
	return unknownName(err, map[string]string{"refresh_tokens_session_id_fkey": fmt.Sprintf("session %q", t.SessionID)})
}

// RefreshTokenByLookupIDForUpdate implements issue.SessionStore.
func (db *DB) RefreshTokenByLookupIDForUpdate(ctx context.Context, lookupID string) (issue.RefreshToken, error) {
	r, err := db.q.RefreshTokenGetByLookupIDForUpdate(ctx, lookupID)
	if err != nil {
		return issue.RefreshToken{}, interpretError(err)
	}
	return issue.RefreshToken{
		LookupID: r.LookupID, SessionID: r.SessionID, SecretMAC: r.SecretMAC, MACVersion: r.MACVersion,
		CreatedAt: r.CreatedAt, UsedAt: r.UsedAt,
	}, nil
}

// RefreshTokenMarkUsed implements issue.SessionStore. It keeps the time of the
// first use, which the reuse grace counts from. Returns verify.ErrNotFound if
// no token has this lookup id.
func (db *DB) RefreshTokenMarkUsed(ctx context.Context, lookupID string, at time.Time) error {
	return oneRow(db.q.RefreshTokenMarkUsed(ctx, dbsqlc.RefreshTokenMarkUsedParams{LookupID: lookupID, UsedAt: at}))
}

// sessionFromRow converts a generated row at the seam, so no sqlc type leaves db.
func sessionFromRow(r dbsqlc.SessionRow, err error) (issue.Session, error) {
	if err != nil {
		return issue.Session{}, interpretError(err)
	}
	s := issue.Session{
		ID: r.ID, UserID: r.UserID, Kind: r.Kind, DeviceName: r.DeviceName, CreatedAt: r.CreatedAt,
		RefreshedAt: r.RefreshedAt, IdleExpiresAt: r.IdleExpiresAt, ExpiresAt: r.ExpiresAt, RevokedAt: r.RevokedAt,
		RevokeReason: r.RevokeReason, IP: r.IP, UserAgent: r.UserAgent, Remember: r.Remember,
	}
	if r.IdleSeconds != nil {
		s.IdleTTL = time.Duration(*r.IdleSeconds) * time.Second
	}
	return s, nil
}
