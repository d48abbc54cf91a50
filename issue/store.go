package issue

import (
	"context"
	"encoding/json"
	"time"
)

// Store is the storage the issuer writes to. Methods return verify.ErrNotFound
// when no row matches and ErrConflict when a uniqueness rule is broken.
type Store interface {
	// InTx runs fn with a Store bound to one transaction, committed if fn returns
	// nil and rolled back otherwise.
	InTx(ctx context.Context, fn func(Store) error) error

	KeyInsert(ctx context.Context, d KeyDraft) (Key, error)
	KeyByID(ctx context.Context, id string) (Key, error)
	// KeyByIDForUpdate is KeyByID holding the row until the transaction ends.
	KeyByIDForUpdate(ctx context.Context, id string) (Key, error)
	KeyList(ctx context.Context, f KeyFilter) ([]Key, error)
	// KeyRevoke sets revoked_at to at unless it is already set.
	KeyRevoke(ctx context.Context, id string, at time.Time) (Key, error)
	// KeySetDisabled sets disabled_at to at, or clears it when at is nil.
	KeySetDisabled(ctx context.Context, id string, at *time.Time) (Key, error)
	KeySetExpiry(ctx context.Context, id string, at time.Time) (Key, error)
	// KeySetRateLimit sets the key's own rate limit, or clears it when l is nil.
	KeySetRateLimit(ctx context.Context, id string, l *RateLimit) (Key, error)
	KeyCount(ctx context.Context) (int64, error)

	UserStore
	IdentityStore
	RoleStore
	SessionStore
	PersonalTokenStore
	SigningKeyStore
	AuditStore
	UsageStore
}

// UserStore keeps users. Username and email are unique case-insensitively
// (ErrConflict naming users_username_key or users_email_key).
type UserStore interface {
	UserInsert(ctx context.Context, u User) (User, error)
	UserByID(ctx context.Context, id string) (User, error)
	// UserByIDForUpdate is UserByID holding the row until the transaction ends.
	UserByIDForUpdate(ctx context.Context, id string) (User, error)
	// UserByLogin finds a user by username or email, whatever the case.
	UserByLogin(ctx context.Context, usernameOrEmail string) (User, error)
	// UserByEmail finds the user whose email this is, whatever the case.
	UserByEmail(ctx context.Context, email string) (User, error)
	UserList(ctx context.Context, f UserFilter) ([]User, error)
	UserUpdate(ctx context.Context, id string, p UserPatch, at time.Time) (User, error)
	// UserSetDisabled sets disabled_at to at, or clears it when at is nil.
	UserSetDisabled(ctx context.Context, id string, at *time.Time) (User, error)
	UserSetLoginState(ctx context.Context, id string, st LoginState) error
	UserDelete(ctx context.Context, id string) error
	UserCount(ctx context.Context) (int64, error)
}

// IdentityStore keeps the links of external identities to users. An identity
// (issuer, subject) links to one user at most (ErrConflict naming
// external_identities_pkey); a user's links go with the user.
type IdentityStore interface {
	// IdentityInsert stores a link. Returns verify.ErrNotFound if the user does not exist.
	IdentityInsert(ctx context.Context, l LinkedIdentity) (LinkedIdentity, error)
	// IdentityByKey returns the link of (issuer, subject), without locking it:
	// lock the user first (UserByIDForUpdate), then change the link.
	IdentityByKey(ctx context.Context, issuer, subject string) (LinkedIdentity, error)
	// IdentityListByUser returns the user's links, oldest first.
	IdentityListByUser(ctx context.Context, userID string) ([]LinkedIdentity, error)
	// IdentityTouch records a sign-in through the link at at, with the email
	// the provider gave then.
	IdentityTouch(ctx context.Context, issuer, subject, email string, at time.Time) error
	// IdentityDelete removes the user's link of (issuer, subject). Returns
	// verify.ErrNotFound if the user has no such link.
	IdentityDelete(ctx context.Context, userID, issuer, subject string) error
	// IdentityLock makes other sign-ins of (issuer, subject) wait until this
	// transaction ends (an advisory lock); call it inside InTx, first.
	IdentityLock(ctx context.Context, issuer, subject string) error
}

// RoleStore keeps roles, permissions, grants and assignments. Unknown names in
// grants and assignments are ErrInvalid-worthy: they return verify.ErrNotFound.
type RoleStore interface {
	RoleList(ctx context.Context) ([]Role, error) // with permissions; admin's are every permission
	RoleByName(ctx context.Context, name string) (Role, error)
	RoleInsert(ctx context.Context, r Role) error
	RoleDelete(ctx context.Context, name string) error
	PermissionList(ctx context.Context) ([]Permission, error)
	// PermissionLock serialises catalogue changes across instances until the
	// transaction ends (an advisory lock); call it inside InTx.
	PermissionLock(ctx context.Context) error
	PermissionInsert(ctx context.Context, p Permission) error
	PermissionDelete(ctx context.Context, name string) error
	RoleGrant(ctx context.Context, role, permission string) error    // idempotent
	RoleRevoke(ctx context.Context, role, permission string) error   // idempotent
	UserRoleAssign(ctx context.Context, userID, role string) error   // idempotent
	UserRoleUnassign(ctx context.Context, userID, role string) error // idempotent
	UserRoles(ctx context.Context, userID string) ([]string, error)  // sorted
	// UserPermissions returns the user's effective permissions, sorted: those of
	// its roles, or every permission for an admin.
	UserPermissions(ctx context.Context, userID string) ([]string, error)
}

