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

// PersonalToken is a user's long-lived token (agp_…) as the API shows it. It
// never holds the secret. A token always expires; what it may do is its scopes
// intersected with its user's permissions at the time of each check.
type PersonalToken struct {
	ID         string // tok_…
	Prefix     string // agp_ + lookup id: how a token is recognised in lists and logs
	UserID     string
	Name       string
	Scopes     []string
	ExpiresAt  time.Time
	LastUsedAt *time.Time // approximate: recorded at most once a minute
	CreatedAt  time.Time
	RevokedAt  *time.Time
	RateLimit  *RateLimit // nil: none of its own
}

// IssuedToken is a freshly minted personal token. Secret is the full
// credential: it is shown once, to its user, and stored nowhere.
type IssuedToken struct {
	PersonalToken
	Secret string
}

// TokenRequest is what a user asks for when creating a personal token.
type TokenRequest struct {
	Name          string     // 1 to MaxNameLen printable characters, unique among the user's live tokens
	Scopes        []string   // each one the user holds
	ExpiresInDays *int       // required: 1 to Options.MaxTokenDays
	RateLimit     *RateLimit // nil: none
}

// CreateToken validates in and stores a new personal token for user userID,
// created by by and audited (token.create) in the same transaction. An expired
// token holding the name is revoked first, so the name can be reused.
// The scopes must be held by the user and by by (the authority rule), and
// none may be authgate's own (OwnPermission): a token sits in URLs and never
// carries power over authgate itself.
// Returns a *FieldError (ErrInvalid) naming the first bad field, an
// *AuthError (ErrPermission) naming the scopes the user does not hold, a
// *PermissionError (ErrPermission) naming one that by does not hold, and a
// *StateError (ErrConflict) if a live token of the user has the name.
func (s *Service) CreateToken(ctx context.Context, userID string, in TokenRequest, by Actor) (IssuedToken, error) {
	if err := s.validToken(&in); err != nil {
		return IssuedToken{}, err
	}
	now := s.now()
	secret := verify.NewKey(verify.PrefixPersonalToken)
	version, mac := s.hasher.Sum(secret.Secret)
	d := PersonalTokenDraft{
		ID: "tok_" + verify.RandomString(16), LookupID: secret.LookupID, SecretMAC: mac, MACVersion: version,
		UserID: userID, Name: in.Name, Scopes: in.Scopes,
		ExpiresAt: now.Add(time.Duration(*in.ExpiresInDays) * 24 * time.Hour), CreatedAt: now, RateLimit: in.RateLimit,
	}
	var out IssuedToken
	err := s.store.InTx(ctx, func(tx Store) error {
		held, err := tx.UserPermissions(ctx, userID)
		if err != nil {
			return err
		}
		if err := notHeld(in.Scopes, held); err != nil {
			return err
		}
		if err := authorize(by, AuthorityOf(in.Scopes), "to put it in a token"); err != nil {
			return err
		}
		expired, err := tx.PersonalTokenRevokeExpiredNamed(ctx, userID, in.Name, now)
		if err != nil {
			return err
		}
		for _, t := range expired {
			if err := s.record(ctx, tx, by, ActionTokenRevoke, t.ID, OutcomeSuccess, map[string]any{
				"name": t.Name, "prefix": t.Prefix, "user_id": t.UserID, "reason": "expired; name reused"}); err != nil {
				return err
			}
		}
		t, err := tx.PersonalTokenInsert(ctx, d)
		if errors.Is(err, ErrConflict) {
			return errors.Join(&StateError{Msg: fmt.Sprintf("you already have a token named %q; revoke it or choose another name", in.Name)}, err)
		}
		if err != nil {
			return err
		}
		out = IssuedToken{PersonalToken: t, Secret: secret.Reveal()}
		meta := map[string]any{"name": t.Name, "prefix": t.Prefix, "user_id": t.UserID, "scopes": t.Scopes, "expires_at": t.ExpiresAt}
		if t.RateLimit != nil {
			meta["rate_limit"] = rateLimitAudit(t.RateLimit)
		}
		return s.record(ctx, tx, by, ActionTokenCreate, t.ID, OutcomeSuccess, meta)
	})
	if err != nil {
		return IssuedToken{}, fmt.Errorf("create token for user %s: %w", userID, err)
	}
	return out, nil
}

