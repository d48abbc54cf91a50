package issue

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/authgate/authgate/verify"
)

// LoginRequest is what a user presents to log in.
type LoginRequest struct {
	Login    string // username or email, whatever the case
	Password string
}

// Tokens are what a login or a refresh answers with (the shape of an OAuth 2
// token response). The refresh token is shown once and stored only as a MAC.
type Tokens struct {
	AccessToken  string // a JWT, sent as Authorization: Bearer
	RefreshToken string // agr_…, exchanged at /v1/auth/refresh
	TokenType    string // always "bearer"
	ExpiresIn    int64  // seconds until the access token expires
}

// maxLoginLen bounds the login name: an email is at most 254 bytes.
const maxLoginLen = 254

// maxUserAgentLen is the longest user agent a session keeps (the column's bound).
const maxUserAgentLen = 512

var (
	// errBadLogin answers an unknown user, a wrong password and a disabled user
	// alike, so a client cannot tell which names exist.
	errBadLogin = &AuthError{Err: ErrUnauthenticated, Msg: "invalid username or password"}
	// errNoSigner fails logins and refreshes closed until a signing key is set up.
	errNoSigner = errors.New("no signing key")
)

// Why a login failed, in user.login_failed audit rows.
const (
	failUnknownUser   = "unknown_user"
	failWrongPassword = "wrong_password"
	failDisabled      = "disabled"
	failLocked        = "locked"
)

// Login checks a user's password and starts a session: a refresh token and a
// first access token. An unknown user, a wrong password and a disabled user
// all return the same *AuthError (ErrUnauthenticated) after the same work. An
// account with LockoutThreshold failures within LockoutWindow is locked for
// LockoutDuration, and a client IP making too many failed attempts is held
// back: both return a *ThrottleError (ErrThrottled). When the server is at its
// bound of concurrent password hashes it answers a *ThrottleError (ErrBusy)
// without checking anything. Every attempt that checks a password is audited.
func (s *Service) Login(ctx context.Context, in LoginRequest, by Actor) (Tokens, error) {
	switch {
	case strings.TrimSpace(in.Login) == "":
		return Tokens{}, invalid("login", "is required: a username or an email address")
	case len(in.Login) > maxLoginLen:
		return Tokens{}, invalid("login", fmt.Sprintf("must be at most %d bytes", maxLoginLen))
	case !utf8.ValidString(in.Login) || !printable(in.Login):
		return Tokens{}, invalid("login", "must be a username or an email address: printable UTF-8 text")
	case in.Password == "":
		return Tokens{}, invalid("password", "is required")
	case utf8.RuneCountInString(in.Password) > MaxPasswordLen:
		return Tokens{}, invalid("password", fmt.Sprintf("must be at most %d characters", MaxPasswordLen))
	}
	if s.opts.Signer == nil {
		return Tokens{}, fmt.Errorf("login: %w", errNoSigner)
	}
	now := s.now()
	refund, wait := s.loginIPs.take(by.IP, now)
	if wait > 0 {
		return Tokens{}, &ThrottleError{RetryAfter: wait, Msg: "too many login attempts from this address; try again later"}
	}
	u, err := s.store.UserByLogin(ctx, in.Login)
	switch {
	case errors.Is(err, verify.ErrNotFound):
		if err := s.hashes.run(ctx, func() { checkDummyPassword(in.Password) }); err != nil {
			refund() // nothing was checked
			return Tokens{}, err
		}
		return Tokens{}, s.loginFailed(ctx, by, nil, in.Login, failUnknownUser, now)
	case err != nil:
		refund() // not the client's failure, and nothing was checked
		return Tokens{}, fmt.Errorf("login: %w", err)
	case lockedAt(u, now):
		return Tokens{}, s.loginFailed(ctx, by, &u, in.Login, failLocked, now)
	}
	var ok bool
	if err := s.hashes.run(ctx, func() { ok = CheckPassword(u.PasswordHash, in.Password) }); err != nil {
		refund() // nothing was checked
		return Tokens{}, err
	}
	switch {
	case u.DisabledAt != nil:
		return Tokens{}, s.loginFailed(ctx, by, &u, in.Login, failDisabled, now)
	case !ok:
		return Tokens{}, s.loginFailed(ctx, by, &u, in.Login, failWrongPassword, now)
	}
	t, err := s.startSession(ctx, u.ID, u.PasswordHash, by, now)
	if err == nil {
		// Only a success gives the attempt back: were a failure of the server's
		// refunded too, the refund would tell which passwords were right.
		refund()
	}
	return t, err
}

func lockedAt(u User, now time.Time) bool { return u.LockedUntil != nil && now.Before(*u.LockedUntil) }

func (s *Service) lockedError(u User, now time.Time) error {
	return &ThrottleError{RetryAfter: u.LockedUntil.Sub(now),
		Msg: "too many failed logins for this account; try again later"}
}

