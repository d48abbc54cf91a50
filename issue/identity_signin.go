package issue

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/authgate/authgate/verify"
)

// ErrSignInRefused answers an external identity that may not sign in: linked
// to nobody under a policy that neither links nor creates, linked to a
// disabled user, without the email a new user needs, or with an email another
// account holds. It is the same for every reason (ErrPermission); the audit
// row (user.login_failed) says which.
var ErrSignInRefused error = &AuthError{Err: ErrPermission, Msg: "this account is not allowed to sign in here"}

// NotAdmittedError is a provider's answer that passed every check but names
// an account the provider's configuration does not admit (Check: a short
// fixed name such as hosted_domain or groups_overage). It answers as
// ErrSignInRefused; whoever receives it audits it with ExternalNotAdmitted.
type NotAdmittedError struct{ Check string }

func (e *NotAdmittedError) Error() string { return ErrSignInRefused.Error() + " (" + e.Check + ")" }

// Unwrap makes the error answer as ErrSignInRefused.
func (e *NotAdmittedError) Unwrap() error { return ErrSignInRefused }

// Why an external sign-in was refused, in user.login_failed rows (with
// failDisabled).
const (
	failNotLinked       = "not_linked"       // linked to nobody, and the policy creates no one
	failEmailUnverified = "email_unverified" // the email is an account's, but the provider does not vouch for it
	failEmailTaken      = "email_taken"      // a new user's email is an account's already, which the policy does not link
	failNoEmail         = "no_email"         // a new user needs an email, and the provider gave none usable
	failTooManyRoles    = "too_many_roles"   // the mapping would give the user more than MaxUserRoles
)

// errChanged is a concurrent change seen mid-sign-in (a link or a user gone,
// an email moved): the sign-in starts over once.
var errChanged = fmt.Errorf("%w: changed during sign-in", ErrConflict)

// refusal ends an external sign-in's transaction without a trace but its
// audit row.
type refusal struct{ reason, userID string }

func (r *refusal) Error() string { return "sign-in refused: " + r.reason }

// SignInExternal signs in the person id names, whom the provider p belongs to
// has vouched for, and starts a browser session for them exactly as SignIn
// does (domain, device name, remember, the MaxSessions cap), audited as
// user.login with kind browser and the provider. Who they are:
//   - the user (issuer, subject) is linked to;
//   - else, when id.EmailVerified and p.LinkByVerifiedEmail, the user holding
//     that email, to whom the identity is then linked (identity.link);
//   - else, with p.NewUsers NewUsersCreate and a usable email no account holds,
//     a new user (user.create, identity.link): username from id.Username or the
//     email's local part, made to fit the username alphabet and unique with a
//     number; a password nobody knows (an admin can set one); p.DefaultRole;
//   - else refused. A disabled user is refused too.
//
// Then the roles p.Roles names are synced: the user holds each exactly while
// one of id.Groups maps to it; roles the mapping does not name are untouched;
// each change audited (user.role_sync). This is the one sanctioned exception
// to the authority rule: the mapping is the operator's configuration, so the
// changes are not checked against by, who is the person signing in. A
// successful sign-in clears the password lockout, as a password sign-in does.
//
// Everything is one transaction: a refusal or a failure creates nothing (no
// user, link, role or session); a refusal is audited as user.login_failed with
// its reason and the provider, in a transaction of its own, and answers
// ErrSignInRefused. A role of p that no longer exists fails closed with
// ErrProviderPolicy. id must hold a provider, an issuer and a subject
// (*FieldError otherwise).
func (s *Service) SignInExternal(ctx context.Context, domain string, id ExternalIdentity, p ProviderPolicy, in BrowserSignIn,
	by Actor) (BrowserSession, error) {
	if domain == "" {
		return BrowserSession{}, errors.New("sign in: no cookie domain")
	}
	if err := validDeviceName(in.DeviceName); err != nil {
		return BrowserSession{}, err
	}
	var out BrowserSession
	err := s.admitExternal(ctx, id, p, by, func(tx Store, u User, by Actor, now time.Time) error {
		var err error
		out, err = s.browserSession(ctx, tx, u, domain, in, by, now, map[string]any{"provider": id.Provider})
		return err
	})
	if err != nil {
		return BrowserSession{}, err
	}
	return out, nil
}

