package issue

import (
	"errors"
	"net/http"
	"time"

	"github.com/authgate/authgate/verify"
)

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
func (e *PermissionError) Is(target error) bool { return target == ErrPermission }

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
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, msg string) error { return &FieldError{Field: field, Msg: msg} }

// StateError is a refusal because of a resource's state, safe to show.
type StateError struct{ Msg string }

func (e *StateError) Error() string        { return e.Msg }
func (e *StateError) Is(target error) bool { return target == ErrConflict }

// AuthError is a refusal to authenticate (Err is ErrUnauthenticated) or to
// authorise (ErrPermission), in words safe to show.
type AuthError struct {
	Err error
	Msg string
}

func (e *AuthError) Error() string { return e.Msg }
func (e *AuthError) Unwrap() error { return e.Err }

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

// Status maps an issuer error to its HTTP status and a short code. Anything
// unrecognised is a 500 whose detail stays in the log.
func Status(err error) (status int, code string) {
	switch {
	case errors.Is(err, ErrInvalid):
		return http.StatusBadRequest, "invalid_request"
	case errors.Is(err, ErrUnauthenticated):
		return http.StatusUnauthorized, "unauthenticated"
	case errors.Is(err, ErrPermission):
		return http.StatusForbidden, "forbidden"
	case errors.Is(err, ErrThrottled):
		return http.StatusTooManyRequests, "too_many_requests"
	case errors.Is(err, ErrBusy):
		return http.StatusServiceUnavailable, "busy"
	case errors.Is(err, verify.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, ErrConflict):
		return http.StatusConflict, "conflict"
	}
	return http.StatusInternalServerError, "server_error"
}
