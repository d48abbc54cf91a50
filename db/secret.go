package db

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate/db/internal/dbsqlc"
	"github.com/authgate/authgate/issue"
)

// ServerSecret is the record of the AUTHGATE_SECRET a database is kept under:
// fingerprints (derived from secrets, never the secrets), and the MAC key
// version that the current secret hashes new credentials with.
type ServerSecret struct {
	Fingerprint         string
	MACVersion          int16
	PreviousFingerprint string // the secret the last rotation replaced; "" before any
	UpdatedAt           time.Time
}

// SecretInit records fingerprint as the database's secret, at MAC version 1,
// unless a secret is recorded already; either way it returns the record. Of
// several instances starting together on a new database, the first wins.
func (db *DB) SecretInit(ctx context.Context, fingerprint string, now time.Time) (ServerSecret, error) {
	if err := db.q.SecretInit(ctx, dbsqlc.SecretInitParams{Fingerprint: fingerprint, UpdatedAt: now}); err != nil {
		return ServerSecret{}, fmt.Errorf("record the server secret: %w", interpretError(err))
	}
	row, err := db.q.SecretGet(ctx)
	if err != nil {
		return ServerSecret{}, fmt.Errorf("read the server secret: %w", interpretError(err))
	}
	return secretFromRow(row), nil
}

// SecretGet returns the database's record of its secret. Returns
// verify.ErrNotFound if there is none yet.
func (db *DB) SecretGet(ctx context.Context) (ServerSecret, error) {
	row, err := db.q.SecretGet(ctx)
	if err != nil {
		return ServerSecret{}, fmt.Errorf("read the server secret: %w", interpretError(err))
	}
	return secretFromRow(row), nil
}

// SecretRotate replaces the record from with to, in one transaction that
// holds the signing-key lock: every sealed signing key (retired or not) is
// passed to reseal, and stored again sealed as reseal returns it (nil: left
// as it is). Returns issue.ErrConflict, changing nothing, if the record is no
// longer from (another instance rotated first), and reseal's error, changing
// nothing, if it fails.
func (db *DB) SecretRotate(ctx context.Context, from, to ServerSecret,
	reseal func(kid string, sealed []byte) ([]byte, error)) error {
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		q := db.q.WithTx(tx)
		if err := q.SigningKeyLock(ctx); err != nil {
			return err
		}
		row, err := q.SecretGetForUpdate(ctx)
		if err != nil {
			return err
		}
		if cur := secretFromRow(row); cur.Fingerprint != from.Fingerprint || cur.MACVersion != from.MACVersion ||
			cur.PreviousFingerprint != from.PreviousFingerprint {
			return fmt.Errorf("%w: the server secret changed meanwhile", issue.ErrConflict)
		}
		keys, err := q.SecretSigningKeys(ctx)
		if err != nil {
			return err
		}
		for _, k := range keys {
			sealed, err := reseal(k.KID, k.PrivateKey)
			if err != nil {
				return err
			}
			if sealed == nil {
				continue
			}
			if err := q.SecretSigningKeyReseal(ctx, dbsqlc.SecretSigningKeyResealParams{KID: k.KID, PrivateKey: sealed}); err != nil {
				return err
			}
		}
		var prev *string
		if to.PreviousFingerprint != "" {
			prev = &to.PreviousFingerprint
		}
		return q.SecretRotate(ctx, dbsqlc.SecretRotateParams{Fingerprint: to.Fingerprint, MACVersion: to.MACVersion,
			PreviousFingerprint: prev, UpdatedAt: to.UpdatedAt})
	})
	if err != nil {
		return fmt.Errorf("rotate the server secret: %w", interpretError(err))
	}
	return nil
}

func secretFromRow(r dbsqlc.ServerSecret) ServerSecret {
	s := ServerSecret{Fingerprint: r.Fingerprint, MACVersion: r.MACVersion, UpdatedAt: r.UpdatedAt.UTC()}
	if r.PreviousFingerprint != nil {
		s.PreviousFingerprint = *r.PreviousFingerprint
	}
	return s
}

// SecretCredentialsBelow counts the live (not revoked, not expired at now) API
// keys and personal tokens hashed under a MAC version below version: those a
// server that holds only version and later refuses.
func (db *DB) SecretCredentialsBelow(ctx context.Context, version int16, now time.Time) (keys, tokens int64, err error) {
	row, err := db.q.SecretCredentialsBelow(ctx, dbsqlc.SecretCredentialsBelowParams{MACVersion: version, Now: now})
	if err != nil {
		return 0, 0, fmt.Errorf("count credentials of older secrets: %w", interpretError(err))
	}
	return row.ApiKeys, row.PersonalTokens, nil
}