// admitExternal decides who id names under p and syncs their roles, as
// SignInExternal documents, then calls open with the user, the actor acting
// as them, and the time, in the same transaction: the one way SignInExternal
// and ExchangeExternal admit an external identity. A conflict (a concurrent
// first sign-in of the same person, a username taken meanwhile, errChanged)
// starts everything over once. A refusal creates nothing, is audited and
// answers ErrSignInRefused.
func (s *Service) admitExternal(ctx context.Context, id ExternalIdentity, p ProviderPolicy, by Actor,
	open func(tx Store, u User, by Actor, now time.Time) error) error {
	if err := validExternal(id); err != nil {
		return err
	}
	if p.NewUsers != "" && p.NewUsers != NewUsersRefuse && p.NewUsers != NewUsersCreate {
		return fmt.Errorf("sign in with %s: %w: new_users %q", id.Provider, ErrProviderPolicy, p.NewUsers)
	}
	now := s.now()
	var err error
	for try := 0; try < 2; try++ {
		err = s.store.InTx(ctx, func(tx Store) error {
			// One sign-in of this identity at a time: a concurrent first
			// sign-in would otherwise find neither link nor user, then the
			// user the other made, and be refused as "email taken".
			if err := tx.IdentityLock(ctx, id.Issuer, id.Subject); err != nil {
				return err
			}
			by := by
			u, err := s.externalUser(ctx, tx, id, p, &by, now)
			if err != nil {
				return err
			}
			if err := s.syncRoles(ctx, tx, u.ID, id, p, by); err != nil {
				return err
			}
			return open(tx, u, by, now)
		})
		if !errors.Is(err, ErrConflict) {
			break
		}
	}
	if r, ok := errors.AsType[*refusal](err); ok {
		return s.externalFailed(ctx, by, id, r)
	}
	if err != nil {
		return fmt.Errorf("sign in with %s: %w", id.Provider, err)
	}
	return nil
}

// externalUser finds, links or creates the user id names, through tx, holding
// their row, and sets by.ID to them. Returns a *refusal when the policy says no.
func (s *Service) externalUser(ctx context.Context, tx Store, id ExternalIdentity, p ProviderPolicy, by *Actor,
	now time.Time) (User, error) {
	email := usableEmail(id.Email)
	// The user is locked before the link is written, as Unlink does.
	l, err := tx.IdentityByKey(ctx, id.Issuer, id.Subject)
	switch {
	case err == nil:
		u, err := tx.UserByIDForUpdate(ctx, l.UserID)
		if errors.Is(err, verify.ErrNotFound) {
			return User{}, errChanged // deleted meanwhile
		} else if err != nil {
			return User{}, err
		}
		if u.DisabledAt != nil {
			return User{}, &refusal{failDisabled, u.ID}
		}
		by.ID = "user:" + u.ID
		if err := tx.IdentityTouch(ctx, id.Issuer, id.Subject, email, now); errors.Is(err, verify.ErrNotFound) {
			return User{}, errChanged // unlinked meanwhile
		} else if err != nil {
			return User{}, err
		}
		return u, nil
	case !errors.Is(err, verify.ErrNotFound):
		return User{}, err
	}
	var holder *User
	if email != "" {
		h, err := tx.UserByEmail(ctx, email)
		switch {
		case err == nil:
			holder = &h
		case !errors.Is(err, verify.ErrNotFound):
			return User{}, err
		}
	}
	var u User
	via := "verified_email"
	switch {
	case holder != nil && p.LinkByVerifiedEmail && id.EmailVerified:
		if u, err = tx.UserByIDForUpdate(ctx, holder.ID); errors.Is(err, verify.ErrNotFound) {
			return User{}, errChanged
		} else if err != nil {
			return User{}, err
		}
		if !strings.EqualFold(u.Email, email) {
			return User{}, errChanged // the email moved meanwhile
		}
		if u.DisabledAt != nil {
			return User{}, &refusal{failDisabled, u.ID}
		}
	case holder != nil && p.LinkByVerifiedEmail:
		return User{}, &refusal{failEmailUnverified, holder.ID}
	case p.NewUsers != NewUsersCreate:
		return User{}, &refusal{failNotLinked, ""}
	case holder != nil:
		return User{}, &refusal{failEmailTaken, holder.ID}
	case email == "":
		return User{}, &refusal{failNoEmail, ""}
	default:
		if u, err = s.createExternalUser(ctx, tx, id, email, p, *by, now); err != nil {
			return User{}, err
		}
		via = "created"
	}
	by.ID = "user:" + u.ID
	if _, err := tx.IdentityInsert(ctx, LinkedIdentity{Provider: id.Provider, Issuer: id.Issuer, Subject: id.Subject,
		UserID: u.ID, Email: email, LinkedAt: now, LastSignInAt: now}); err != nil {
		return User{}, err
	}
	return u, s.record(ctx, tx, *by, ActionIdentityLink, u.ID, OutcomeSuccess,
		map[string]any{"provider": id.Provider, "issuer": id.Issuer, "subject": id.Subject, "via": via})
}

