package issue

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/authgate/verify"
)

// errTokenTooLarge refuses to hand out an access token the verifier would
// refuse: the catalogue and role bounds keep it from happening, unless the
// data predates them or the configured issuer and audience are very long.
var errTokenTooLarge error = &StateError{Msg: fmt.Sprintf("this account's access token would be longer than %d bytes, "+
	"which the verifier refuses: it holds too many roles or permissions (see authgate's log at start)", verify.MaxCredentialLen)}

// errBadRefresh answers every refresh token that may not be used: unknown,
// wrong secret, reused, or of a session that has ended.
var errBadRefresh = &AuthError{Err: ErrUnauthenticated, Msg: "the refresh token is invalid, expired or revoked; log in again"}

// Refresh exchanges a refresh token (agr_…) for a new access token and the
// token's successor, and extends the session's idle expiry. Roles and
// permissions are read again, so changes apply from the next refresh.
//
// Every use rotates the token. The successor is derived from the presented
// token, so two refreshes racing within RefreshReuseGrace both get the same
// successor (each with a fresh access token) rather than logging the user out.
// A token presented again after the grace means it was copied: the whole
// session is revoked. Returns a *FieldError (ErrInvalid) for something that is
// not a refresh token, and errBadRefresh (ErrUnauthenticated) for one that may
// not be used. Like logins, failures are limited per client IP (a
// *ThrottleError, ErrThrottled): only a success gives the attempt back.
func (s *Service) Refresh(ctx context.Context, token string, by Actor) (Tokens, error) {
	switch {
	case token == "":
		return Tokens{}, invalid("refresh_token", "is required")
	case !strings.HasPrefix(token, verify.PrefixRefreshToken):
		return Tokens{}, invalid("refresh_token", "must be a refresh token ("+verify.PrefixRefreshToken+"…), not an API key or an access token")
	case s.opts.Signer == nil:
		return Tokens{}, fmt.Errorf("refresh: %w", errNoSigner)
	}
	refund, wait := s.refreshIPs.take(by.IP, s.now())
	if wait > 0 {
		return Tokens{}, &ThrottleError{RetryAfter: wait, Msg: "too many failed refreshes from this address; try again later"}
	}
	t, err := s.refresh(ctx, token, by)
	if err == nil {
		refund()
	}
	return t, err
}

func (s *Service) refresh(ctx context.Context, token string, by Actor) (Tokens, error) {
	presented, err := verify.ParseKey(verify.PrefixRefreshToken, token)
	if err != nil {
		return Tokens{}, errBadRefresh
	}
	now := s.now()
	var out Tokens
	var denied error // set when the answer is no, but what was done must commit
	err = s.store.InTx(ctx, func(tx Store) error {
		rt, err := tx.RefreshTokenByLookupIDForUpdate(ctx, presented.LookupID)
		if errors.Is(err, verify.ErrNotFound) {
			denied = errBadRefresh
			return nil
		}
		if err != nil {
			return err
		}
		if !s.hasher.Equal(rt.MACVersion, presented.Secret, rt.SecretMAC) {
			denied = errBadRefresh
			return nil
		}
		sess, err := tx.SessionByIDForUpdate(ctx, rt.SessionID)
		if err != nil {
			return err
		}
		if sess.RevokedAt != nil || !now.Before(sess.IdleExpiresAt) || !now.Before(sess.ExpiresAt) {
			denied = errBadRefresh
			return nil
		}
		reused := rt.UsedAt != nil
		if reused && now.Sub(*rt.UsedAt) > s.opts.RefreshReuseGrace {
			denied = errBadRefresh
			return s.endSession(ctx, tx, by, sess, ReasonReuse, now)
		}
		u, err := tx.UserByID(ctx, sess.UserID)
		if err != nil {
			return err
		}
		if u.DisabledAt != nil {
			denied = errBadRefresh
			return nil
		}
		next := s.successor(presented)
		if !reused { // within the grace the successor exists already
			if err := tx.RefreshTokenMarkUsed(ctx, rt.LookupID, now); err != nil {
				return err
			}
			if err := tx.RefreshTokenInsert(ctx, s.refreshRow(next, sess.ID, now)); err != nil {
				return err
			}
		}
		sess.RefreshedAt, sess.IdleExpiresAt = now, earlier(now.Add(s.opts.RefreshIdleTTL), sess.ExpiresAt)
		if err := tx.SessionTouch(ctx, sess.ID, sess.RefreshedAt, sess.IdleExpiresAt); err != nil {
			return err
		}
		if out, err = s.tokens(ctx, tx, u, sess, next, now); err != nil {
			return err
		}
		by.ID = "user:" + u.ID
		return s.record(ctx, tx, by, ActionSessionRenew, sess.ID, OutcomeSuccess,
			map[string]any{"user_id": u.ID, "within_grace": reused})
	})
	if err != nil {
		return Tokens{}, fmt.Errorf("refresh %s: %w", presented, err)
	}
	if denied != nil {
		return Tokens{}, denied
	}
	return out, nil
}

