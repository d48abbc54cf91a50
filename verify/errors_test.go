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

// Status and ReasonOf answer a plainly wrapped sentinel from the sentinels
// table, and anything else from their errors.Is switches: the table must say
// what the switches say, for every sentinel and every way a deny wraps one.
func TestSentinelFacts(t *testing.T) {
	all := []error{ErrNoCredential, ErrMalformed, ErrUnknownKey, ErrWrongSecret, ErrExpired, ErrDisabled,
		ErrRevoked, ErrForbidden, ErrUnknownSigningKey, ErrBadSignature, ErrInvalidClaims, ErrBadPath,
		ErrMisconfigured, ErrRateLimited}
	if len(all) != len(sentinels) {
		t.Fatalf("the table holds %d sentinels, the test knows %d: keep both whole", len(sentinels), len(all))
	}
	for _, f := range sentinels {
		if status, code := statusOf(f.sentinel); status != f.status || code != f.code {
			t.Errorf("table: %v is %d %s; statusOf says %d %s", f.sentinel, f.status, f.code, status, code)
		}
		if r := reasonOf(f.sentinel); r != f.reason {
			t.Errorf("table: %v is %s; reasonOf says %s", f.sentinel, f.reason, r)
		}
	}
	fast := func(s error) []error { // judged by one walk
		return []error{s, fmt.Errorf("api key: %w", s), fmt.Errorf("b: %w", fmt.Errorf("a: %w", s))}
	}
	slow := []error{ // judged by the switches
		nil, errors.New("boom"), ErrNotFound, &ConfigError{Msg: "no X-Forwarded-Uri"},
		fmt.Errorf("wrapped: %w", &ConfigError{Msg: "m"}), errors.Join(ErrForbidden, ErrRevoked),
		fmt.Errorf("%w and %w", ErrRateLimited, ErrMalformed), errors.Join(errors.New("a"), ErrExpired),
	}
	for _, s := range all {
		for _, err := range fast(s) {
			if _, ok := factsOf(err); !ok {
				t.Errorf("factsOf(%v) is not judged; want the table's answer", err)
			}
			checkFacts(t, err)
		}
	}
	for _, err := range slow {
		if _, ok := factsOf(err); ok {
			t.Errorf("factsOf(%v) judged it; want it left to the switches", err)
		}
		checkFacts(t, err)
	}
	for _, err := range []error{&scopeError{scope: "x"}, &rateError{}, errSessionEnded, errSessionRevoked, errSessionInHeader} {
		if _, ok := factsOf(err); !ok {
			t.Errorf("factsOf(%v) is not judged; want the table's answer", err)
		}
		checkFacts(t, err)
	}
	checkFacts(t, errDenyListStale) // no sentinel: internal
}

// checkFacts fails t when Status or ReasonOf say of err other than their switches.
func checkFacts(t *testing.T, err error) {
	t.Helper()
	s1, c1 := Status(err)
	s2, c2 := statusOf(err)
	if s1 != s2 || c1 != c2 {
		t.Errorf("Status(%v) = %d %s; statusOf says %d %s", err, s1, c1, s2, c2)
	}
	if r1, r2 := ReasonOf(err), reasonOf(err); r1 != r2 {
		t.Errorf("ReasonOf(%v) = %s; reasonOf says %s", err, r1, r2)
	}
}
