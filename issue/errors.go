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
)

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

// ThrottleError refuses an attempt until RetryAfter has passed.
type ThrottleError struct {
	RetryAfter time.Duration
	Msg        string
}

func (e *ThrottleError) Error() string        { return e.Msg }
func (e *ThrottleError) Is(target error) bool { return target == ErrThrottled }

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
	case errors.Is(err, verify.ErrNotFound):
		return http.StatusNotFound, "not_found"
	case errors.Is(err, ErrConflict):
		return http.StatusConflict, "conflict"
	}
	return http.StatusInternalServerError, "server_error"
}
