package issue

import (
	"context"
	"fmt"
	"time"

	"github.com/authgate/authgate/verify"
)

// Session is one login: of an API client (SessionAPI), whose refresh tokens
// rotate on every use and form one family, presenting a used one after the
// grace revoking the session; or of a browser (SessionBrowser), known by its
// cookie. Both kinds count towards Options.MaxSessions and end the same ways.
type Session struct {
	ID            string // ses_…
	UserID        string
	Kind          string // SessionAPI or SessionBrowser
	DeviceName    string // as named at login, or ""
	CreatedAt     time.Time
	RefreshedAt   time.Time // last seen: the last refresh, or the last use of the cookie (to the minute)
	IdleExpiresAt time.Time
	ExpiresAt     time.Time
	RevokedAt     *time.Time
	RevokeReason  *string
	IP            string
	UserAgent     string
	Remember      bool          // browser: "remember this device" was chosen at sign-in
	IdleTTL       time.Duration // browser: the idle lifetime chosen at sign-in; 0 for SessionAPI
}

// Kinds of Session.
const (
	SessionAPI     = "api"     // a login through the JSON API: refresh and access tokens
	SessionBrowser = "browser" // a sign-in on the portal: a cookie
)

// Reasons a session ends early, stored in Session.RevokeReason.
const (
	ReasonLogout       = "logout"
	ReasonRevoked      = "revoked"
	ReasonEvicted      = "evicted"
	ReasonReuse        = "reuse"
	ReasonUserDisabled = "user_disabled"
	ReasonUserDeleted  = "user_deleted"
)

// RefreshToken is the stored form of a refresh token (agr_…): its lookup id and
// the HMAC of its secret.
type RefreshToken struct {
	LookupID   string
	SessionID  string
	SecretMAC  []byte
	MACVersion int16
	CreatedAt  time.Time
	UsedAt     *time.Time
}

// Logout ends the user's session sessionID, or with all set every session of
// the user, and denies their access tokens until they expire. Ending a session
// that has ended already changes nothing. Returns verify.ErrNotFound if the
// session is not the user's.
func (s *Service) Logout(ctx context.Context, userID, sessionID string, all bool, by Actor) error {
	if all {
		_, err := s.endUserSessions(ctx, userID, "", ReasonLogout, by)
		return err
	}
	return s.EndSession(ctx, userID, sessionID, by)
}

// EndSession ends the user's session sessionID (reason logout), as Logout does.
// Returns verify.ErrNotFound if the user has no such session.
func (s *Service) EndSession(ctx context.Context, userID, sessionID string, by Actor) error {
	now := s.now()
	err := s.store.InTx(ctx, func(tx Store) error {
		sess, err := tx.SessionByIDForUpdate(ctx, sessionID)
		if err != nil {
			return err
		}
		if sess.UserID != userID {
			return verify.ErrNotFound // another user's: as if it did not exist
		}
		if err := actOnUser(ctx, tx, by, userID); err != nil {
			return err
		}
		return s.endSession(ctx, tx, by, sess, ReasonLogout, now)
	})
	if err != nil {
		return fmt.Errorf("end session %s: %w", sessionID, err)
	}
	return nil
}

// RevokeUserSessions ends every session of user id (reason revoked) and returns
// their ids. by must hold every permission of the user. Returns
// verify.ErrNotFound if there is no such user.
func (s *Service) RevokeUserSessions(ctx context.Context, id string, by Actor) ([]string, error) {
	return s.endUserSessions(ctx, id, "", ReasonRevoked, by)
}

// EndOtherSessions ends every session of the user but keep (reason logout),
// in one transaction, and returns their ids: "sign out my other devices".
// Returns verify.ErrNotFound if there is no such user.
func (s *Service) EndOtherSessions(ctx context.Context, userID, keep string, by Actor) ([]string, error) {
	return s.endUserSessions(ctx, userID, keep, ReasonLogout, by)
}

// endUserSessions ends every session of the user but keep (none when empty).
// The user must exist, and by must hold their every permission (a user holds
// their own).
func (s *Service) endUserSessions(ctx context.Context, userID, keep, reason string, by Actor) ([]string, error) {
	now := s.now()
	var ids []string
	err := s.store.InTx(ctx, func(tx Store) error {
		if _, err := tx.UserByIDForUpdate(ctx, userID); err != nil {
			return err
		}
		if err := actOnUser(ctx, tx, by, userID); err != nil {
			return err
		}
		var err error
		if keep == "" {
			ids, err = tx.SessionRevokeAllForUser(ctx, userID, now, reason, s.denyUntil(now))
		} else {
			ids, err = tx.SessionRevokeAllForUserExcept(ctx, userID, keep, now, reason, s.denyUntil(now))
		}
		if err != nil {
			return err
		}
		for _, id := range ids {
			meta := map[string]any{"reason": reason, "user_id": userID}
			if err := s.record(ctx, tx, by, ActionSessionEnd, id, OutcomeSuccess, meta); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("end sessions of user %s: %w", userID, err)
	}
	return ids, nil
}

// endSession revokes sess through tx and audits it, unless it had ended already.
func (s *Service) endSession(ctx context.Context, tx Store, by Actor, sess Session, reason string, now time.Time) error {
	changed, err := tx.SessionRevoke(ctx, sess.ID, now, reason, s.denyUntil(now))
	if err != nil || !changed {
		return err
	}
	meta := map[string]any{"reason": reason, "user_id": sess.UserID}
	return s.record(ctx, tx, by, ActionSessionEnd, sess.ID, OutcomeSuccess, meta)
}

// Sessions returns the user's live sessions, oldest first. Returns
// verify.ErrNotFound if there is no such user.
func (s *Service) Sessions(ctx context.Context, userID string) ([]Session, error) {
	if _, err := s.store.UserByID(ctx, userID); err != nil {
		return nil, fmt.Errorf("list sessions of user %s: %w", userID, err)
	}
	list, err := s.store.SessionListLive(ctx, userID, s.now())
	if err != nil {
		return nil, fmt.Errorf("list sessions of user %s: %w", userID, err)
	}
	return list, nil
}