// SessionStore keeps sessions, their refresh tokens and cookies, and the
// access-token deny-list.
type SessionStore interface {
	// SessionInsert stores an API session (Kind "" is SessionAPI).
	SessionInsert(ctx context.Context, s Session) error
	// SessionInsertBrowser stores a browser session with its cookie. Returns
	// ErrConflict if the cookie's lookup id is taken.
	SessionInsertBrowser(ctx context.Context, s Session, c SessionCookie) error
	SessionByID(ctx context.Context, id string) (Session, error)
	SessionByIDForUpdate(ctx context.Context, id string) (Session, error)
	// SessionListLive returns the user's sessions neither revoked nor expired at now, oldest first.
	SessionListLive(ctx context.Context, userID string, now time.Time) ([]Session, error)
	SessionTouch(ctx context.Context, id string, refreshedAt, idleExpiresAt time.Time) error
	// SessionRevoke ends the session unless it has ended already, and adds it to
	// the deny-list until denyUntil, in one statement. Reports whether it changed.
	SessionRevoke(ctx context.Context, id string, at time.Time, reason string, denyUntil time.Time) (bool, error)
	// SessionRevokeAllForUser does SessionRevoke for every live session of the user
	// and returns their ids.
	SessionRevokeAllForUser(ctx context.Context, userID string, at time.Time, reason string, denyUntil time.Time) ([]string, error)
	// SessionRevokeAllForUserExcept is SessionRevokeAllForUser sparing session
	// keep ("" spares none).
	SessionRevokeAllForUserExcept(ctx context.Context, userID, keep string, at time.Time, reason string, denyUntil time.Time) ([]string, error)
	RefreshTokenInsert(ctx context.Context, t RefreshToken) error
	// RefreshTokenByLookupIDForUpdate returns the token, holding its row.
	RefreshTokenByLookupIDForUpdate(ctx context.Context, lookupID string) (RefreshToken, error)
	RefreshTokenMarkUsed(ctx context.Context, lookupID string, at time.Time) error
}

// PersonalTokenStore keeps users' personal tokens (agp_…). Names are unique
// among a user's unrevoked tokens (ErrConflict naming personal_tokens_live_name).
type PersonalTokenStore interface {
	// PersonalTokenInsert stores d; a new token is unrevoked and unused. Returns
	// verify.ErrNotFound if the user does not exist.
	PersonalTokenInsert(ctx context.Context, d PersonalTokenDraft) (PersonalToken, error)
	PersonalTokenByID(ctx context.Context, id string) (PersonalToken, error)
	// PersonalTokenByIDForUpdate is PersonalTokenByID holding the row until the transaction ends.
	PersonalTokenByIDForUpdate(ctx context.Context, id string) (PersonalToken, error)
	// PersonalTokenListByUser returns the user's tokens in every state, newest first.
	PersonalTokenListByUser(ctx context.Context, userID string) ([]PersonalToken, error)
	// PersonalTokenRevoke sets revoked_at to at unless it is already set.
	PersonalTokenRevoke(ctx context.Context, id string, at time.Time) (PersonalToken, error)
	// PersonalTokenSetRateLimit sets the token's own rate limit, or clears it when l is nil.
	PersonalTokenSetRateLimit(ctx context.Context, id string, l *RateLimit) (PersonalToken, error)
	// PersonalTokenRevokeExpiredNamed revokes, at now, the user's unrevoked token
	// called name if it has expired by now, so that a new token may take the
	// name, and returns it (none, or one).
	PersonalTokenRevokeExpiredNamed(ctx context.Context, userID, name string, now time.Time) ([]PersonalToken, error)
	// PersonalTokenListCarrying returns the unrevoked tokens carrying any of scopes, oldest first.
	PersonalTokenListCarrying(ctx context.Context, scopes []string) ([]PersonalToken, error)
	// PersonalTokenRevokeAllForUser revokes, at now, every unrevoked token of
	// the user and returns them.
	PersonalTokenRevokeAllForUser(ctx context.Context, userID string, now time.Time) ([]PersonalToken, error)
}

// SigningKeyStore keeps JWT signing keys.
type SigningKeyStore interface {
	// SigningKeyLock serialises signing-key changes across instances until the
	// transaction ends (an advisory lock); call it inside InTx.
	SigningKeyLock(ctx context.Context) error
	SigningKeyInsert(ctx context.Context, k SigningKey) error
	// SigningKeyList returns every key whose retire_at is unset or after now, newest first.
	SigningKeyList(ctx context.Context, now time.Time) ([]SigningKey, error)
	// SigningKeyRetire sets retire_at on every key of alg without one.
	SigningKeyRetire(ctx context.Context, alg string, at time.Time) error
}

// AuditStore keeps the append-only audit log.
type AuditStore interface {
	AuditInsert(ctx context.Context, e AuditEntry) error
	AuditList(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
	// AuditPrune deletes rows older than before and returns how many.
	AuditPrune(ctx context.Context, before time.Time) (int64, error)
}

// KeyDraft is a key about to be stored.
type KeyDraft struct {
	ID          string
	LookupID    string
	SecretMAC   []byte
	MACVersion  int16
	Subject     string
	Name        string
	Scopes      []string
	Metadata    json.RawMessage
	ExpiresAt   *time.Time
	RotatedFrom *string
	CreatedAt   time.Time
	CreatedBy   string
	RateLimit   *RateLimit
}

// PersonalTokenDraft is a personal token about to be stored.
type PersonalTokenDraft struct {
	ID         string // tok_…
	LookupID   string
	SecretMAC  []byte
	MACVersion int16
	UserID     string
	Name       string
	Scopes     []string
	ExpiresAt  time.Time
	CreatedAt  time.Time
	RateLimit  *RateLimit
}

// KeyFilter selects a page of keys, newest first.
type KeyFilter struct {
	State State     // "" for any
	Now   time.Time // the time State is judged at
	After *Cursor   // continue after this key; nil for the first page
	Limit int
}

// Cursor marks a position in a newest-first list of keys.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}