// ListTokens returns user userID's personal tokens in every state, newest
// first. Returns verify.ErrNotFound if there is no such user.
func (s *Service) ListTokens(ctx context.Context, userID string) ([]PersonalToken, error) {
	var out []PersonalToken
	err := s.store.InTx(ctx, func(tx Store) error {
		if _, err := tx.UserByID(ctx, userID); err != nil {
			return err
		}
		var err error
		out, err = tx.PersonalTokenListByUser(ctx, userID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens of user %s: %w", userID, err)
	}
	return out, nil
}

// RevokeToken ends personal token tokenID of user userID for good, audited
// (token.revoke) in the same transaction. by must hold every permission of the
// user. Revoking a revoked token changes nothing and records nothing. Returns
// verify.ErrNotFound if the user has no such token (another user's token is as
// if it did not exist).
func (s *Service) RevokeToken(ctx context.Context, userID, tokenID string, by Actor) (PersonalToken, error) {
	out, err := s.changeToken(ctx, userID, tokenID, by, func(tx Store, t PersonalToken) (PersonalToken, error) {
		if t.RevokedAt != nil {
			return t, nil
		}
		out, err := tx.PersonalTokenRevoke(ctx, tokenID, s.now())
		if err != nil {
			return PersonalToken{}, err
		}
		return out, s.record(ctx, tx, by, ActionTokenRevoke, t.ID, OutcomeSuccess, map[string]any{
			"name": t.Name, "prefix": t.Prefix, "user_id": t.UserID})
	})
	if err != nil {
		return PersonalToken{}, fmt.Errorf("revoke token %s: %w", tokenID, err)
	}
	return out, nil
}

// SetTokenRateLimit gives user userID's personal token tokenID its own rate
// limit, or takes it away (l nil), audited (token.rate_limit). Who may:
// whoever may act on the user (the user themself, or an admin holding
// every permission of theirs). A revoked token cannot be changed
// (StateError); another user's token is not found.
func (s *Service) SetTokenRateLimit(ctx context.Context, userID, tokenID string, l *RateLimit, by Actor) (PersonalToken, error) {
	if l != nil {
		if err := l.validate(); err != nil {
			return PersonalToken{}, err
		}
	}
	out, err := s.changeToken(ctx, userID, tokenID, by, func(tx Store, t PersonalToken) (PersonalToken, error) {
		if t.RevokedAt != nil {
			return PersonalToken{}, &StateError{Msg: "token " + tokenID + " is revoked"}
		}
		out, err := tx.PersonalTokenSetRateLimit(ctx, tokenID, l)
		if err != nil {
			return PersonalToken{}, err
		}
		return out, s.record(ctx, tx, by, ActionTokenRateLimit, t.ID, OutcomeSuccess, map[string]any{
			"name": t.Name, "prefix": t.Prefix, "user_id": t.UserID, "rate_limit": rateLimitAudit(l)})
	})
	if err != nil {
		return PersonalToken{}, fmt.Errorf("set rate limit of token %s: %w", tokenID, missing(err, "token", tokenID))
	}
	return out, nil
}

// changeToken runs change on user userID's token tokenID, locked, in one
// transaction with the checks every change of a token makes first: the token
// is the user's (another user's is verify.ErrNotFound, as if it did not
// exist) and by may act on the user (actOnUser).
func (s *Service) changeToken(ctx context.Context, userID, tokenID string, by Actor,
	change func(tx Store, t PersonalToken) (PersonalToken, error)) (PersonalToken, error) {
	var out PersonalToken
	err := s.store.InTx(ctx, func(tx Store) error {
		t, err := tx.PersonalTokenByIDForUpdate(ctx, tokenID)
		if err != nil {
			return err
		}
		if t.UserID != userID {
			return verify.ErrNotFound
		}
		if err := actOnUser(ctx, tx, by, userID); err != nil {
			return err
		}
		out, err = change(tx, t)
		return err
	})
	return out, err
}

// validToken checks in and puts its scopes in order, without duplicates.
func (s *Service) validToken(in *TokenRequest) error {
	if err := validName(in.Name); err != nil {
		return err
	}
	if in.ExpiresInDays == nil {
		return invalid("expires_in_days", fmt.Sprintf("is required: the token's life in days, 1 to %d (tokens always expire)", s.opts.MaxTokenDays))
	}
	if d := *in.ExpiresInDays; d < 1 || d > s.opts.MaxTokenDays {
		return invalid("expires_in_days", fmt.Sprintf("must be between 1 and %d (tokens always expire)", s.opts.MaxTokenDays))
	}
	if in.RateLimit != nil {
		if err := in.RateLimit.validate(); err != nil {
			return err
		}
	}
	if err := validScopes(in.Scopes); err != nil {
		return err
	}
	for _, sc := range in.Scopes {
		if OwnPermission(sc) {
			return invalid("scopes", fmt.Sprintf("a personal token cannot carry %s, one of authgate's own permissions: "+
				"it is made to travel in URLs; use an API key or your access token to manage authgate", sc))
		}
	}
	in.Scopes = slices.Compact(slices.Sorted(slices.Values(in.Scopes)))
	if in.Scopes == nil {
		in.Scopes = []string{}
	}
	return nil
}

// notHeld refuses scopes that are not among held, naming them.
func notHeld(scopes, held []string) error {
	var missing []string
	for _, sc := range scopes {
		if !slices.Contains(held, sc) {
			missing = append(missing, sc)
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return &AuthError{Err: ErrPermission, Msg: "you do not hold scope " + missing[0] + "; a token can carry only permissions you hold"}
	}
	return &AuthError{Err: ErrPermission, Msg: "you do not hold scopes " + strings.Join(missing, ", ") + "; a token can carry only permissions you hold"}
}

// Revoked is what RevokeCredentials ended, by id.
type Revoked struct {
	Sessions []string // ses_…, with their refresh tokens
	Tokens   []string // tok_…
}

// RevokeCredentials is the answer to a compromise: it ends every session of
// user userID (their refresh tokens with them, their access tokens denied on
// every instance at once) and revokes every personal token, in one
// transaction, each audited. by must hold every permission of the user (a
// user holds their own). API keys belong to nobody and are left alone.
// Returns verify.ErrNotFound if there is no such user.
func (s *Service) RevokeCredentials(ctx context.Context, userID string, by Actor) (Revoked, error) {
	now := s.now()
	out := Revoked{Sessions: []string{}, Tokens: []string{}}
	err := s.store.InTx(ctx, func(tx Store) error {
		if _, err := tx.UserByIDForUpdate(ctx, userID); err != nil {
			return err
		}
		if err := actOnUser(ctx, tx, by, userID); err != nil {
			return err
		}
		ids, err := tx.SessionRevokeAllForUser(ctx, userID, now, ReasonRevoked, s.denyUntil(now))
		if err != nil {
			return err
		}
		for _, id := range ids {
			out.Sessions = append(out.Sessions, id)
			meta := map[string]any{"reason": ReasonRevoked, "user_id": userID}
			if err := s.record(ctx, tx, by, ActionSessionEnd, id, OutcomeSuccess, meta); err != nil {
				return err
			}
		}
		tokens, err := tx.PersonalTokenRevokeAllForUser(ctx, userID, now)
		if err != nil {
			return err
		}
		for _, t := range tokens {
			out.Tokens = append(out.Tokens, t.ID)
			if err := s.record(ctx, tx, by, ActionTokenRevoke, t.ID, OutcomeSuccess, map[string]any{
				"name": t.Name, "prefix": t.Prefix, "user_id": t.UserID, "reason": "credentials revoked"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return Revoked{}, fmt.Errorf("revoke credentials of user %s: %w", userID, err)
	}
	return out, nil
}
