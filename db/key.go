package db

import (
	"context"
	"time"

	"github.com/authgate/authgate/db/internal/dbsqlc"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// KeyByLookupID implements verify.KeyStore.
func (db *DB) KeyByLookupID(ctx context.Context, lookupID string) (verify.KeyRecord, error) {
	r, err := db.q.KeyGetByLookupID(ctx, lookupID)
	if err != nil {
		return verify.KeyRecord{}, interpretError(err)
	}
	return verify.KeyRecord{
		ID: r.ID, LookupID: r.LookupID, Subject: r.Subject, Name: r.Name, Scopes: r.Scopes,
		SecretMAC: r.SecretMAC, MACVersion: r.MACVersion,
		ExpiresAt: orZero(r.ExpiresAt), DisabledAt: orZero(r.DisabledAt), RevokedAt: orZero(r.RevokedAt),
		RateLimit: rateRuleOf(rateLimitOf(r.RateLimit, r.RateLimitWindowSeconds, r.RateLimitBurst)),
	}, nil
}

// KeysTouch implements verify.KeyStore. It never moves last_used_at backwards.
func (db *DB) KeysTouch(ctx context.Context, ids []string, at time.Time) error {
	return interpretError(db.q.KeysTouch(ctx, dbsqlc.KeysTouchParams{Ids: ids, At: &at}))
}

// KeyInsert implements issue.Store.
func (db *DB) KeyInsert(ctx context.Context, d issue.KeyDraft) (issue.Key, error) {
	rl := rateColumns(d.RateLimit)
	return keyFromRow(db.q.KeyInsert(ctx, dbsqlc.KeyInsertParams{
		ID: d.ID, LookupID: d.LookupID, SecretMAC: d.SecretMAC, MACVersion: d.MACVersion,
		Subject: d.Subject, Name: d.Name, Scopes: d.Scopes, Metadata: d.Metadata,
		ExpiresAt: d.ExpiresAt, RotatedFrom: d.RotatedFrom, CreatedAt: d.CreatedAt, CreatedBy: d.CreatedBy,
		RateLimit: rl.Requests, RateLimitWindowSeconds: rl.WindowSeconds, RateLimitBurst: rl.Burst,
	}))
}

// KeyByID implements issue.Store.
func (db *DB) KeyByID(ctx context.Context, id string) (issue.Key, error) {
	return keyFromRow(db.q.KeyGetByID(ctx, id))
}

// KeyByIDForUpdate implements issue.Store.
func (db *DB) KeyByIDForUpdate(ctx context.Context, id string) (issue.Key, error) {
	return keyFromRow(db.q.KeyGetByIDForUpdate(ctx, id))
}

// KeyList implements issue.Store.
func (db *DB) KeyList(ctx context.Context, f issue.KeyFilter) ([]issue.Key, error) {
	p := dbsqlc.KeyListParams{Now: f.Now, MaxRows: int32(f.Limit)}
	if f.State != "" {
		s := string(f.State)
		p.State = &s
	}
	if f.After != nil {
		p.AfterCreated, p.AfterID = &f.After.CreatedAt, &f.After.ID
	}
	rows, err := db.q.KeyList(ctx, p)
	if err != nil {
		return nil, interpretError(err)
	}
	keys := make([]issue.Key, len(rows))
	for i, r := range rows {
		keys[i], _ = keyFromRow(r, nil)
	}
	return keys, nil
}

// KeyRevoke implements issue.Store.
func (db *DB) KeyRevoke(ctx context.Context, id string, at time.Time) (issue.Key, error) {
	return keyFromRow(db.q.KeyRevoke(ctx, dbsqlc.KeyRevokeParams{ID: id, Now: at}))
}

// KeySetDisabled implements issue.Store.
func (db *DB) KeySetDisabled(ctx context.Context, id string, at *time.Time) (issue.Key, error) {
	return keyFromRow(db.q.KeySetDisabled(ctx, dbsqlc.KeySetDisabledParams{ID: id, DisabledAt: at}))
}

// KeySetExpiry implements issue.Store.
func (db *DB) KeySetExpiry(ctx context.Context, id string, at time.Time) (issue.Key, error) {
	return keyFromRow(db.q.KeySetExpiry(ctx, dbsqlc.KeySetExpiryParams{ID: id, ExpiresAt: &at}))
}

// KeySetRateLimit implements issue.Store.
func (db *DB) KeySetRateLimit(ctx context.Context, id string, l *issue.RateLimit) (issue.Key, error) {
	rl := rateColumns(l)
	return keyFromRow(db.q.KeySetRateLimit(ctx, dbsqlc.KeySetRateLimitParams{ID: id, RateLimit: rl.Requests,
		RateLimitWindowSeconds: rl.WindowSeconds, RateLimitBurst: rl.Burst}))
}

// rateCols are a rate limit's three nullable columns.
type rateCols struct{ Requests, WindowSeconds, Burst *int32 }

// rateColumns is l as columns: all null for nil.
func rateColumns(l *issue.RateLimit) rateCols {
	if l == nil {
		return rateCols{}
	}
	r, w, b := int32(l.Requests), int32(l.WindowSeconds), int32(l.Burst)
	return rateCols{&r, &w, &b}
}

// rateLimitOf is the columns as a rate limit: nil unless all three are set
// (the table's check keeps them together).
func rateLimitOf(requests, window, burst *int32) *issue.RateLimit {
	if requests == nil || window == nil || burst == nil {
		return nil
	}
	return &issue.RateLimit{Requests: int(*requests), WindowSeconds: int(*window), Burst: int(*burst)}
}

// rateRuleOf is l as the verifier applies it; the zero rule for none.
func rateRuleOf(l *issue.RateLimit) verify.RateRule {
	if l == nil {
		return verify.RateRule{}
	}
	return verify.RateRule{Requests: l.Requests, Window: time.Duration(l.WindowSeconds) * time.Second, Burst: l.Burst}
}

// KeyCount implements issue.Store.
func (db *DB) KeyCount(ctx context.Context) (int64, error) {
	n, err := db.q.KeyCount(ctx)
	return n, interpretError(err)
}

// keyFromRow converts a generated row at the seam, so no sqlc type leaves db.
func keyFromRow(r dbsqlc.KeyRow, err error) (issue.Key, error) {
	if err != nil {
		return issue.Key{}, interpretError(err)
	}
	return issue.Key{
		ID: r.ID, Prefix: verify.PrefixAPIKey + r.LookupID, Subject: r.Subject, Name: r.Name,
		Scopes: r.Scopes, Metadata: r.Metadata, ExpiresAt: r.ExpiresAt, DisabledAt: r.DisabledAt,
		RevokedAt: r.RevokedAt, RotatedFrom: r.RotatedFrom, LastUsedAt: r.LastUsedAt,
		CreatedAt: r.CreatedAt, CreatedBy: r.CreatedBy,
		RateLimit: rateLimitOf(r.RateLimit, r.RateLimitWindowSeconds, r.RateLimitBurst),
	}, nil
}

func orZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
