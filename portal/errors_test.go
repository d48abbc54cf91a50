package portal

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

func TestFormError(t *testing.T) {
	for _, tt := range []struct {
		name       string
		err        error
		wantStatus int
		wantMsg    string
		wantOK     bool
	}{
		{"Lockout", fmt.Errorf("login: %w", &issue.ThrottleError{RetryAfter: 4*time.Minute + time.Second,
			Msg: "too many failed logins for this account; try again later"}),
			429, "Too many failed logins for this account. Try again in 5 minutes.", true},
		{"ThrottleSeconds", &issue.ThrottleError{RetryAfter: 1500 * time.Millisecond, Msg: "too many login attempts from this address; try again later"},
			429, "Too many login attempts from this address. Try again in 2 seconds.", true},
		{"ThrottleOneMinute", &issue.ThrottleError{RetryAfter: time.Minute, Msg: "slow down"},
			429, "Slow down. Try again in 1 minute.", true},
		{"Busy", &issue.ThrottleError{RetryAfter: time.Second, Msg: "the server is busy", Busy: true},
			503, "The server is busy. Try again in 1 second.", true},
		{"BadLogin", &issue.AuthError{Err: issue.ErrUnauthenticated, Msg: "invalid username or password"},
			401, "Invalid username or password.", true},
		{"Field", fmt.Errorf("create token: %w", &issue.FieldError{Field: "name", Msg: "is required"}),
			400, "Name: is required.", true},
		{"Permission", &issue.PermissionError{Permission: "users:write", Why: "to act on user usr_x, who holds it"},
			403, "This needs permission users:write to act on user usr_x, who holds it.", true},
		{"Conflict", &issue.StateError{Msg: `you already have a token named "ci"; revoke it or choose another name`},
			409, `You already have a token named "ci"; revoke it or choose another name.`, true},
		{"NotFound", fmt.Errorf("revoke token tok_x: %w", verify.ErrNotFound), 404, "Not Found.", true},
		{"Unexpected", errors.New("connection refused"), 500, "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			status, msg, ok := formError(tt.err)
			if status != tt.wantStatus || msg != tt.wantMsg || ok != tt.wantOK {
				t.Fatalf("got %d %q %v; want %d %q %v", status, msg, ok, tt.wantStatus, tt.wantMsg, tt.wantOK)
			}
		})
	}
}

func TestSpan(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{24 * time.Hour, "24 hours"}, {720 * time.Hour, "30 days"}, {time.Hour, "1 hour"}, {90 * time.Minute, "2 hours"},
	} {
		if got := span(tt.d); got != tt.want {
			t.Errorf("span(%v) = %q; want %q", tt.d, got, tt.want)
		}
	}
}