// successor is the refresh token that replaces k: its lookup id and secret are
// HMACs of k's secret under the server's MAC key, so they are the same however
// often k is presented, and nobody without that key can compute them from k.
func (s *Service) successor(k verify.Key) verify.Key {
	return verify.Key{Prefix: k.Prefix,
		LookupID: s.derive("refresh-successor-lookup", k.Secret, len(k.LookupID)),
		Secret:   s.derive("refresh-successor", k.Secret, len(k.Secret))}
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// derive returns n base62 characters drawn from HMAC blocks of label and
// secret, without modulo bias (bytes of 248 and over are skipped). The ':' in
// the input keeps it apart from any secret (base62) the hasher also MACs.
func (s *Service) derive(label, secret string, n int) string {
	out := make([]byte, 0, n)
	for block := 0; len(out) < n; block++ {
		_, mac := s.hasher.Sum(label + ":" + strconv.Itoa(block) + ":" + secret)
		for _, b := range mac {
			if b < 248 && len(out) < n {
				out = append(out, base62[b%62])
			}
		}
	}
	return string(out)
}

// refreshRow is the stored form of refresh token k.
func (s *Service) refreshRow(k verify.Key, sessionID string, now time.Time) RefreshToken {
	version, mac := s.hasher.Sum(k.Secret)
	return RefreshToken{LookupID: k.LookupID, SessionID: sessionID, SecretMAC: mac, MACVersion: version, CreatedAt: now}
}

// tokens signs an access token for u in sess, with u's roles and permissions
// as they are now, and pairs it with the refresh token.
func (s *Service) tokens(ctx context.Context, st Store, u User, sess Session, refresh verify.Key, now time.Time) (Tokens, error) {
	if s.opts.Signer == nil {
		return Tokens{}, errNoSigner
	}
	roles, err := st.UserRoles(ctx, u.ID)
	if err != nil {
		return Tokens{}, err
	}
	perms, err := st.UserPermissions(ctx, u.ID)
	if err != nil {
		return Tokens{}, err
	}
	if roles == nil {
		roles = []string{}
	}
	// An access token never outlives its session.
	exp := earlier(now.Add(s.opts.AccessTTL), sess.ExpiresAt)
	claims := verify.AccessClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.opts.Issuer,
			Subject:   u.ID,
			Audience:  jwt.ClaimStrings{s.opts.Audience},
			ExpiresAt: jwt.NewNumericDate(exp),
			NotBefore: jwt.NewNumericDate(now),
			IssuedAt:  jwt.NewNumericDate(now),
			ID:        verify.RandomString(22),
		},
		SessionID: sess.ID,
		Scope:     strings.Join(UserScopes(roles, perms), " "),
		Username:  u.Username,
		Email:     u.Email,
		Roles:     roles,
		DeviceID:  sess.DeviceName,
	}
	access, err := s.opts.Signer.Sign(ctx, claims)
	if err != nil {
		return Tokens{}, fmt.Errorf("sign access token: %w", err)
	}
	if len(access) > verify.MaxCredentialLen { // the verifier would refuse it everywhere
		return Tokens{}, fmt.Errorf("sign access token for user %s: %w", u.ID, errTokenTooLarge)
	}
	return Tokens{AccessToken: access, RefreshToken: refresh.Reveal(), TokenType: "bearer",
		ExpiresIn: int64(exp.Sub(now) / time.Second)}, nil
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// truncateRunes cuts s to at most n characters, replacing invalid UTF-8, which
// a text column refuses.
func truncateRunes(s string, n int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