// syncRoles gives user userID each role p's mapping names that one of
// id.Groups maps to, and takes each other one it names, auditing every change.
func (s *Service) syncRoles(ctx context.Context, tx Store, userID string, id ExternalIdentity, p ProviderPolicy, by Actor) error {
	managed := mappedRoles(p)
	if len(managed) == 0 {
		return nil
	}
	want := map[string]bool{}
	for _, g := range id.Groups {
		if r, ok := p.Roles[g]; ok {
			want[r] = true
		}
	}
	held, err := tx.UserRoles(ctx, userID)
	if err != nil {
		return err
	}
	changed := false
	for _, r := range managed {
		has := slices.Contains(held, r)
		if has == want[r] {
			continue
		}
		change := "unassign"
		if want[r] {
			change = "assign"
			err = assignPolicyRole(ctx, tx, userID, r)
		} else {
			err = tx.UserRoleUnassign(ctx, userID, r)
		}
		if err != nil {
			return err
		}
		changed = true
		if err := s.record(ctx, tx, by, ActionRoleSync, userID, OutcomeSuccess,
			map[string]any{"role": r, "change": change, "provider": id.Provider}); err != nil {
			return err
		}
	}
	if !changed {
		return nil
	}
	if held, err = tx.UserRoles(ctx, userID); err != nil {
		return err
	}
	if len(held) > MaxUserRoles {
		return &refusal{failTooManyRoles, userID}
	}
	return nil
}

// assignPolicyRole gives user userID role, which a provider policy names: a
// role that does not exist is the policy's fault (ErrProviderPolicy).
func assignPolicyRole(ctx context.Context, tx Store, userID, role string) error {
	if _, err := tx.RoleByName(ctx, role); errors.Is(err, verify.ErrNotFound) {
		return fmt.Errorf("%w: role %q does not exist", ErrProviderPolicy, role)
	} else if err != nil {
		return err
	}
	return tx.UserRoleAssign(ctx, userID, role)
}

// externalFailed audits a refused external sign-in, in a transaction of its
// own, and returns ErrSignInRefused.
func (s *Service) externalFailed(ctx context.Context, by Actor, id ExternalIdentity, r *refusal) error {
	meta := map[string]any{"reason": r.reason, "provider": id.Provider, "issuer": id.Issuer, "subject": id.Subject}
	if e := usableEmail(id.Email); e != "" {
		meta["email"] = e
	}
	err := s.store.InTx(ctx, func(tx Store) error {
		return s.record(ctx, tx, by, ActionLoginFailed, r.userID, OutcomeFailure, meta)
	})
	if err != nil {
		return fmt.Errorf("sign in with %s: record refusal: %w", id.Provider, err)
	}
	return ErrSignInRefused
}
