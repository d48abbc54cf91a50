package db

import (
	"context"
	"errors"
	"time"

	"github.com/authgate/authgate/db/internal/dbsqlc"
	"github.com/authgate/authgate/issue"
)

var _ issue.SigningKeyStore = (*DB)(nil)

// SigningKeyLock implements issue.SigningKeyStore with a transaction-scoped
// advisory lock (pg_advisory_xact_lock), so it waits for any other instance
// changing signing keys and holds until this transaction ends. Outside InTx the
// lock would be released as soon as it is taken, so it refuses.
func (db *DB) SigningKeyLock(ctx context.Context) error {
	if db.tx == nil {
		return errors.New("lock signing keys: not inside a transaction (call it inside InTx)")
	}
	return interpretError(db.q.SigningKeyLock(ctx))
}

// SigningKeyInsert implements issue.SigningKeyStore. A nil PublicKey or
// PrivateKey (HS256 has neither) is stored empty. Returns issue.ErrConflict if
// the kid is taken.
func (db *DB) SigningKeyInsert(ctx context.Context, k issue.SigningKey) error {
	return interpretError(db.q.SigningKeyInsert(ctx, dbsqlc.SigningKeyInsertParams{
		KID: k.KID, Alg: k.Alg, PublicKey: orEmpty(k.PublicKey), PrivateKey: orEmpty(k.PrivateKey),
		CreatedAt: k.CreatedAt, RetireAt: k.RetireAt,
	}))
}

// SigningKeyList implements issue.SigningKeyStore.
func (db *DB) SigningKeyList(ctx context.Context, now time.Time) ([]issue.SigningKey, error) {
	rows, err := db.q.SigningKeyList(ctx, now)
	if err != nil {
		return nil, interpretError(err)
	}
	keys := make([]issue.SigningKey, len(rows))
	for i, r := range rows {
		keys[i] = issue.SigningKey{
			KID: r.KID, Alg: r.Alg, PublicKey: r.PublicKey, PrivateKey: r.PrivateKey,
			CreatedAt: r.CreatedAt, RetireAt: r.RetireAt,
		}
	}
	return keys, nil
}

// SigningKeyRetire implements issue.SigningKeyStore. Keys that already have a
// retire_at keep it.
func (db *DB) SigningKeyRetire(ctx context.Context, alg string, at time.Time) error {
	return interpretError(db.q.SigningKeyRetire(ctx, dbsqlc.SigningKeyRetireParams{Alg: alg, RetireAt: at}))
}

// orEmpty returns b, or an empty slice for nil: pgx sends nil as NULL.
func orEmpty(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
