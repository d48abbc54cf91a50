package issue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/authgate/authgate/verify"
)

// ScopeAdmin lets a credential use the whole management API.
const ScopeAdmin = "authgate:admin"

// authgate's own permissions (seeded by the migrations). ScopeAdmin holds them all.
const (
	PermKeysRead         = "keys:read"
	PermKeysWrite        = "keys:write"
	PermUsersRead        = "users:read"
	PermUsersWrite       = "users:write"
	PermRolesRead        = "roles:read"
	PermRolesWrite       = "roles:write"
	PermSessionsWrite    = "sessions:write"
	PermSigningKeysWrite = "signing_keys:write"
	PermAuditRead        = "audit:read"
)

// Permission is a named right, resource:action (keys:write, events:read).
type Permission struct {
	Name        string
	Description string
	Builtin     bool
}

// Limits on permissions (the database checks them too).
const (
	MaxPermissionLen = verify.MaxScopeLen
	// MaxCatalogueLen bounds the permission catalogue: the length of every
	// permission's name, plus one for the space between them. An admin's
	// access token carries them all, and so does its X-Auth-Scopes; with
	// MaxUserRoles roles of the longest name, the longest username and email,
	// an admin's token stays under verify.MaxCredentialLen and the identity
	// headers under nginx's default 4 KiB proxy_buffer_size (tested).
	MaxCatalogueLen = 1500
	// ReservedNamespace is authgate's own: no permission can be created in it.
	// ScopeAdmin lives there.
	ReservedNamespace = "authgate:"
)

// validPermission checks a permission name: a scope (verify.ValidScope, the
// one alphabet of permissions and scopes) of the form resource:action, outside
// ReservedNamespace. field names the request field for the refusal.
func validPermission(field, name string) error {
	resource, action, ok := strings.Cut(name, ":")
	switch {
	case !verify.ValidScope(name) || !ok || resource == "" || action == "":
		return invalid(field, fmt.Sprintf("%q is not a permission: use resource:action, at most %d letters, digits and . _ - : /",
			truncate(name, 64), MaxPermissionLen))
	case strings.HasPrefix(name, ReservedNamespace):
		return invalid(field, fmt.Sprintf("%q is in authgate's own namespace %s, where no permission can be created",
			truncate(name, 64), ReservedNamespace))
	}
	return nil
}

// usablePermission reports whether a stored permission may reach a token:
// one that an earlier version allowed and the rules above refuse (a * in it,
// or authgate's namespace) is left out of every token and reported at start.
func usablePermission(name string) bool { return validPermission("", name) == nil }

// UserScopes returns the scopes of a user holding roles and, through them, the
// effective permissions perms (RoleStore.UserPermissions), as they are used
// on the hot path: the usable permissions (usablePermission: a permission an
// earlier version allowed and the verifier refuses would make a whole token
// useless), plus ScopeAdmin for an admin, sorted, each once. It is an access
// token's scope claim and a browser session's scopes.
func UserScopes(roles, perms []string) []string {
	scopes := slices.DeleteFunc(slices.Clone(perms), func(p string) bool { return !usablePermission(p) })
	if slices.Contains(roles, RoleAdmin) {
		scopes = append(scopes, ScopeAdmin)
	}
	slices.Sort(scopes)
	return slices.Compact(scopes)
}

// ListPermissions returns every permission, by name.
func (s *Service) ListPermissions(ctx context.Context) ([]Permission, error) {
	ps, err := s.store.PermissionList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list permissions: %w", err)
	}
	return ps, nil
}

// CreatePermission stores a permission named resource:action (validPermission).
// The admin role holds it at once; other roles once someone holding it grants
// it to them. Returns a *FieldError for a bad name or description, or when the
// catalogue would outgrow MaxCatalogueLen, a StateError if the name is taken.
func (s *Service) CreatePermission(ctx context.Context, name, description string, by Actor) (Permission, error) {
	if err := validPermission("name", name); err != nil {
		return Permission{}, err
	}
	if err := validDescription(description); err != nil {
		return Permission{}, err
	}
	p := Permission{Name: name, Description: description}
	err := s.store.InTx(ctx, func(tx Store) error {
		if err := tx.PermissionLock(ctx); err != nil { // one catalogue change at a time: the bound holds
			return err
		}
		all, err := tx.PermissionList(ctx)
		if err != nil {
			return err
		}
		if catalogueLen(all)+len(name)+1 > MaxCatalogueLen {
			return invalid("name", fmt.Sprintf("the permission catalogue is full: its names may take %d bytes in all, "+
				"since an admin's access token carries every one; delete unused permissions or use shorter names", MaxCatalogueLen))
		}
		if err := tx.PermissionInsert(ctx, p); err != nil {
			return err
		}
		return s.record(ctx, tx, by, ActionPermCreate, name, OutcomeSuccess, nil)
	})
	if errors.Is(err, ErrConflict) {
		err = &StateError{Msg: fmt.Sprintf("permission %q already exists", name)}
	}
	if err != nil {
		return Permission{}, fmt.Errorf("create permission %s: %w", name, err)
	}
	return p, nil
}

// DeletePermission deletes a permission and its grants; by must hold it.
// Built-in permissions cannot be deleted (StateError). Returns
// verify.ErrNotFound if there is none.
func (s *Service) DeletePermission(ctx context.Context, name string, by Actor) error {
	err := s.store.InTx(ctx, func(tx Store) error {
		p, err := permissionByName(ctx, tx, name)
		if err != nil {
			return err
		}
		if err := authorize(by, AuthorityOf([]string{name}), "to delete it"); err != nil {
			return err
		}
		if p.Builtin {
			return &StateError{Msg: fmt.Sprintf("permission %q is built in and cannot be deleted", name)}
		}
		if err := tx.PermissionDelete(ctx, name); err != nil {
			return err
		}
		return s.record(ctx, tx, by, ActionPermDelete, name, OutcomeSuccess, nil)
	})
	if err != nil {
		return fmt.Errorf("delete permission %s: %w", name, err)
	}
	return nil
}

// catalogueLen is what the names of ps take in a token's scope claim.
func catalogueLen(ps []Permission) int {
	n := 0
	for _, p := range ps {
		n += len(p.Name) + 1
	}
	return n
}

// permissionByName finds a permission in the (short) list of all of them.
func permissionByName(ctx context.Context, st Store, name string) (Permission, error) {
	ps, err := st.PermissionList(ctx)
	if err != nil {
		return Permission{}, err
	}
	i := slices.IndexFunc(ps, func(p Permission) bool { return p.Name == name })
	if i < 0 {
		return Permission{}, fmt.Errorf("permission %q: %w", name, verify.ErrNotFound)
	}
	return ps[i], nil
}
