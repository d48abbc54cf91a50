package issue

import "time"

// User is a person who logs in. PasswordHash never leaves the package in JSON.
type User struct {
	ID           string     `json:"id"` // usr_…
	Username     string     `json:"username"`
	Email        string     `json:"email"`
	FullName     string     `json:"full_name"`
	PasswordHash string     `json:"-"` // argon2id, PHC string format
	DisabledAt   *time.Time `json:"disabled_at"`
	FailedLogins int        `json:"-"`
	FailedSince  *time.Time `json:"-"`
	LockedUntil  *time.Time `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	Roles        []string   `json:"roles"` // filled by the service where shown, not stored here
}

// UserFilter selects a page of users, newest first.
type UserFilter struct {
	After *Cursor // continue after this user; nil for the first page
	Limit int
}

// UserPatch changes some fields of a user; nil fields stay as they are.
type UserPatch struct {
	Username     *string
	Email        *string
	FullName     *string
	PasswordHash *string
}

// LoginState is a user's login-throttling counters.
type LoginState struct {
	FailedLogins int
	FailedSince  *time.Time
	LockedUntil  *time.Time
}
