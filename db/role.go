package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authgate/authgate/db/internal/dbsqlc"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

var _ issue.RoleStore = (*DB)(nil)

// RoleList implements issue.RoleStore: every role by name, each with its
// permissions sorted; issue.RoleAdmin's are every permission there is.
func (db *DB) RoleList(ctx context.Context) ([]issue.Role, error) {
	rows, err := db.q.RoleList(ctx, issue.RoleAdmin)
	if err != nil {
		return nil, interpretError(err)
	}
	roles := make([]issue.Role, len(rows))
	for i, r := range rows {
		roles[i] = issue.Role{Name: r.Name, Description: r.Description, Builtin: r.Builtin, Permissions: r.Permissions}
	}
	return roles, nil
}

// RoleByName implements issue.RoleStore, with permissions as in RoleList.
func (db *DB) RoleByName(ctx context.Context, name string) (issue.Role, error) {
	r, err := db.q.RoleGetByName(ctx, dbsqlc.RoleGetByNameParams{Name: name, AdminRole: issue.RoleAdmin})
	if err != nil {
		return issue.Role{}, interpretError(err)
	}
	return issue.Role{Name: r.Name, Description: r.Description, Builtin: r.Builtin, Permissions: r.Permissions}, nil
}

// RoleInsert implements issue.RoleStore. It stores the role alone: r.Permissions
// is ignored (grant them with RoleGrant). Returns issue.ErrConflict if the name
// is taken.
func (db *DB) RoleInsert(ctx context.Context, r issue.Role) error {
	return interpretError(db.q.RoleInsert(ctx, dbsqlc.RoleInsertParams{
		Name: r.Name, Description: r.Description, Builtin: r.Builtin,
	}))
}

// RoleDelete implements issue.RoleStore. Its grants and assignments go with it.
// Returns verify.ErrNotFound if there is no such role.
func (db *DB) RoleDelete(ctx context.Context, name string) error {
	return oneRow(db.q.RoleDelete(ctx, name))
}

// PermissionList implements issue.RoleStore: every permission, by name.
func (db *DB) PermissionList(ctx context.Context) ([]issue.Permission, error) {
	rows, err := db.q.PermissionList(ctx)
	if err != nil {
		return nil, interpretError(err)
	}
	perms := make([]issue.Permission, len(rows))
	for i, r := range rows {
		perms[i] = issue.Permission{Name: r.Name, Description: r.Description, Builtin: r.Builtin}
	}
	return perms, nil
}

// PermissionLock implements issue.RoleStore with a transaction-scoped advisory
// lock; outside InTx it would be released at once, so it refuses.
func (db *DB) PermissionLock(ctx context.Context) error {
	if db.tx == nil {
		return errors.New("lock the permission catalogue: not inside a transaction (call it inside InTx)")
	}
	return interpretError(db.q.PermissionLock(ctx))
}

// PermissionInsert implements issue.RoleStore. Returns issue.ErrConflict if the
// name is taken.
func (db *DB) PermissionInsert(ctx context.Context, p issue.Permission) error {
	return interpretError(db.q.PermissionInsert(ctx, dbsqlc.PermissionInsertParams{
		Name: p.Name, Description: p.Description, Builtin: p.Builtin,
	}))
}

// PermissionDelete implements issue.RoleStore. Its grants go with it. Returns
// verify.ErrNotFound if there is no such permission.
func (db *DB) PermissionDelete(ctx context.Context, name string) error {
	return oneRow(db.q.PermissionDelete(ctx, name))
}

// RoleGrant implements issue.RoleStore. Returns verify.ErrNotFound naming the
// role or the permission if it does not exist.
func (db *DB) RoleGrant(ctx context.Context, role, permission string) error {
	err := db.q.RoleGrant(ctx, dbsqlc.RoleGrantParams{Role: role, Permission: permission})
	return unknownName(err, map[string]string{
		"role_permissions_role_fkey":       fmt.Sprintf("role %q", role),
		"role_permissions_permission_fkey": fmt.Sprintf("permission %q", permission),
	})
}

// RoleRevoke implements issue.RoleStore.
func (db *DB) RoleRevoke(ctx context.Context, role, permission string) error {
	return interpretError(db.q.RoleRevoke(ctx, dbsqlc.RoleRevokeParams{Role: role, Permission: permission}))
}

// UserRoleAssign implements issue.RoleStore. Returns verify.ErrNotFound naming
// the user or the role if it does not exist.
func (db *DB) UserRoleAssign(ctx context.Context, userID, role string) error {
	err := db.q.UserRoleAssign(ctx, dbsqlc.UserRoleAssignParams{UserID: userID, Role: role})
	return unknownName(err, map[string]string{
		"user_roles_user_id_fkey": fmt.Sprintf("user %q", userID),
		"user_roles_role_fkey":    fmt.Sprintf("role %q", role),
	})
}

// UserRoleUnassign implements issue.RoleStore.
func (db *DB) UserRoleUnassign(ctx context.Context, userID, role string) error {
	return interpretError(db.q.UserRoleUnassign(ctx, dbsqlc.UserRoleUnassignParams{UserID: userID, Role: role}))
}

// UserRoles implements issue.RoleStore. An unknown user has none.
func (db *DB) UserRoles(ctx context.Context, userID string) ([]string, error) {
	roles, err := db.q.UserRoleList(ctx, userID)
	if err != nil {
		return nil, interpretError(err)
	}
	return nonNil(roles), nil
}

// UserPermissions implements issue.RoleStore. An unknown user has none.
func (db *DB) UserPermissions(ctx context.Context, userID string) ([]string, error) {
	perms, err := db.q.UserPermissionList(ctx, dbsqlc.UserPermissionListParams{UserID: userID, AdminRole: issue.RoleAdmin})
	if err != nil {
		return nil, interpretError(err)
	}
	return nonNil(perms), nil
}

// unknownName interprets err, naming the missing row of a foreign-key violation
// by its constraint: names maps constraint names to what the caller asked for
// (`role "ops"`).
func unknownName(err error, names map[string]string) error {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok && pgErr.Code == "23503" {
		if name, ok := names[pgErr.ConstraintName]; ok {
			return fmt.Errorf("%w: %s", verify.ErrNotFound, name)
		}
	}
	return interpretError(err)
}

// nonNil returns s, or an empty slice for nil, so an empty list encodes as [].
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// userGrants returns what the hot path needs of a user's authority now: their
// roles and their permissions (every one for an admin).
func (db *DB) userGrants(ctx context.Context, userID string) (roles, perms []string, err error) {
	if roles, err = db.UserRoles(ctx, userID); err != nil {
		return nil, nil, fmt.Errorf("roles: %w", err)
	}
	if perms, err = db.UserPermissions(ctx, userID); err != nil {
		return nil, nil, fmt.Errorf("permissions: %w", err)
	}
	return roles, perms, nil
}
