package db

import (
	"context"
	"fmt"
	"time"

	"github.com/authgate/authgate/db/internal/dbsqlc"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

var (
	_ verify.TokenStore        = (*DB)(nil)
	_ issue.PersonalTokenStore = (*DB)(nil)
)

// TokenByLookupID implements verify.TokenStore. Scopes are the effective ones:
// the token's scopes that the user holds now (UserPermissions, so an admin holds
// them all), less authgate's own permissions (issue.OwnPermission), which a
// token made by an earlier version may carry and which are refused on use.
// Returns verify.ErrNotFound if no token has this lookup id, which
// is also the case once its user is deleted.
func (db *DB) TokenByLookupID(ctx context.Context, lookupID string) (verify.TokenRecord, error) {
	r, err := db.q.PersonalTokenGetByLookupID(ctx, lookupID)
	if err != nil {
		return verify.TokenRecord{}, interpretError(err)
	}
	roles, held, err := db.userGrants(ctx, r.UserID)
	if err != nil {
		return verify.TokenRecord{}, fmt.Errorf("token %s: %w", r.ID, err)
	}
	return verify.TokenRecord{
		ID: r.ID, LookupID: r.LookupID, Name: r.Name, SecretMAC: r.SecretMAC, MACVersion: r.MACVersion,
		Scopes: intersect(r.Scopes, held), ExpiresAt: r.ExpiresAt, RevokedAt: orZero(r.RevokedAt),
		UserID: r.UserID, Username: r.Username, Email: r.Email, Roles: roles, UserDisabled: r.UserDisabled,
		RateLimit: rateRuleOf(rateLimitOf(r.RateLimit, r.RateLimitWindowSeconds, r.RateLimitBurst)),
	}, nil
}

// TokensTouch implements verify.TokenStore. It never moves last_used_at backwards.
func (db *DB) TokensTouch(ctx context.Context, ids []string, at time.Time) error {
	return interpretError(db.q.PersonalTokensTouch(ctx, dbsqlc.PersonalTokensTouchParams{Ids: ids, At: &at}))
}

// PersonalTokenInsert implements issue.PersonalTokenStore. Returns
// issue.ErrConflict naming personal_tokens_live_name if the user has a live
// token of that name, verify.ErrNotFound if there is no such user.
func (db *DB) PersonalTokenInsert(ctx context.Context, d issue.PersonalTokenDraft) (issue.PersonalToken, error) {
	rl := rateColumns(d.RateLimit)
	r, err := db.q.PersonalTokenInsert(ctx, dbsqlc.PersonalTokenInsertParams{
		ID: d.ID, LookupID: d.LookupID, SecretMAC: d.SecretMAC, MACVersion: d.MACVersion, UserID: d.UserID,
		Name: d.Name, Scopes: d.Scopes, ExpiresAt: d.ExpiresAt, CreatedAt: d.CreatedAt,
		RateLimit: rl.Requests, RateLimitWindowSeconds: rl.WindowSeconds, RateLimitBurst: rl.Burst,
	})
	if err != nil {
		return issue.PersonalToken{}, unknownName(err, map[string]string{"personal_tokens_user_id_fkey": fmt.Sprintf("user %q", d.UserID)})
	}
	return tokenFromRow(r, nil)
}

// PersonalTokenByID implements issue.PersonalTokenStore.
func (db *DB) PersonalTokenByID(ctx context.Context, id string) (issue.PersonalToken, error) {
	return tokenFromRow(db.q.PersonalTokenGetByID(ctx, id))
}

// PersonalTokenByIDForUpdate implements issue.PersonalTokenStore.
func (db *DB) PersonalTokenByIDForUpdate(ctx context.Context, id string) (issue.PersonalToken, error) {
	return tokenFromRow(db.q.PersonalTokenGetByIDForUpdate(ctx, id))
}

// PersonalTokenListByUser implements issue.PersonalTokenStore: every state,
// newest first. An unknown user has none.
func (db *DB) PersonalTokenListByUser(ctx context.Context, userID string) ([]issue.PersonalToken, error) {
	return tokensFromRows(db.q.PersonalTokenListByUser(ctx, userID))
}

// PersonalTokenRevoke implements issue.PersonalTokenStore. It keeps the first
// revocation time.
func (db *DB) PersonalTokenRevoke(ctx context.Context, id string, at time.Time) (issue.PersonalToken, error) {
	return tokenFromRow(db.q.PersonalTokenRevoke(ctx, dbsqlc.PersonalTokenRevokeParams{ID: id, Now: at}))
}

// PersonalTokenRevokeExpiredNamed implements issue.PersonalTokenStore.
func (db *DB) PersonalTokenRevokeExpiredNamed(ctx context.Context, userID, name string, now time.Time) ([]issue.PersonalToken, error) {
	return tokensFromRows(db.q.PersonalTokenRevokeExpiredNamed(ctx, dbsqlc.PersonalTokenRevokeExpiredNamedParams{
		UserID: userID, Name: name, Now: now,
	}))
}

// PersonalTokenListCarrying implements issue.PersonalTokenStore.
func (db *DB) PersonalTokenListCarrying(ctx context.Context, scopes []string) ([]issue.PersonalToken, error) {
	return tokensFromRows(db.q.PersonalTokenListCarrying(ctx, scopes))
}

// PersonalTokenRevokeAllForUser implements issue.PersonalTokenStore.
func (db *DB) PersonalTokenRevokeAllForUser(ctx context.Context, userID string, now time.Time) ([]issue.PersonalToken, error) {
	return tokensFromRows(db.q.PersonalTokenRevokeAllForUser(ctx, dbsqlc.PersonalTokenRevokeAllForUserParams{
		UserID: userID, Now: now,
	}))
}

// tokenFromRow converts a generated row at the seam, so no sqlc type leaves db.
// PersonalTokenSetRateLimit implements issue.Store.
func (db *DB) PersonalTokenSetRateLimit(ctx context.Context, id string, l *issue.RateLimit) (issue.PersonalToken, error) {
	rl := rateColumns(l)
	return tokenFromRow(db.q.PersonalTokenSetRateLimit(ctx, dbsqlc.PersonalTokenSetRateLimitParams{ID: id,
		RateLimit: rl.Requests, RateLimitWindowSeconds: rl.WindowSeconds, RateLimitBurst: rl.Burst}))
}

func tokenFromRow(r dbsqlc.PersonalTokenRow, err error) (issue.PersonalToken, error) {
	if err != nil {
		return issue.PersonalToken{}, interpretError(err)
	}
	return issue.PersonalToken{
		ID: r.ID, Prefix: verify.PrefixPersonalToken + r.LookupID, UserID: r.UserID, Name: r.Name,
		Scopes: nonNil(r.Scopes), ExpiresAt: r.ExpiresAt, LastUsedAt: r.LastUsedAt, CreatedAt: r.CreatedAt,
		RevokedAt: r.RevokedAt, RateLimit: rateLimitOf(r.RateLimit, r.RateLimitWindowSeconds, r.RateLimitBurst),
	}, nil
}

func tokensFromRows(rows []dbsqlc.PersonalTokenRow, err error) ([]issue.PersonalToken, error) {
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]issue.PersonalToken, len(rows))
	for i, r := range rows {
		out[i], _ = tokenFromRow(r, nil)
	}
	return out, nil
}

// intersect returns the elements of want that are in have, in want's order,
// leaving out authgate's own permissions.
func intersect(want, have []string) []string {
	in := make(map[string]bool, len(have))
	for _, s := range have {
		in[s] = true
	}
	out := make([]string, 0, len(want))
	for _, s := range want {
		if in[s] && !issue.OwnPermission(s) {
			out = append(out, s)
		}
	}
	return out
}
