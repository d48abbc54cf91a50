package issue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/authgate/authgate/verify"
)

// ExternalIdentity is a person as an external identity provider vouched for
// them at one sign-in: the provider's id in authgate's configuration, the
// issuer and its stable subject for them (together, who they are), and the
// claims that may create or map them. The caller (the OpenID relying party)
// has verified every field; nothing here is the browser's word.
type ExternalIdentity struct {
	Provider      string // the configured provider's id
	Issuer        string // the ID token's iss
	Subject       string // the ID token's sub
	Email         string
	EmailVerified bool // the provider says the email is the person's
	Username      string
	Name          string
	Groups        []string
}

// Values of ProviderPolicy.NewUsers.
const (
	NewUsersRefuse = "refuse" // an identity linked to nobody is refused (the default)
	NewUsersCreate = "create" // an identity linked to nobody gets a new user
)

// ProviderPolicy is how a provider's identities become authgate users: the
// operator's configuration, checked at start by CheckProviderPolicy.
type ProviderPolicy struct {
	// NewUsers is NewUsersRefuse ("" too) or NewUsersCreate.
	NewUsers string
	// DefaultRole is given to a user NewUsersCreate creates; "" for none. When
	// Roles also names it, the mapping decides at once, at the same sign-in.
	DefaultRole string
	// LinkByVerifiedEmail links an identity linked to nobody to the user
	// holding its email, when the provider says the email is verified. Turn it
	// on only when every way an account gets its email is trusted: whoever set
	// an email on an account (an admin, open registration, another provider
	// creating users) decides whose sign-in lands in it.
	LinkByVerifiedEmail bool
	// Roles maps a provider group to an authgate role. Every role named here is
	// managed by the mapping: held exactly while one of the person's groups
	// maps to it, re-evaluated at every sign-in. Other roles are left alone.
	Roles map[string]string
}

// LinkedIdentity is an external identity linked to a user.
type LinkedIdentity struct {
	Provider     string // the provider's id when it was linked
	Issuer       string
	Subject      string
	UserID       string
	Email        string // as the provider gave it at the last sign-in; for display only
	LinkedAt     time.Time
	LastSignInAt time.Time
}

// ErrProviderPolicy is a provider policy authgate cannot apply: a role it
// names does not exist, a value is out of range. CheckProviderPolicy answers
// it at start; a sign-in that meets it (a role deleted since) fails closed
// with it, a server error and not the person's.
var ErrProviderPolicy = errors.New("provider policy cannot be applied")

// CheckProviderPolicy reports whether p can be applied now: NewUsers is one of
// its values, DefaultRole (only with NewUsersCreate) and every role of Roles
// exist, and the roles p may give a user fit in MaxUserRoles. The error wraps
// ErrProviderPolicy and names the field. Call it at start for every provider.
func (s *Service) CheckProviderPolicy(ctx context.Context, p ProviderPolicy) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrProviderPolicy, fmt.Sprintf(format, a...))
	}
	switch p.NewUsers {
	case "", NewUsersRefuse:
		if p.DefaultRole != "" {
			return bad("default_role %q is given only to new users, and new_users is not %q", p.DefaultRole, NewUsersCreate)
		}
	case NewUsersCreate:
	default:
		return bad("new_users %q: want %q or %q", p.NewUsers, NewUsersRefuse, NewUsersCreate)
	}
	roles := mappedRoles(p)
	if p.DefaultRole != "" && !slices.Contains(roles, p.DefaultRole) {
		roles = append(roles, p.DefaultRole)
	}
	if len(roles) > MaxUserRoles {
		return bad("roles: %d roles; a user holds at most %d", len(roles), MaxUserRoles)
	}
	for group, role := range p.Roles {
		if group == "" {
			return bad("roles: an empty group name")
		}
		if _, err := s.store.RoleByName(ctx, role); errors.Is(err, verify.ErrNotFound) {
			return bad("roles: group %q maps to role %q, which does not exist", group, role)
		} else if err != nil {
			return fmt.Errorf("check provider policy: %w", err)
		}
	}
	if p.DefaultRole != "" {
		if _, err := s.store.RoleByName(ctx, p.DefaultRole); errors.Is(err, verify.ErrNotFound) {
			return bad("default_role %q does not exist", p.DefaultRole)
		} else if err != nil {
			return fmt.Errorf("check provider policy: %w", err)
		}
	}
	return nil
}

// mappedRoles is every role p's mapping manages, sorted, each once.
func mappedRoles(p ProviderPolicy) []string {
	var out []string
	for _, r := range p.Roles {
		out = append(out, r)
	}
	return slices.Compact(slices.Sorted(slices.Values(out)))
}