// loginFailed audits a failed login, in a transaction of its own, and counts
// it towards the account's lockout when the password was wrong. It returns the
// error the client gets.
func (s *Service) loginFailed(ctx context.Context, by Actor, u *User, login, reason string, now time.Time) error {
	answer := error(errBadLogin)
	var userID string
	if u != nil {
		userID = u.ID
		if reason == failLocked {
			answer = s.lockedError(*u, now)
		}
	}
	// The login name is recorded only when it names an account: for an unknown
	// one it may be a password typed into the wrong field.
	meta := map[string]any{"reason": reason}
	if u != nil {
		meta["login"] = login
	}
	err := s.store.InTx(ctx, func(tx Store) error {
		if reason == failWrongPassword {
			cur, err := tx.UserByIDForUpdate(ctx, userID)
			if errors.Is(err, verify.ErrNotFound) { // deleted meanwhile: nothing to lock
				return s.record(ctx, tx, by, ActionLoginFailed, userID, OutcomeFailure, meta)
			}
			if err != nil {
				return err
			}
			st := s.failedState(cur, now)
			if st.LockedUntil != nil && (cur.LockedUntil == nil || !st.LockedUntil.Equal(*cur.LockedUntil)) {
				meta["locked_until"] = *st.LockedUntil
			}
			if err := tx.UserSetLoginState(ctx, userID, st); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, by, ActionLoginFailed, userID, OutcomeFailure, meta)
	})
	if err != nil {
		return fmt.Errorf("login: record failure: %w", err)
	}
	return answer
}

// failedState is u's login state after one more failure at now: failures count
// from the first within LockoutWindow; reaching LockoutThreshold locks the
// account for LockoutDuration and starts the count afresh.
func (s *Service) failedState(u User, now time.Time) LoginState {
	st := LoginState{FailedLogins: u.FailedLogins + 1, FailedSince: u.FailedSince, LockedUntil: u.LockedUntil}
	if st.FailedSince == nil || now.Sub(*st.FailedSince) >= s.opts.LockoutWindow {
		st.FailedLogins, st.FailedSince = 1, &now
	}
	if st.FailedLogins >= s.opts.LockoutThreshold {
		until := now.Add(s.opts.LockoutDuration)
		st = LoginState{LockedUntil: &until}
	}
	return st
}

// startSession creates a session for the user whose password checked out
// against checked (the hash it was proved with), in one transaction with its
// refresh token, the evictions it causes and its audit rows, and signs its
// first access token. If the user's hash is no longer checked (a password
// reset raced the check), nothing is created.
func (s *Service) startSession(ctx context.Context, userID, checked string, by Actor, now time.Time) (Tokens, error) {
	var out Tokens
	err := s.store.InTx(ctx, func(tx Store) error {
		u, err := tx.UserByIDForUpdate(ctx, userID)
		switch { // what changed since the password check, by a concurrent request
		case errors.Is(err, verify.ErrNotFound):
			return errBadLogin
		case err != nil:
			return err
		case subtle.ConstantTimeCompare([]byte(u.PasswordHash), []byte(checked)) != 1:
			return errBadLogin // the password proved is no longer the user's
		case u.DisabledAt != nil:
			return errBadLogin
		case lockedAt(u, now):
			return s.lockedError(u, now)
		}
		if u.FailedLogins != 0 || u.FailedSince != nil || u.LockedUntil != nil {
			if err := tx.UserSetLoginState(ctx, u.ID, LoginState{}); err != nil {
				return err
			}
		}
		by.ID = "user:" + u.ID
		live, err := tx.SessionListLive(ctx, u.ID, now)
		if err != nil {
			return err
		}
		for ; len(live) > 0 && len(live) >= s.opts.MaxSessions; live = live[1:] { // oldest first
			if err := s.endSession(ctx, tx, by, live[0], ReasonEvicted, now); err != nil {
				return err
			}
		}
		sess := Session{ID: "ses_" + verify.RandomString(16), UserID: u.ID, CreatedAt: now, RefreshedAt: now,
			ExpiresAt: now.Add(s.opts.RefreshAbsoluteTTL), IP: by.IP, UserAgent: truncateRunes(by.UserAgent, maxUserAgentLen)}
		sess.IdleExpiresAt = earlier(now.Add(s.opts.RefreshIdleTTL), sess.ExpiresAt)
		if err := tx.SessionInsert(ctx, sess); err != nil {
			return err
		}
		refresh := verify.NewKey(verify.PrefixRefreshToken)
		if err := tx.RefreshTokenInsert(ctx, s.refreshRow(refresh, sess.ID, now)); err != nil {
			return err
		}
		if out, err = s.tokens(ctx, tx, u, sess, refresh, now); err != nil {
			return err
		}
		return s.record(ctx, tx, by, ActionUserLogin, u.ID, OutcomeSuccess, map[string]any{"session_id": sess.ID})
	})
	if err != nil {
		if errors.Is(err, ErrUnauthenticated) || errors.Is(err, ErrThrottled) {
			return Tokens{}, err
		}
		return Tokens{}, fmt.Errorf("login %s: %w", userID, err)
	}
	return out, nil
}

// Profile is a user as the user sees themself: with roles and effective permissions.
type Profile struct {
	User
	Permissions []string // sorted; every permission for an admin
}

// Profile returns user id with its roles and permissions. Returns
// verify.ErrNotFound if there is no such user.
func (s *Service) Profile(ctx context.Context, id string) (Profile, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return Profile{}, fmt.Errorf("profile of user %s: %w", id, err)
	}
	p := Profile{User: u}
	if p.Roles, err = s.store.UserRoles(ctx, id); err != nil {
		return Profile{}, fmt.Errorf("profile of user %s: %w", id, err)
	}
	if p.Permissions, err = s.store.UserPermissions(ctx, id); err != nil {
		return Profile{}, fmt.Errorf("profile of user %s: %w", id, err)
	}
	return p, nil
}
