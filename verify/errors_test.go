package verify

import (
	"errors"
	"fmt"
	"testing"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		name       string
		err        error
		wantStatus int
		wantCode   string
	}{
		{"NoCredential", ErrNoCredential, 401, CodeMissingCredential},
		{"Malformed", ErrMalformed, 401, CodeInvalidToken},
		{"UnknownKey", ErrUnknownKey, 401, CodeInvalidToken},
		{"WrongSecret", ErrWrongSecret, 401, CodeInvalidToken},
		{"Expired", ErrExpired, 401, CodeInvalidToken},
		{"Disabled", ErrDisabled, 401, CodeInvalidToken},
		{"Revoked", ErrRevoked, 401, CodeInvalidToken},
		{"UnknownSigningKey", ErrUnknownSigningKey, 401, CodeInvalidToken},
		{"BadSignature", ErrBadSignature, 401, CodeInvalidToken},
		{"InvalidClaims", ErrInvalidClaims, 401, CodeInvalidToken},
		{"Forbidden", &scopeError{principal: &Principal{}, scope: "a"}, 403, CodeInsufficientScope},
		{"BadPath", badPath("/..", "climbs above the root"), 403, CodeInvalidPath},
		{"Misconfigured", &ConfigError{Msg: "x"}, 500, CodeProxyMisconfigured},
		{"Wrapped", fmt.Errorf("op: %w", ErrExpired), 401, CodeInvalidToken},
		{"Unexpected", errors.New("connection refused"), 500, CodeServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, code := Status(tt.err); status != tt.wantStatus || code != tt.wantCode {
				t.Fatalf("Status(%v) = %d, %s; want %d, %s", tt.err, status, code, tt.wantStatus, tt.wantCode)
			}
		})
	}
}
