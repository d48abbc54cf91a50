package issue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authgate/authgate/verify"
)

// Limits on what a user may carry (the database checks them too).
const (
	MaxUsernameLen = 64
	MaxEmailLen    = 254
	MaxFullNameLen = 200
	// MaxUserRoles bounds a user's roles, which travel in every access token
	// and in X-Auth-Roles (see MaxCatalogueLen).
	MaxUserRoles = 10
)

// ErrRegistrationClosed refuses self-registration when Options.AllowRegistration
// is off (ErrPermission, 403).
var ErrRegistrationClosed error = &AuthError{Err: ErrPermission, Msg: "registration is closed"}

// User is a person who logs in. PasswordHash never leaves the package in JSON.
type User struct {
	ID           string // usr_…
	Username     string
	Email        string
	FullName     string
	PasswordHash string // argon2id, PHC string format
	DisabledAt   *time.Time
	FailedLogins int
	FailedSince  *time.Time
	LockedUntil  *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
	Roles        []string // filled by the service where shown, not stored here
}

// UserFilter selects a page of users, newest first.
type UserFilter struct {
	After *Cursor // continue after this user; nil for the first page
	Limit int
}

// UserPatch changes some fields of a user; nil fields stay as they are.
type UserPatch struct {
	Username     *string
	Email        *string
	FullName     *string
	PasswordHash *string
}

// LoginState is a user's login-throttling counters.
type LoginState struct {
	FailedLogins int
	FailedSince  *time.Time
	LockedUntil  *time.Time
}

// UserRequest is what a caller asks for when creating a user. Password is the
// plain password: it is hashed at once and never stored or logged as it is.
type UserRequest struct {
	Username string
	Email    string
	FullName string
	Password string
	Roles    []string
}

// UserUpdate changes some of a user's fields; nil fields stay as they are.
type UserUpdate struct {
	FullName *string
	Email    *string
	Password *string
}

