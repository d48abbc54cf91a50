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

// LoginRequest is what a user presents to log in, through the JSON API
// (Login) or on the portal (SignIn).
type LoginRequest struct {
	Login      string // username or email, whatever the case
	Password   string
	DeviceName string // optional: what the user calls this device, kept on the session
	Remember   bool   // SignIn only: "remember this device", BrowserRememberTTL idle instead of BrowserIdleTTL
}

// MaxDeviceNameLen bounds a session's device name, in characters.
const MaxDeviceNameLen = 100

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

// Login checks a user's password and starts an API session: a refresh token
// and a first access token. An unknown user, a wrong password and a disabled
// user all return the same *AuthError (ErrUnauthenticated) after the same work.
// An account with LockoutThreshold failures within LockoutWindow is locked for
// LockoutDuration, and a client IP making too many failed attempts is held
// back: both return a *ThrottleError (ErrThrottled). When the server is at its
// bound of concurrent password hashes it answers a *ThrottleError (ErrBusy)
// without checking anything. Every attempt that checks a password is audited.
// A bad login, password or device name is a *FieldError (ErrInvalid).
func (s *Service) Login(ctx context.Context, in LoginRequest, by Actor) (Tokens, error) {
	if err := validLogin(in); err != nil {
		return Tokens{}, err
	}
	if s.opts.Signer == nil {
		return Tokens{}, fmt.Errorf("login: %w", errNoSigner)
	}
	now := s.now()
	u, refund, err := s.authenticate(ctx, in, by, now)
	if err != nil {
		return Tokens{}, err
	}
	var out Tokens
	err = s.startSession(ctx, u.ID, u.PasswordHash, now, func(tx Store, u User) error {
		var err error
		out, err = s.apiSession(ctx, tx, u, in.DeviceName, by, now, nil)
		return err
	})
	if err != nil {
		return Tokens{}, err
	}
	// Only a success gives the attempt back: were a failure of the server's
	// refunded too, the refund would tell which passwords were right.
	refund()
	return out, nil
}

// apiSession starts an API session for u, who has proved who they are,
// through tx (the transaction that read u, holding their row): a refresh
// token and a first access token. The one way Login and ExchangeExternal
// create one; meta is added to the user.login row.
func (s *Service) apiSession(ctx context.Context, tx Store, u User, deviceName string, by Actor, now time.Time,
	meta map[string]any) (Tokens, error) {
	sess := Session{ID: "ses_" + verify.RandomString(16), UserID: u.ID, Kind: SessionAPI, DeviceName: deviceName,
		CreatedAt: now, RefreshedAt: now, ExpiresAt: now.Add(s.opts.RefreshAbsoluteTTL),
		IP: by.IP, UserAgent: truncateRunes(by.UserAgent, maxUserAgentLen)}
	sess.IdleExpiresAt = earlier(now.Add(s.opts.RefreshIdleTTL), sess.ExpiresAt)
	var out Tokens
	err := s.openSession(ctx, tx, u, sess, by, now, meta, func() error {
		if err := tx.SessionInsert(ctx, sess); err != nil {
			return err
		}
		refresh := verify.NewKey(verify.PrefixRefreshToken)
		if err := tx.RefreshTokenInsert(ctx, s.refreshRow(refresh, sess.ID, now)); err != nil {
			return err
		}
		var err error
		out, err = s.tokens(ctx, tx, u, sess, refresh, now)
		return err
	})
	return out, err
}

// validLogin checks what a client sent to log in, before any work is done.
func validLogin(in LoginRequest) error {
	switch {
	case strings.TrimSpace(in.Login) == "":
		return invalid("login", "is required: a username or an email address")
	case len(in.Login) > maxLoginLen:
		return invalid("login", fmt.Sprintf("must be at most %d bytes", maxLoginLen))
	case !utf8.ValidString(in.Login) || !printable(in.Login):
		return invalid("login", "must be a username or an email address: printable UTF-8 text")
	case in.Password == "":
		return invalid("password", "is required")
	case utf8.RuneCountInString(in.Password) > MaxPasswordLen:
		return invalid("password", fmt.Sprintf("must be at most %d characters", MaxPasswordLen))
	}
	return validDeviceName(in.DeviceName)
}

