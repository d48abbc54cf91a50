package issue

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"
)

// errWrongCurrentPassword answers a password change whose current password is
// not the user's (or whose user is disabled: the same answer).
var errWrongCurrentPassword = &AuthError{Err: ErrUnauthenticated, Msg: "the current password is wrong"}

// ChangePassword is a user changing their own password: current must be the
// password they have now, checked like a login's (the client IP's allowance and
// the hash gate: a *ThrottleError when used up or busy), and a mismatch is an
// *AuthError (ErrUnauthenticated) that changes nothing and is audited. next
// must meet the password policy (a *FieldError naming new_password). Every
// other session of the user ends (reason revoked, each audited), except keep,
// the session the change is made from ("" keeps none); personal tokens stay.
// by must hold every permission of the user (a user holds their own). Audited
// as user.password_change. Returns verify.ErrNotFound if there is no such user.
func (s *Service) ChangePassword(ctx context.Context, userID, current, next, keep string, by Actor) error {
	switch {
	case current == "":
		return invalid("current_password", "is required")
	case utf8.RuneCountInString(current) > MaxPasswordLen:
		return invalid("current_password", fmt.Sprintf("must be at most %d characters", MaxPasswordLen))
	}
	if err := validPassword(next, s.opts.PasswordMinLen); err != nil {
		if fe := (*FieldError)(nil); errors.As(err, &fe) {
			return invalid("new_password", fe.Msg)
		}
		return err
	}
	now := s.now()
	refund, wait := s.loginIPs.take(by.IP, now)
	if wait > 0 {
		return &ThrottleError{RetryAfter: wait, Msg: "too many wrong passwords from this address; try again later"}
	}
	err := s.changePassword(ctx, userID, current, next, keep, by, now)
	if err == nil || !errors.Is(err, ErrUnauthenticated) {
		refund() // only a wrong password uses the allowance up
	}
	return err
}

func (s *Service) changePassword(ctx context.Context, userID, current, next, keep string, by Actor, now time.Time) error {
	u, err := s.store.UserByID(ctx, userID)
	if err == nil { // refused before a hash is spent on a caller who may not
		err = actOnUser(ctx, s.store, by, userID)
	}
	if err != nil {
		return fmt.Errorf("change password of user %s: %w", userID, err)
	}
	var ok bool
	if err := s.hashes.run(ctx, func() { ok = CheckPassword(u.PasswordHash, current) }); err != nil {
		return err
	}
	if !ok || u.DisabledAt != nil {
		reason := failWrongPassword
		if ok {
			reason = failDisabled
		}
		err := s.store.InTx(ctx, func(tx Store) error {
			return s.record(ctx, tx, by, ActionPasswordChange, userID, OutcomeFailure, map[string]any{"reason": reason})
		})
		if err != nil {
			return fmt.Errorf("change password of user %s: record failure: %w", userID, err)
		}
		return errWrongCurrentPassword
	}
	hash, err := s.hashPassword(ctx, next)
	if err != nil {
		return err
	}
	err = s.store.InTx(ctx, func(tx Store) error {
		cur, err := tx.UserByIDForUpdate(ctx, userID)
		switch {
		case err != nil:
			return err
		case subtle.ConstantTimeCompare([]byte(cur.PasswordHash), []byte(u.PasswordHash)) != 1:
			return errWrongCurrentPassword // changed meanwhile: current is no longer the password
		case cur.DisabledAt != nil:
			return errWrongCurrentPassword
		}
		if err := actOnUser(ctx, tx, by, userID); err != nil {
			return err
		}
		if _, err := tx.UserUpdate(ctx, userID, UserPatch{PasswordHash: &hash}, now); err != nil {
			return err
		}
		ended, err := tx.SessionRevokeAllForUserExcept(ctx, userID, keep, now, ReasonRevoked, s.denyUntil(now))
		if err != nil {
			return err
		}
		for _, id := range ended {
			meta := map[string]any{"reason": ReasonRevoked, "user_id": userID}
			if err := s.record(ctx, tx, by, ActionSessionEnd, id, OutcomeSuccess, meta); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, by, ActionPasswordChange, userID, OutcomeSuccess,
			map[string]any{"sessions_revoked": len(ended)})
	})
	if err != nil {
		if errors.Is(err, ErrUnauthenticated) {
			return err
		}
		return fmt.Errorf("change password of user %s: %w", userID, err)
	}
	return nil
}
