package db

// Stubs until the real implementations land; each is replaced by one in its noun's file.

import (
	"context"
	"errors"
	"time"

	"github.com/authgate/authgate/issue"
)

var errNotYet = errors.New("not implemented yet")

func (db *DB) UserInsert(ctx context.Context, u issue.User) (issue.User, error) {
	return issue.User{}, errNotYet
}
func (db *DB) UserByID(ctx context.Context, id string) (issue.User, error) {
	return issue.User{}, errNotYet
}
func (db *DB) UserByIDForUpdate(ctx context.Context, id string) (issue.User, error) {
	return issue.User{}, errNotYet
}
func (db *DB) UserByLogin(ctx context.Context, usernameOrEmail string) (issue.User, error) {
	return issue.User{}, errNotYet
}
func (db *DB) UserList(ctx context.Context, f issue.UserFilter) ([]issue.User, error) {
	return nil, errNotYet
}
func (db *DB) UserUpdate(ctx context.Context, id string, p issue.UserPatch, at time.Time) (issue.User, error) {
	return issue.User{}, errNotYet
}
func (db *DB) UserSetDisabled(ctx context.Context, id string, at *time.Time) (issue.User, error) {
	return issue.User{}, errNotYet
}
func (db *DB) UserSetLoginState(ctx context.Context, id string, st issue.LoginState) error {
	return errNotYet
}
func (db *DB) UserDelete(ctx context.Context, id string) error    { return errNotYet }
func (db *DB) UserCount(ctx context.Context) (int64, error)       { return 0, errNotYet }
func (db *DB) RoleList(ctx context.Context) ([]issue.Role, error) { return nil, errNotYet }
func (db *DB) RoleByName(ctx context.Context, name string) (issue.Role, error) {
	return issue.Role{}, errNotYet
}
func (db *DB) RoleInsert(ctx context.Context, r issue.Role) error              { return errNotYet }
func (db *DB) RoleDelete(ctx context.Context, name string) error               { return errNotYet }
func (db *DB) PermissionList(ctx context.Context) ([]issue.Permission, error)  { return nil, errNotYet }
func (db *DB) PermissionInsert(ctx context.Context, p issue.Permission) error  { return errNotYet }
func (db *DB) PermissionDelete(ctx context.Context, name string) error         { return errNotYet }
func (db *DB) RoleGrant(ctx context.Context, role, permission string) error    { return errNotYet }
func (db *DB) RoleRevoke(ctx context.Context, role, permission string) error   { return errNotYet }
func (db *DB) UserRoleAssign(ctx context.Context, userID, role string) error   { return errNotYet }
func (db *DB) UserRoleUnassign(ctx context.Context, userID, role string) error { return errNotYet }
func (db *DB) UserRoles(ctx context.Context, userID string) ([]string, error)  { return nil, errNotYet }
func (db *DB) UserPermissions(ctx context.Context, userID string) ([]string, error) {
	return nil, errNotYet
}
func (db *DB) SessionInsert(ctx context.Context, s issue.Session) error { return errNotYet }
func (db *DB) SessionByID(ctx context.Context, id string) (issue.Session, error) {
	return issue.Session{}, errNotYet
}
func (db *DB) SessionByIDForUpdate(ctx context.Context, id string) (issue.Session, error) {
	return issue.Session{}, errNotYet
}
func (db *DB) SessionListLive(ctx context.Context, userID string, now time.Time) ([]issue.Session, error) {
	return nil, errNotYet
}
func (db *DB) SessionTouch(ctx context.Context, id string, refreshedAt, idleExpiresAt time.Time) error {
	return errNotYet
}
func (db *DB) SessionRevoke(ctx context.Context, id string, at time.Time, reason string, denyUntil time.Time) (bool, error) {
	return false, errNotYet
}
func (db *DB) SessionRevokeAllForUser(ctx context.Context, userID string, at time.Time, reason string, denyUntil time.Time) ([]string, error) {
	return nil, errNotYet
}
func (db *DB) RefreshTokenInsert(ctx context.Context, t issue.RefreshToken) error { return errNotYet }
func (db *DB) RefreshTokenByLookupIDForUpdate(ctx context.Context, lookupID string) (issue.RefreshToken, error) {
	return issue.RefreshToken{}, errNotYet
}
func (db *DB) RefreshTokenMarkUsed(ctx context.Context, lookupID string, at time.Time) error {
	return errNotYet
}
func (db *DB) SigningKeyLock(ctx context.Context) error                       { return errNotYet }
func (db *DB) SigningKeyInsert(ctx context.Context, k issue.SigningKey) error { return errNotYet }
func (db *DB) SigningKeyList(ctx context.Context, now time.Time) ([]issue.SigningKey, error) {
	return nil, errNotYet
}
func (db *DB) SigningKeyRetire(ctx context.Context, alg string, at time.Time) error { return errNotYet }
func (db *DB) AuditInsert(ctx context.Context, e issue.AuditEntry) error            { return errNotYet }
func (db *DB) AuditList(ctx context.Context, f issue.AuditFilter) ([]issue.AuditEntry, error) {
	return nil, errNotYet
}
func (db *DB) AuditPrune(ctx context.Context, before time.Time) (int64, error) { return 0, errNotYet }