// validDeviceName checks a session's device name: optional, at most
// MaxDeviceNameLen printable characters.
func validDeviceName(name string) error {
	switch {
	case !utf8.ValidString(name) || !printable(name):
		return invalid("device_name", "must be printable UTF-8 text")
	case utf8.RuneCountInString(name) > MaxDeviceNameLen:
		return invalid("device_name", fmt.Sprintf("must be at most %d characters", MaxDeviceNameLen))
	}
	return nil
}

// authenticate checks the password of in, which has passed validLogin, the
// one way for Login and SignIn: the client IP's allowance, the account's
// lockout, the hash gate, the same answer for every kind of failure, each
// failure audited. It returns the user whose password checked, and refund,
// which gives the attempt back to the client IP: call it once the login has
// succeeded, and only then.
func (s *Service) authenticate(ctx context.Context, in LoginRequest, by Actor, now time.Time) (User, func(), error) {
	refund, wait := s.loginIPs.take(by.IP, now)
	if wait > 0 {
		return User{}, nil, &ThrottleError{RetryAfter: wait, Msg: "too many login attempts from this address; try again later"}
	}
	u, err := s.store.UserByLogin(ctx, in.Login)
	switch {
	case errors.Is(err, verify.ErrNotFound):
		if err := s.hashes.run(ctx, func() { checkDummyPassword(in.Password) }); err != nil {
			refund() // nothing was checked
			return User{}, nil, err
		}
		return User{}, nil, s.loginFailed(ctx, by, nil, in.Login, failUnknownUser, now)
	case err != nil:
		refund() // not the client's failure, and nothing was checked
		return User{}, nil, fmt.Errorf("login: %w", err)
	case lockedAt(u, now):
		return User{}, nil, s.loginFailed(ctx, by, &u, in.Login, failLocked, now)
	}
	var ok bool
	if err := s.hashes.run(ctx, func() { ok = CheckPassword(u.PasswordHash, in.Password) }); err != nil {
		refund() // nothing was checked
		return User{}, nil, err
	}
	switch {
	case u.DisabledAt != nil:
		return User{}, nil, s.loginFailed(ctx, by, &u, in.Login, failDisabled, now)
	case !ok:
		return User{}, nil, s.loginFailed(ctx, by, &u, in.Login, failWrongPassword, now)
	}
	return u, refund, nil
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

// startSession starts a session for user userID, whose password checked out
// against checked (the hash it was proved with): in one transaction, it
// re-reads the user and calls open with them. If the user's hash is no longer
// checked (a password reset raced the check), or they were disabled or locked
// meanwhile, nothing is created.
func (s *Service) startSession(ctx context.Context, userID, checked string, now time.Time,
	open func(tx Store, u User) error) error {
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
		return open(tx, u)
	})
	if err != nil {
		if errors.Is(err, ErrUnauthenticated) || errors.Is(err, ErrThrottled) {
			return err
		}
		return fmt.Errorf("login %s: %w", userID, err)
	}
	return nil
}

// openSession stores sess for u, who has proved who they are, through tx (the
// transaction that read u, holding their row): it clears u's failed logins,
// evicts their oldest sessions beyond MaxSessions (API and browser sessions
// alike), calls insert to store sess and its credential, and audits the login
// (user.login, by the user, with meta added to the row's).
func (s *Service) openSession(ctx context.Context, tx Store, u User, sess Session, by Actor, now time.Time,
	meta map[string]any, insert func() error) error {
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
	if err := insert(); err != nil {
		return err
	}
	row := map[string]any{"session_id": sess.ID, "kind": sess.Kind}
	for k, v := range meta {
		row[k] = v
	}
	return s.record(ctx, tx, by, ActionUserLogin, u.ID, OutcomeSuccess, row)
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
