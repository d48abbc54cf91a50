// Package db is authgate's Postgres store: the pgx pool, the migrations, and
// the implementations of the store interfaces the other packages declare
// (verify.KeyStore and verify.TokenStore for the hot path, issue.Store for the
// issuer). The code sqlc generates from queries/ lives in db/internal/dbsqlc and
// never leaves this package: rows become domain types at the seam (keyFromRow,
// tokenFromRow, …), and driver errors are mapped in one function
// (interpretError): no row is verify.ErrNotFound, a broken uniqueness rule
// issue.ErrConflict, a value Postgres cannot store a 400-worthy issue.ErrInvalid.
//
// Changes reach every instance through LISTEN/NOTIFY: triggers in the
// migrations announce them on the channels ChannelKeys, ChannelSessions and
// ChannelSigningKeys at commit, and Listen hands them to a Forgetter (the
// verifier's cache), a RevocationFeed (the verifier's deny-list of ended
// sessions, also reread every poll so a lost announcement is bounded) and a
// SigningKeyReloader. Each channel's documentation names its triggers.
//
// Migrations (db/migrations, applied by Migrate) only add: a rule that older
// rows break is added NOT VALID and the rows are reported, never rewritten.
// db/dbtest gives tests a migrated database of their own.
package db
