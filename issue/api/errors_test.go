package api

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		code   string
		msg    string
	}{
		{"Field", fmt.Errorf("create key: %w", &issue.FieldError{Field: "name", Msg: "is required"}), 400, "invalid_request", "name: is required"},
		{"BareInvalid", issue.ErrInvalid, 400, "invalid_request", "Bad Request"},
		{"Unauthenticated", issue.ErrUnauthenticated, 401, "unauthenticated", wantCredential},
		{"UnauthenticatedForUsers", unauthenticated(user, nil), 401, "unauthenticated", wantUser},
		{"Permission", &issue.PermissionError{Permission: "keys:write"}, 403, "forbidden", "this route needs permission keys:write"},
		{"NotForManagement", issue.ErrNotForManagement, 403, "forbidden", issue.ErrNotForManagement.Error()},
		{"Throttled", &issue.ThrottleError{Msg: "wait"}, 429, "too_many_requests", "wait"},
		{"Busy", &issue.ThrottleError{Msg: "busy now", Busy: true}, 503, "busy", "busy now"},
		{"NotFound", fmt.Errorf("get key key_x: %w", verify.ErrNotFound), 404, "not_found", "no such resource"},
		{"NotFoundNamed", fmt.Errorf("grant: %w", &issue.NotFoundError{Kind: "role", Name: "ops"}), 404, "not_found", `no role "ops"`},
		{"State", &issue.StateError{Msg: "key key_x is revoked"}, 409, "conflict", "key key_x is revoked"},
		{"Conflict", fmt.Errorf("%w: users_email_key", issue.ErrConflict), 409, "conflict", "Conflict"},
		{"EchoNotFound", echo.ErrNotFound, 404, "not_found", "Not Found"},
		{"EchoMethod", echo.ErrMethodNotAllowed, 405, "method_not_allowed", "Method Not Allowed"},
		{"EchoTooLarge", echo.ErrStatusRequestEntityTooLarge, 413, "request_entity_too_large", "Request Entity Too Large"},
		{"Unknown", errors.New("pool closed: secret detail"), 500, "server_error", http.StatusText(500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, code, msg := Status(tt.err)
			if status != tt.status || code != tt.code || msg != tt.msg {
				t.Fatalf("got %d %s %q; want %d %s %q", status, code, msg, tt.status, tt.code, tt.msg)
			}
		})
	}
}
