package issue

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"unicode"
	"unicode/utf8"
)

// RoleAdmin holds every permission, including those added later.
const RoleAdmin = "admin"

// Role is a named set of permissions.
type Role struct {
	Name        string
	Description string
	Builtin     bool
	Permissions []string // sorted; for admin, every permission
}

// MaxDescriptionLen bounds the description of a role or a permission.
const MaxDescriptionLen = 500

// roleName is the alphabet of role names: they travel space-separated in
// X-Auth-Roles, so it is a subset of the scope alphabet.
var roleName = regexp.MustCompile(`^[a-z0-9_.-]{1,64}$`)

// Role and permission changes reach a logged-in user's access tokens at their
// next refresh, when the token's scopes are read again; tokens already issued
// keep their scopes until they expire (Options.AccessTTL). API keys are not
// affected: their scopes are their own.

// ListRoles returns every role with its permissions, by name.
func (s *Service) ListRoles(ctx context.Context) ([]Role, error) {
	roles, err := s.store.RoleList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return roles, nil
}

// CreateRole stores a role holding perms, which must exist and which by must
// all hold (the authority rule). Returns a *FieldError for a bad name,
// description or permission, a *PermissionError naming a permission by lacks,
// a StateError (ErrConflict) if the name is taken.
func (s *Service) CreateRole(ctx context.Context, name, description string, perms []string, by Actor) (Role, error) {
	if !roleName.MatchString(name) {
		return Role{}, invalid("name", "must be 1 to 64 of a-z 0-9 _ . -")
	}
	if err := validDescription(description); err != nil {
		return Role{}, err
	}
	if len(perms) > MaxScopes {
		return Role{}, invalid("permissions", fmt.Sprintf("must hold at most %d permissions", MaxScopes))
	}
	perms = slices.Compact(slices.Sorted(slices.Values(perms)))
	if err := authorize(by, AuthorityOf(perms), "to grant it"); err != nil {
		return Role{}, fmt.Errorf("create role %s: %w", name, err)
	}
	r := Role{Name: name, Description: description, Permissions: append([]string{}, perms...)}
	err := s.store.InTx(ctx, func(tx Store) error {
		if err := tx.RoleInsert(ctx, r); err != nil {
			return err
		}
		for _, p := range perms {
			if _, err := permissionByName(ctx, tx, p); err != nil {
				return err
			}
			if err := tx.RoleGrant(ctx, name, p); err != nil {
				return err
			}
		}
		return s.record(ctx, tx, by, ActionRoleCreate, name, OutcomeSuccess, map[string]any{"permissions": r.Permissions})
	})
	if errors.Is(err, ErrConflict) {
		err = &StateError{Msg: fmt.Sprintf("role %q already exists", name)}
	}
	if err != nil {
		return Role{}, fmt.Errorf("create role %s: %w", name, err)
	}
	return r, nil
}

// DeleteRole deletes a role; its holders lose it, so by must hold every
// permission of the role. Built-in roles cannot be deleted (StateError,
// ErrConflict). Returns verify.ErrNotFound if there is none.
func (s *Service) DeleteRole(ctx context.Context, name string, by Actor) error {
	err := s.store.InTx(ctx, func(tx Store) error {
		r, err := tx.RoleByName(ctx, name)
		if err != nil {
			return err
		}
		if err := authorize(by, roleAuthority(r), "to delete role "+name+", which holds it"); err != nil {
			return err
		}
		if r.Builtin {
			return &StateError{Msg: fmt.Sprintf("role %q is built in and cannot be deleted", name)}
		}
		if err := tx.RoleDelete(ctx, name); err != nil {
			return err
		}
		return s.record(ctx, tx, by, ActionRoleDelete, name, OutcomeSuccess, nil)
	})
	if err != nil {
		return fmt.Errorf("delete role %s: %w", name, err)
	}
	return nil
}

// GrantPermission grants perm to role and returns the role; by must hold
// perm. Granting twice changes nothing; granting to the admin role, which
// holds every permission already, succeeds without a change. Returns
// verify.ErrNotFound if the role or the permission does not exist.
func (s *Service) GrantPermission(ctx context.Context, role, perm string, by Actor) (Role, error) {
	var out Role
	err := s.store.InTx(ctx, func(tx Store) error {
		if _, err := permissionByName(ctx, tx, perm); err != nil {
			return missing(err, "permission", perm)
		}
		if err := authorize(by, AuthorityOf([]string{perm}), "to grant it"); err != nil {
			return err
		}
		r, err := tx.RoleByName(ctx, role)
		if err != nil || role == RoleAdmin {
			out = r
			return missing(err, "role", role)
		}
		if err := tx.RoleGrant(ctx, role, perm); err != nil {
			return err
		}
		if out, err = tx.RoleByName(ctx, role); err != nil {
			return err
		}
		return s.record(ctx, tx, by, ActionRoleGrant, role, OutcomeSuccess, map[string]any{"permission": perm})
	})
	if err != nil {
		return Role{}, fmt.Errorf("grant %s to role %s: %w", perm, role, err)
	}
	return out, nil
}

