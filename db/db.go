package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/authgate/authgate/db/internal/dbsqlc"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// DB is authgate's Postgres store. It implements verify.KeyStore and issue.Store.
type DB struct {
	pool *pgxpool.Pool
	q    *dbsqlc.Queries
	tx   pgx.Tx // set inside InTx
}

var (
	_ verify.KeyStore = (*DB)(nil)
	_ issue.Store     = (*DB)(nil)
)

// Open connects to the database at url and checks that it answers.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("parse database URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database %s@%s:%d/%s: %w",
			cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	return &DB{pool: pool, q: dbsqlc.New(pool)}, nil
}

// Close closes every connection.
func (db *DB) Close() { db.pool.Close() }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

// InTx runs fn in one transaction. Inside a transaction it just runs fn.
func (db *DB) InTx(ctx context.Context, fn func(issue.Store) error) error {
	if db.tx != nil {
		return fn(db)
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		return fn(&DB{pool: db.pool, q: db.q.WithTx(tx), tx: tx})
	})
}

// interpretError maps driver errors onto the sentinels callers test for. A
// foreign-key violation is taken to mean that a row the statement refers to does
// not exist (authgate never deletes a row that another still refers to without
// a cascade); callers that know which name it was say so with unknownName.
// Values Postgres cannot store (NUL or invalid UTF-8 in text, \u0000 or a lone
// surrogate in jsonb, a number beyond numeric) come from a client that the
// issue package's checks missed: they are an issue.ErrInvalid (400), not a 500.
func interpretError(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return verify.ErrNotFound
	}
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch pgErr.Code {
		case "23505": // unique_violation
			return fmt.Errorf("%w: %s", issue.ErrConflict, pgErr.ConstraintName)
		case "23503": // foreign_key_violation
			return fmt.Errorf("%w: %s", verify.ErrNotFound, pgErr.ConstraintName)
		case "23514": // check_violation
			return fmt.Errorf("%w: %s", issue.ErrInvalid, pgErr.ConstraintName)
		case "22021", // character_not_in_repertoire: NUL or invalid UTF-8 in text
			"22P05", // untranslatable_character: \u0000 in jsonb
			"22P02", // invalid_text_representation: a lone surrogate in jsonb
			"22003": // numeric_value_out_of_range
			return fmt.Errorf("%w (SQLSTATE %s: %s)", &issue.FieldError{Msg: "the request holds a value that cannot be stored: " +
				"a NUL character, invalid UTF-8, a lone surrogate or a number out of range"}, pgErr.Code, pgErr.Message)
		}
	}
	return err
}