// Identities returns the external identities linked to user userID, oldest
// first. Returns verify.ErrNotFound if there is no such user.
func (s *Service) Identities(ctx context.Context, userID string) ([]LinkedIdentity, error) {
	if _, err := s.store.UserByID(ctx, userID); err != nil {
		return nil, fmt.Errorf("list identities of user %s: %w", userID, err)
	}
	list, err := s.store.IdentityListByUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("list identities of user %s: %w", userID, err)
	}
	return list, nil
}

// ErrLastSignIn refuses to unlink a user's last linked identity when they have
// no password (ErrConflict): they could never sign in again. Linking another
// identity, or an admin setting a password, lifts it.
var ErrLastSignIn error = &StateError{Msg: "this is the only way to sign in to this account, which has no password: " +
	"link another sign-in first, or have an administrator set a password"}

// Unlink removes the link of the external identity (issuer, subject) to user
// userID: signing in with it again is then a new identity, refused, linked or
// created by its provider's policy. by must hold every permission of the user
// (a user holds their own). The user keeps their roles and sessions. Audited
// (identity.unlink). Returns verify.ErrNotFound if there is no such user or
// the user has no such link (another user's included), and ErrLastSignIn
// (ErrConflict) if it is the user's last link and they have no password (see
// hasPassword), whoever asks.
func (s *Service) Unlink(ctx context.Context, userID, issuer, subject string, by Actor) error {
	switch {
	case issuer == "":
		return invalid("issuer", "is required")
	case subject == "":
		return invalid("subject", "is required")
	}
	err := s.store.InTx(ctx, func(tx Store) error {
		u, err := tx.UserByIDForUpdate(ctx, userID)
		if err != nil {
			return missing(err, "user", userID)
		}
		if err := actOnUser(ctx, tx, by, userID); err != nil {
			return err
		}
		l, err := tx.IdentityByKey(ctx, issuer, subject)
		if err == nil && l.UserID != userID {
			err = verify.ErrNotFound // another user's: as if it did not exist
		}
		if err != nil {
			return missing(err, "linked identity", issuer+" "+subject)
		}
		// The user's row is held, so a concurrent unlink of their other
		// identity waits and then sees this one gone.
		if err := lastSignIn(ctx, tx, u); err != nil {
			return err
		}
		if err := tx.IdentityDelete(ctx, userID, issuer, subject); err != nil {
			return err
		}
		return s.record(ctx, tx, by, ActionIdentityUnlink, userID, OutcomeSuccess,
			map[string]any{"provider": l.Provider, "issuer": issuer, "subject": subject})
	})
	if err != nil {
		return fmt.Errorf("unlink identity of user %s: %w", userID, err)
	}
	return nil
}

// lastSignIn returns ErrLastSignIn if user u has one linked identity left
// and no password.
func lastSignIn(ctx context.Context, tx Store, u User) error {
	links, err := tx.IdentityListByUser(ctx, u.ID)
	if err != nil || len(links) > 1 {
		return err
	}
	if hasPassword(u.PasswordHash) {
		return nil
	}
	return ErrLastSignIn
}

// failNotAdmitted is why a provider sign-in was refused before an identity
// reached the service: the provider's configuration does not admit the
// account (user.login_failed, with the check that refused it).
const failNotAdmitted = "not_admitted"

// ExternalNotAdmitted audits a provider sign-in whose answer passed every
// check but names an account the provider's configuration does not admit (a
// Google account outside the hosted domain, an Entra groups overage): a
// user.login_failed row with reason not_admitted, the provider's id and
// check, a short fixed name of the check that refused it; no user, since
// nobody was identified. It creates nothing else. Returns a *FieldError
// (ErrInvalid) for a provider or check that is empty or longer than 64 bytes
// of printable text.
func (s *Service) ExternalNotAdmitted(ctx context.Context, provider, check string, by Actor) error {
	for _, f := range []struct{ name, v string }{{"provider", provider}, {"check", check}} {
		if f.v == "" || len(f.v) > maxProviderIDLen || !printable(f.v) {
			return invalid(f.name, fmt.Sprintf("must be 1 to %d bytes of printable text", maxProviderIDLen))
		}
	}
	err := s.store.InTx(ctx, func(tx Store) error {
		return s.record(ctx, tx, by, ActionLoginFailed, "", OutcomeFailure,
			map[string]any{"reason": failNotAdmitted, "provider": provider, "check": check})
	})
	if err != nil {
		return fmt.Errorf("sign in with %s: record refusal: %w", provider, err)
	}
	return nil
}