// RevokePermission takes perm from role; by must hold perm. Revoking what was
// not granted changes nothing. The admin role's permissions cannot be revoked
// (StateError). Returns verify.ErrNotFound if the role or the permission does
// not exist.
func (s *Service) RevokePermission(ctx context.Context, role, perm string, by Actor) error {
	err := s.store.InTx(ctx, func(tx Store) error {
		if _, err := permissionByName(ctx, tx, perm); err != nil {
			return missing(err, "permission", perm)
		}
		if err := authorize(by, AuthorityOf([]string{perm}), "to revoke it"); err != nil {
			return err
		}
		if _, err := tx.RoleByName(ctx, role); err != nil {
			return missing(err, "role", role)
		}
		if role == RoleAdmin {
			return &StateError{Msg: "the admin role holds every permission; none can be revoked from it"}
		}
		if err := tx.RoleRevoke(ctx, role, perm); err != nil {
			return err
		}
		return s.record(ctx, tx, by, ActionRoleRevoke, role, OutcomeSuccess, map[string]any{"permission": perm})
	})
	if err != nil {
		return fmt.Errorf("revoke %s from role %s: %w", perm, role, err)
	}
	return nil
}

// AssignRole gives user userID the role and returns the user's roles. by must
// hold every permission of the role and of the user. A user holds at most
// MaxUserRoles roles (a *FieldError beyond). Assigning twice changes nothing.
// The user's access tokens carry the new permissions from their next refresh.
// Returns verify.ErrNotFound if the user or the role does not exist.
func (s *Service) AssignRole(ctx context.Context, userID, role string, by Actor) ([]string, error) {
	return s.changeRole(ctx, userID, role, true, by)
}

// UnassignRole takes the role from user userID and returns the user's roles.
// by must hold every permission of the user. Unassigning what was not
// assigned changes nothing. The user's access tokens lose the role's
// permissions at their next refresh (or expiry). Taking the admin role from
// the last user holding it is allowed: admin API keys (authgate:admin) still
// reach the whole API. Returns verify.ErrNotFound if the user or the role
// does not exist.
func (s *Service) UnassignRole(ctx context.Context, userID, role string, by Actor) ([]string, error) {
	return s.changeRole(ctx, userID, role, false, by)
}

func (s *Service) changeRole(ctx context.Context, userID, role string, assign bool, by Actor) ([]string, error) {
	var out []string
	err := s.store.InTx(ctx, func(tx Store) error {
		if _, err := tx.UserByIDForUpdate(ctx, userID); err != nil {
			return missing(err, "user", userID)
		}
		r, err := tx.RoleByName(ctx, role)
		if err != nil {
			return missing(err, "role", role)
		}
		if err := actOnUser(ctx, tx, by, userID); err != nil {
			return err
		}
		action, change := ActionRoleUnassign, tx.UserRoleUnassign
		if assign {
			action, change = ActionRoleAssign, tx.UserRoleAssign
			if err := authorize(by, roleAuthority(r), "to hand out role "+role+", which holds it"); err != nil {
				return err
			}
			held, err := tx.UserRoles(ctx, userID)
			if err != nil {
				return err
			}
			if len(held) >= MaxUserRoles && !slices.Contains(held, role) {
				return invalid("role", fmt.Sprintf("a user holds at most %d roles (they travel in every access token)", MaxUserRoles))
			}
		}
		if err := change(ctx, userID, role); err != nil {
			return err
		}
		roles, err := tx.UserRoles(ctx, userID)
		if err != nil {
			return err
		}
		out = roles
		return s.record(ctx, tx, by, action, userID, OutcomeSuccess, map[string]any{"role": role})
	})
	if err != nil {
		verb := map[bool]string{true: "assign", false: "unassign"}[assign]
		return nil, fmt.Errorf("%s role %s to user %s: %w", verb, role, userID, err)
	}
	return out, nil
}

// UserRoles returns the names of user userID's roles, sorted. Returns
// verify.ErrNotFound if there is no such user.
func (s *Service) UserRoles(ctx context.Context, userID string) ([]string, error) {
	u, err := s.GetUser(ctx, userID)
	if err != nil {
		return nil, err
	}
	return u.Roles, nil
}

// UserPermissions returns user userID's effective permissions, sorted: those
// of its roles, or every permission if it holds the admin role. Returns
// verify.ErrNotFound if there is no such user.
func (s *Service) UserPermissions(ctx context.Context, userID string) ([]string, error) {
	var out []string
	err := s.store.InTx(ctx, func(tx Store) error {
		if _, err := tx.UserByID(ctx, userID); err != nil {
			return err
		}
		var err error
		out, err = tx.UserPermissions(ctx, userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("permissions of user %s: %w", userID, err)
	}
	return out, nil
}

func validDescription(d string) error {
	if !utf8.ValidString(d) {
		return invalid("description", "must be UTF-8 text")
	}
	if utf8.RuneCountInString(d) > MaxDescriptionLen {
		return invalid("description", fmt.Sprintf("must be at most %d characters", MaxDescriptionLen))
	}
	for _, r := range d {
		if unicode.IsControl(r) {
			return invalid("description", "must not contain control characters")
		}
	}
	return nil
}
