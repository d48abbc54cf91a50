package db

import (
	"context"
	"time"

	"github.com/authgate/authgate/db/internal/dbsqlc"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

var _ issue.UserStore = (*DB)(nil)

// UserInsert implements issue.UserStore. It stores u's identity, password hash
// and disabled_at; the login-throttling counters start at zero.
func (db *DB) UserInsert(ctx context.Context, u issue.User) (issue.User, error) {
	return userFromRow(db.q.UserInsert(ctx, dbsqlc.UserInsertParams{
		ID: u.ID, Username: u.Username, Email: u.Email, FullName: u.FullName, PasswordHash: u.PasswordHash,
		DisabledAt: u.DisabledAt, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}))
}

// UserByID implements issue.UserStore.
func (db *DB) UserByID(ctx context.Context, id string) (issue.User, error) {
	return userFromRow(db.q.UserGetByID(ctx, id))
}

// UserByIDForUpdate implements issue.UserStore.
func (db *DB) UserByIDForUpdate(ctx context.Context, id string) (issue.User, error) {
	return userFromRow(db.q.UserGetByIDForUpdate(ctx, id))
}

// UserByLogin implements issue.UserStore. Should one user's username equal
// another's email, the username wins.
func (db *DB) UserByLogin(ctx context.Context, usernameOrEmail string) (issue.User, error) {
	return userFromRow(db.q.UserGetByLogin(ctx, usernameOrEmail))
}

// UserByEmail implements issue.UserStore: the email only, never the username.
func (db *DB) UserByEmail(ctx context.Context, email string) (issue.User, error) {
	return userFromRow(db.q.UserGetByEmail(ctx, email))
}

// UserList implements issue.UserStore.
func (db *DB) UserList(ctx context.Context, f issue.UserFilter) ([]issue.User, error) {
	p := dbsqlc.UserListParams{MaxRows: int32(f.Limit)}
	if f.After != nil {
		p.AfterCreated, p.AfterID = &f.After.CreatedAt, &f.After.ID
	}
	rows, err := db.q.UserList(ctx, p)
	if err != nil {
		return nil, interpretError(err)
	}
	users := make([]issue.User, len(rows))
	for i, r := range rows {
		users[i], _ = userFromRow(r, nil)
	}
	return users, nil
}

// UserUpdate implements issue.UserStore. It sets the non-nil fields of p, and
// updated_at to at.
func (db *DB) UserUpdate(ctx context.Context, id string, p issue.UserPatch, at time.Time) (issue.User, error) {
	return userFromRow(db.q.UserUpdate(ctx, dbsqlc.UserUpdateParams{
		ID: id, Username: p.Username, Email: p.Email, FullName: p.FullName, PasswordHash: p.PasswordHash, UpdatedAt: at,
	}))
}

// UserSetDisabled implements issue.UserStore. It leaves updated_at alone.
func (db *DB) UserSetDisabled(ctx context.Context, id string, at *time.Time) (issue.User, error) {
	return userFromRow(db.q.UserSetDisabled(ctx, dbsqlc.UserSetDisabledParams{ID: id, DisabledAt: at}))
}

// UserSetLoginState implements issue.UserStore. Returns verify.ErrNotFound if
// no user has this id.
func (db *DB) UserSetLoginState(ctx context.Context, id string, st issue.LoginState) error {
	return oneRow(db.q.UserSetLoginState(ctx, dbsqlc.UserSetLoginStateParams{
		ID: id, FailedLogins: int32(st.FailedLogins), FailedSince: st.FailedSince, LockedUntil: st.LockedUntil,
	}))
}

// UserDelete implements issue.UserStore. The user's sessions, refresh tokens
// and role assignments go with it; its audit rows stay. Returns
// verify.ErrNotFound if no user has this id.
func (db *DB) UserDelete(ctx context.Context, id string) error {
	return oneRow(db.q.UserDelete(ctx, id))
}

// UserCount implements issue.UserStore.
func (db *DB) UserCount(ctx context.Context) (int64, error) {
	n, err := db.q.UserCount(ctx)
	return n, interpretError(err)
}

// userFromRow converts a generated row at the seam, so no sqlc type leaves db.
// Roles is left for the service to fill.
func userFromRow(r dbsqlc.UserRow, err error) (issue.User, error) {
	if err != nil {
		return issue.User{}, interpretError(err)
	}
	return issue.User{
		ID: r.ID, Username: r.Username, Email: r.Email, FullName: r.FullName, PasswordHash: r.PasswordHash,
		DisabledAt: r.DisabledAt, FailedLogins: int(r.FailedLogins), FailedSince: r.FailedSince,
		LockedUntil: r.LockedUntil, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}, nil
}

// oneRow turns the row count of a statement aimed at one row into
// verify.ErrNotFound when it found none.
func oneRow(n int64, err error) error {
	if err != nil {
		return interpretError(err)
	}
	if n == 0 {
		return verify.ErrNotFound
	}
	return nil
}
