package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/authgate/authgate/db/internal/dbsqlc"
	"github.com/authgate/authgate/issue"
)

var _ issue.IdentityStore = (*DB)(nil)

// IdentityInsert implements issue.IdentityStore. Returns verify.ErrNotFound
// if the user does not exist, issue.ErrConflict naming external_identities_pkey
// if the identity is linked already (to this user or another).
func (db *DB) IdentityInsert(ctx context.Context, l issue.LinkedIdentity) (issue.LinkedIdentity, error) {
	r, err := db.q.IdentityInsert(ctx, dbsqlc.IdentityInsertParams{
		Issuer: l.Issuer, Subject: l.Subject, Provider: l.Provider, UserID: l.UserID, Email: l.Email,
		LinkedAt: l.LinkedAt, LastSignInAt: l.LastSignInAt,
	})
	if err != nil {
		return issue.LinkedIdentity{}, unknownName(err,
			map[string]string{"external_identities_user_id_fkey": fmt.Sprintf("user %q", l.UserID)})
	}
	return identityFromRow(r), nil
}

// IdentityByKey implements issue.IdentityStore. Returns verify.ErrNotFound if
// (issuer, subject) is linked to nobody.
func (db *DB) IdentityByKey(ctx context.Context, issuer, subject string) (issue.LinkedIdentity, error) {
	r, err := db.q.IdentityGet(ctx, dbsqlc.IdentityGetParams{Issuer: issuer, Subject: subject})
	if err != nil {
		return issue.LinkedIdentity{}, interpretError(err)
	}
	return identityFromRow(r), nil
}

// IdentityListByUser implements issue.IdentityStore: oldest link first, never nil.
func (db *DB) IdentityListByUser(ctx context.Context, userID string) ([]issue.LinkedIdentity, error) {
	rows, err := db.q.IdentityListByUser(ctx, userID)
	if err != nil {
		return nil, interpretError(err)
	}
	out := make([]issue.LinkedIdentity, len(rows))
	for i, r := range rows {
		out[i] = identityFromRow(r)
	}
	return out, nil
}

// IdentityTouch implements issue.IdentityStore. Returns verify.ErrNotFound if
// (issuer, subject) is linked to nobody.
func (db *DB) IdentityTouch(ctx context.Context, issuer, subject, email string, at time.Time) error {
	return oneRow(db.q.IdentityTouch(ctx, dbsqlc.IdentityTouchParams{
		Issuer: issuer, Subject: subject, Email: email, LastSignInAt: at,
	}))
}

// IdentityDelete implements issue.IdentityStore. Returns verify.ErrNotFound if
// the user has no link of (issuer, subject), another user's included.
func (db *DB) IdentityDelete(ctx context.Context, userID, issuer, subject string) error {
	return oneRow(db.q.IdentityDelete(ctx, dbsqlc.IdentityDeleteParams{UserID: userID, Issuer: issuer, Subject: subject}))
}

// identityFromRow converts a generated row at the seam, so no sqlc type leaves db.
func identityFromRow(r dbsqlc.IdentityRow) issue.LinkedIdentity {
	return issue.LinkedIdentity{
		Provider: r.Provider, Issuer: r.Issuer, Subject: r.Subject, UserID: r.UserID, Email: r.Email,
		LinkedAt: r.LinkedAt, LastSignInAt: r.LastSignInAt,
	}
}

// IdentityLock implements issue.IdentityStore with a transaction-scoped
// advisory lock on (issuer, subject). Fails outside a transaction.
func (db *DB) IdentityLock(ctx context.Context, issuer, subject string) error {
	if db.tx == nil {
		return errors.New("lock an external identity: not inside a transaction (call it inside InTx)")
	}
	return interpretError(db.q.IdentityLock(ctx, dbsqlc.IdentityLockParams{Issuer: issuer, Subject: subject}))
}
