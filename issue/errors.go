package issue

import (
	"errors"
	"fmt"
	"time"

	"github.com/authgate/authgate/verify"
)

// The issuer's sentinels. Each listener maps them to its own statuses (the
// management API's table is in issue/api); verify.ErrNotFound is the one for
// a missing resource.
var (
	// ErrInvalid means the request is wrong; wrapped in a *FieldError that says where.
	ErrInvalid = errors.New("invalid input")
	// ErrConflict means the request is well formed but the resource's state refuses it
	// (rotating a revoked key) or a uniqueness rule would break.
	ErrConflict = errors.New("conflict")
	// ErrUnauthenticated means no acceptable credential was presented.
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrPermission means the credential lacks the permission the route needs.
	ErrPermission = errors.New("permission denied")
	// ErrThrottled means too many attempts; wrapped in a *ThrottleError that says
	// how long to wait.
	ErrThrottled = errors.New("too many attempts")
	// ErrBusy means the server is at its bound of concurrent password hashes;
	// wrapped in a *ThrottleError that says how long to wait (503).
	ErrBusy = errors.New("busy")
)

// ClientError is an error whose ClientMessage is safe to show to whoever
// asked: it names the client's own input or a rule, never a secret or an
// internal detail. Every error type below is one.
type ClientError interface {
	error
	ClientMessage() string
}

// ErrNotForManagement refuses personal tokens and static keys on the
// management API (ErrPermission, 403): they are made to sit in URLs and
// configuration files, so they never carry authority over authgate itself.
var ErrNotForManagement error = &AuthError{Err: ErrPermission,
	Msg: "personal tokens and static keys cannot use the management API: send an API key, or a user's access token from /v1/auth/login"}

// PermissionError is a refusal by the authority rule or a route's permission,
// naming the permission that is missing (ErrPermission, 403).
type PermissionError struct {
	Permission string
	Why        string // optional: "to act on user usr_x, who holds it"
}

func (e *PermissionError) Error() string {
	if e.Why != "" {
		return "this needs permission " + e.Permission + " " + e.Why
	}
	return "this route needs permission " + e.Permission
}
func (e *PermissionError) Is(target error) bool  { return target == ErrPermission }
func (e *PermissionError) ClientMessage() string { return e.Error() }

// FieldError is an invalid field, in words safe to return to the client.
type FieldError struct {
	Field string // JSON field or query parameter; "" for the body as a whole
	Msg   string
}

func (e *FieldError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}
func (e *FieldError) Is(target error) bool  { return target == ErrInvalid }
func (e *FieldError) ClientMessage() string { return e.Error() }

func invalid(field, msg string) error { return &FieldError{Field: field, Msg: msg} }

// StateError is a refusal because of a resource's state, safe to show (ErrConflict).
type StateError struct{ Msg string }

func (e *StateError) Error() string         { return e.Msg }
func (e *StateError) Is(target error) bool  { return target == ErrConflict }
func (e *StateError) ClientMessage() string { return e.Msg }

// NotFoundError is a verify.ErrNotFound naming what is missing in the words
// the client used: `no role "ops"`, `no user "usr_x"`.
type NotFoundError struct {
	Kind string // role, permission, user, key
	Name string // as the client sent it
}

func (e *NotFoundError) Error() string         { return fmt.Sprintf("no %s %q", e.Kind, e.Name) }
func (e *NotFoundError) Is(target error) bool  { return target == verify.ErrNotFound }
func (e *NotFoundError) ClientMessage() string { return e.Error() }

// missing turns a verify.ErrNotFound from looking up kind name into a
// *NotFoundError naming it; any other error is returned as it is.
func missing(err error, kind, name string) error {
	if errors.Is(err, verify.ErrNotFound) {
		return &NotFoundError{Kind: kind, Name: name}
	}
	return err
}

// AuthError is a refusal to authenticate (Err is ErrUnauthenticated) or to
// authorise (ErrPermission), in words safe to show.
type AuthError struct {
	Err error
	Msg string
}

func (e *AuthError) Error() string         { return e.Msg }
func (e *AuthError) Unwrap() error         { return e.Err }
func (e *AuthError) ClientMessage() string { return e.Msg }

// ThrottleError refuses an attempt until RetryAfter has passed. It is
// ErrThrottled (429), or ErrBusy (503) when Busy is set.
type ThrottleError struct {
	RetryAfter time.Duration
	Msg        string
	Busy       bool
}

func (e *ThrottleError) Error() string { return e.Msg }
func (e *ThrottleError) Is(target error) bool {
	if e.Busy {
		return target == ErrBusy
	}
	return target == ErrThrottled
}
func (e *ThrottleError) ClientMessage() string { return e.Msg }