// CreateUser validates in and stores a new user holding in.Roles, which must
// exist and whose permissions by must all hold (the authority rule; a
// *PermissionError otherwise). Returns a *FieldError naming the first bad field (or unknown role), and
// a StateError (ErrConflict) saying whether the username or the email is taken;
// both are unique whatever their case.
func (s *Service) CreateUser(ctx context.Context, in UserRequest, by Actor) (User, error) {
	u, err := s.createUser(ctx, in, by, ActionUserCreate)
	if err != nil {
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// Register creates a user on their own behalf (open self-registration). The
// user gets no role. Returns ErrRegistrationClosed unless
// Options.AllowRegistration is set, and a ThrottleError when by.IP has spent
// its login attempts: each registration costs a password hash, like a login.
func (s *Service) Register(ctx context.Context, in UserRequest, by Actor) (User, error) {
	if !s.opts.AllowRegistration {
		return User{}, ErrRegistrationClosed
	}
	if _, wait := s.loginIPs.take(by.IP, s.now()); wait > 0 {
		return User{}, &ThrottleError{RetryAfter: wait, Msg: "too many attempts from this address; try again later"}
	}
	in.Roles = nil
	u, err := s.createUser(ctx, in, by, ActionUserRegister)
	if err != nil {
		return User{}, fmt.Errorf("register user: %w", err)
	}
	return u, nil
}

func (s *Service) createUser(ctx context.Context, in UserRequest, by Actor, action Action) (User, error) {
	if err := s.validNewUser(&in); err != nil {
		return User{}, err
	}
	hash, err := s.hashPassword(ctx, in.Password) // slow: outside the transaction
	if err != nil {
		return User{}, err
	}
	now := s.now()
	var out User
	err = s.store.InTx(ctx, func(tx Store) error {
		for _, name := range in.Roles {
			r, err := tx.RoleByName(ctx, name)
			if errors.Is(err, verify.ErrNotFound) {
				return invalid("roles", fmt.Sprintf("unknown role %q", name))
			} else if err != nil {
				return err
			}
			if err := authorize(by, roleAuthority(r), "to hand out role "+name+", which holds it"); err != nil {
				return err
			}
		}
		u, err := tx.UserInsert(ctx, User{ID: "usr_" + verify.RandomString(16), Username: in.Username, Email: in.Email,
			FullName: in.FullName, PasswordHash: hash, CreatedAt: now, UpdatedAt: now})
		if err != nil {
			return err
		}
		for _, r := range in.Roles {
			if err := tx.UserRoleAssign(ctx, u.ID, r); err != nil {
				return err
			}
		}
		u.Roles = in.Roles
		out = u
		return s.record(ctx, tx, by, action, u.ID, OutcomeSuccess,
			map[string]any{"username": u.Username, "roles": in.Roles})
	})
	if errors.Is(err, ErrConflict) {
		return User{}, s.whichTaken(ctx, "", &in.Username, &in.Email, err)
	}
	if err != nil {
		return User{}, err
	}
	return out, nil
}

// GetUser returns user id with its roles. Returns verify.ErrNotFound if there is none.
func (s *Service) GetUser(ctx context.Context, id string) (User, error) {
	u, err := s.store.UserByID(ctx, id)
	if err == nil {
		err = s.fillRoles(ctx, s.store, &u)
	}
	if err != nil {
		return User{}, fmt.Errorf("get user %s: %w", id, err)
	}
	return u, nil
}

// ListUsers returns a page of users with their roles, newest first, and the
// cursor of the next page (nil on the last page). A zero limit means
// DefaultPageLimit.
func (s *Service) ListUsers(ctx context.Context, after *Cursor, limit int) ([]User, *Cursor, error) {
	limit, err := pageLimit(limit)
	if err != nil {
		return nil, nil, err
	}
	users, err := s.store.UserList(ctx, UserFilter{After: after, Limit: limit + 1})
	if err != nil {
		return nil, nil, fmt.Errorf("list users: %w", err)
	}
	users, last := cutPage(users, limit)
	var next *Cursor
	if last != nil {
		next = &Cursor{CreatedAt: last.CreatedAt, ID: last.ID}
	}
	for i := range users {
		if err := s.fillRoles(ctx, s.store, &users[i]); err != nil {
			return nil, nil, fmt.Errorf("list users: %w", err)
		}
	}
	return users, next, nil
}

// UpdateUser changes user id's full name, email or password. by must hold
// every permission the user holds. A new password also ends every session of
// the user (not their personal tokens: RevokeCredentials ends everything).
// Returns verify.ErrNotFound, a *FieldError, a *PermissionError, or a
// StateError when the email is taken.
func (s *Service) UpdateUser(ctx context.Context, id string, in UserUpdate, by Actor) (User, error) {
	var p UserPatch
	var changed []string
	if in.Email != nil {
		if err := validEmail(*in.Email); err != nil {
			return User{}, err
		}
		p.Email, changed = in.Email, append(changed, "email")
	}
	if in.FullName != nil {
		if err := validFullName(*in.FullName); err != nil {
			return User{}, err
		}
		p.FullName, changed = in.FullName, append(changed, "full_name")
	}
	if in.Password != nil {
		if err := validPassword(*in.Password, s.opts.PasswordMinLen); err != nil {
			return User{}, err
		}
		hash, err := s.hashPassword(ctx, *in.Password)
		if err != nil {
			return User{}, err
		}
		p.PasswordHash, changed = &hash, append(changed, "password")
	}
	if len(changed) == 0 {
		return User{}, invalid("", "nothing to change: send full_name, email or password")
	}
	now := s.now()
	var out User
	err := s.store.InTx(ctx, func(tx Store) error {
		if _, err := tx.UserByIDForUpdate(ctx, id); err != nil {
			return err
		}
		if err := actOnUser(ctx, tx, by, id); err != nil {
			return err
		}
		meta := map[string]any{"changed": changed}
		if p.PasswordHash != nil {
			ended, err := tx.SessionRevokeAllForUser(ctx, id, now, ReasonRevoked, s.denyUntil(now))
			if err != nil {
				return err
			}
			meta["sessions_revoked"] = len(ended)
		}
		u, err := tx.UserUpdate(ctx, id, p, now)
		if err != nil {
			return err
		}
		if err := s.fillRoles(ctx, tx, &u); err != nil {
			return err
		}
		out = u
		return s.record(ctx, tx, by, ActionUserUpdate, id, OutcomeSuccess, meta)
	})
	if errors.Is(err, ErrConflict) {
		err = s.whichTaken(ctx, id, nil, in.Email, err)
	}
	if err != nil {
		return User{}, fmt.Errorf("update user %s: %w", id, err)
	}
	return out, nil
}

// SetUserDisabled disables user id (disabled true) or enables them again
// (false). Disabling ends every session of the user in the same transaction
// and puts them on the deny-list, so their access tokens stop working at once
// on every instance; a disabled user cannot log in, and their personal tokens
// are refused until they are enabled again (their sessions stay ended).
// Disabling twice keeps the first time. by must hold every permission the
// user holds. Audited (user.disable, user.enable).
func (s *Service) SetUserDisabled(ctx context.Context, id string, disabled bool, by Actor) (User, error) {
	now := s.now()
	var out User
	err := s.store.InTx(ctx, func(tx Store) error {
		u, err := tx.UserByIDForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if err := actOnUser(ctx, tx, by, id); err != nil {
			return err
		}
		action, meta := ActionUserEnable, map[string]any{}
		var at *time.Time
		if disabled {
			action, at = ActionUserDisable, u.DisabledAt
			if at == nil {
				at = &now
			}
			ended, err := tx.SessionRevokeAllForUser(ctx, id, now, ReasonUserDisabled, s.denyUntil(now))
			if err != nil {
				return err
			}
			meta["sessions_revoked"] = len(ended)
		}
		if u, err = tx.UserSetDisabled(ctx, id, at); err != nil {
			return err
		}
		if err := s.fillRoles(ctx, tx, &u); err != nil {
			return err
		}
		out = u
		return s.record(ctx, tx, by, action, id, OutcomeSuccess, meta)
	})
	if err != nil {
		return User{}, fmt.Errorf("set user %s disabled=%t: %w", id, disabled, err)
	}
	return out, nil
}

// DeleteUser deletes user id, its role assignments and sessions. Its sessions
// are ended first, in the same transaction, so the deny-list keeps refusing
// their access tokens until those expire. by must hold every permission the
// user holds. Returns verify.ErrNotFound if there is no such user.
func (s *Service) DeleteUser(ctx context.Context, id string, by Actor) error {
	now := s.now()
	err := s.store.InTx(ctx, func(tx Store) error {
		u, err := tx.UserByIDForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if err := actOnUser(ctx, tx, by, id); err != nil {
			return err
		}
		ended, err := tx.SessionRevokeAllForUser(ctx, id, now, ReasonUserDeleted, s.denyUntil(now))
		if err != nil {
			return err
		}
		if err := tx.UserDelete(ctx, id); err != nil {
			return err
		}
		return s.record(ctx, tx, by, ActionUserDelete, id, OutcomeSuccess,
			map[string]any{"username": u.Username, "sessions_revoked": len(ended)})
	})
	if err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	return nil
}

// denyUntil is how long a session revoked at now stays on the deny-list: past
// it, no access token of the session can still be valid.
func (s *Service) denyUntil(now time.Time) time.Time {
	return now.Add(s.opts.AccessTTL + s.opts.Leeway)
}

func (s *Service) fillRoles(ctx context.Context, st Store, u *User) error {
	roles, err := st.UserRoles(ctx, u.ID)
	if err != nil {
		return err
	}
	u.Roles = roles
	return nil
}

// whichTaken turns a uniqueness conflict into a message naming the taken
// username or email, looking outside the failed transaction. self is the user
// being changed, whose own values do not count.
func (s *Service) whichTaken(ctx context.Context, self string, username, email *string, err error) error {
	if username != nil {
		if u, lerr := s.store.UserByLogin(ctx, *username); lerr == nil && u.ID != self {
			return &StateError{Msg: "username already taken"}
		}
	}
	if email != nil {
		if u, lerr := s.store.UserByLogin(ctx, *email); lerr == nil && u.ID != self {
			return &StateError{Msg: "email already taken"}
		}
	}
	return errors.Join(&StateError{Msg: "username or email already taken"}, err)
}
