package issue

import (
	"context"
	"slices"
	"strings"

	"github.com/authgate/authgate/verify"
)

// Authority is what a principal holds: the permissions it may use, hand out
// and act beyond. The zero Authority holds nothing.
//
// The one rule of the issuer (see the package documentation): a caller may
// create, copy, widen, grant, hand out, rotate into or act upon authority only
// when its Authority covers every permission involved. authorize applies it;
// every Service method that changes authority calls it, so routes and the CLI
// cannot skip it.
type Authority struct {
	all   bool     // ScopeAdmin, or the CLI: every permission, present and future
	perms []string // sorted, no duplicates; unused when all
}

// AllAuthority holds every permission, including those added later: a holder
// of ScopeAdmin, and the command line (which needs the database and the
// server secret anyway).
func AllAuthority() Authority { return Authority{all: true} }

// AuthorityOf returns the authority of a holder of scopes, compared as
// strings: each scope is a permission it holds, and ScopeAdmin holds them all.
func AuthorityOf(scopes []string) Authority {
	if slices.Contains(scopes, ScopeAdmin) {
		return AllAuthority()
	}
	perms := slices.Clone(scopes)
	slices.Sort(perms)
	return Authority{perms: slices.Compact(perms)}
}

// Holds reports whether a holds permission perm.
func (a Authority) Holds(perm string) bool {
	if a.all {
		return true
	}
	_, ok := slices.BinarySearch(a.perms, perm)
	return ok
}

// All reports whether a holds every permission (ScopeAdmin).
func (a Authority) All() bool { return a.all }

// Missing returns a permission that need holds and a lacks, or "" when a
// covers need. Everything (ScopeAdmin) is covered only by everything: the
// answer is then ScopeAdmin.
func (a Authority) Missing(need Authority) string {
	switch {
	case a.all:
		return ""
	case need.all:
		return ScopeAdmin
	}
	for _, p := range need.perms {
		if !a.Holds(p) {
			return p
		}
	}
	return ""
}

// authorize is the authority rule: by may go on only if it holds every
// permission of need. what says what for, in the refusal: "to act on user
// usr_x, who holds it". The refusal is a 403 naming the missing permission.
func authorize(by Actor, need Authority, what string) error {
	if p := by.Authority.Missing(need); p != "" {
		return &PermissionError{Permission: p, Why: what}
	}
	return nil
}

// userAuthority returns what user id holds now, through st: every permission
// for a holder of the admin role, else its roles' permissions.
func userAuthority(ctx context.Context, st Store, id string) (Authority, error) {
	roles, err := st.UserRoles(ctx, id)
	if err != nil {
		return Authority{}, err
	}
	if slices.Contains(roles, RoleAdmin) {
		return AllAuthority(), nil
	}
	perms, err := st.UserPermissions(ctx, id)
	if err != nil {
		return Authority{}, err
	}
	return AuthorityOf(perms), nil
}

// roleAuthority returns what a holder of r gets from it.
func roleAuthority(r Role) Authority {
	if r.Name == RoleAdmin {
		return AllAuthority()
	}
	return AuthorityOf(r.Permissions)
}

// actOnUser refuses unless by holds every permission user id holds now.
func actOnUser(ctx context.Context, st Store, by Actor, id string) error {
	held, err := userAuthority(ctx, st, id)
	if err != nil {
		return err
	}
	return authorize(by, held, "to act on user "+id+", who holds it")
}

// CallerAuthority returns what principal p may do on the management API: an
// API key holds its scopes; a user, by access token or by browser session
// cookie, holds what their roles give them now, not what their token said
// when it was signed, so a role taken away stops counting at once. Personal
// tokens and static keys hold nothing here: they are refused with
// ErrNotForManagement.
func (s *Service) CallerAuthority(ctx context.Context, p *verify.Principal) (Authority, error) {
	switch p.Kind {
	case verify.KindAPIKey:
		return AuthorityOf(p.Scopes), nil
	case verify.KindJWT, verify.KindSession:
		held, err := userAuthority(ctx, s.store, p.Subject)
		if err != nil {
			return Authority{}, err
		}
		return held, nil
	}
	return Authority{}, ErrNotForManagement
}

// ownPermissions are authgate's built-in permissions (seeded by the migrations).
var ownPermissions = []string{PermAuditRead, PermKeysRead, PermKeysWrite, PermRolesRead, PermRolesWrite,
	PermSessionsWrite, PermSigningKeysWrite, PermUsersRead, PermUsersWrite}

// OwnPermission reports whether perm is authority over authgate itself: one of
// its built-in permissions, or a name in ReservedNamespace (ScopeAdmin).
// Personal tokens never carry one: they are made to travel in URLs.
func OwnPermission(perm string) bool {
	return strings.HasPrefix(perm, ReservedNamespace) || slices.Contains(ownPermissions, perm)
}

// Actor is who asked for a change, from where, holding what: every audit row
// records who and where, and the authority rule reads Authority. The zero
// Authority holds nothing, so an Actor built without one can change nothing.
type Actor struct {
	ID        string // key:<id>, user:<id>, cli, or anonymous
	IP        string
	UserAgent string
	RequestID string
	Authority Authority
}

// CLI is the actor of the command line: the operator's bootstrap tool, which
// needs the database and the server secret and so holds every permission.
func CLI() Actor { return Actor{ID: "cli", Authority: AllAuthority()} }
