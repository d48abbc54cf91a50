package verify

import (
	"net/http"
	"slices"
	"testing"
)

// bareAlice is a Principal built as a literal, not through NewPrincipal: its
// scopes and roles unsorted and repeated, a control byte in its email.
var bareAlice = Principal{Kind: KindPersonalToken, Subject: "usr_alice", KeyID: "tok_1", KeyName: "kiosk",
	User: "alice", Email: "alice@example.com\r\nX-Auth-Roles: admin",
	Roles: []string{"viewer", "operator", "viewer"}, Scopes: []string{"events:read", "cameras:stream", "cameras:stream"}}

// A bare literal must not answer 200 without the identity headers: forged
// X-Auth-* values from the client would then survive at the proxy.
func TestPrincipal_WriteHeaders(t *testing.T) {
	want := map[string]string{
		HeaderSubject: "usr_alice", HeaderKind: "token", HeaderKeyID: "tok_1", HeaderKeyName: "kiosk",
		HeaderScopes: "cameras:stream events:read", HeaderUser: "alice",
		HeaderEmail: "alice@example.com  X-Auth-Roles: admin", HeaderRoles: "operator viewer",
	}
	for _, tt := range []struct {
		name string
		p    *Principal
	}{
		{"BareLiteral", &bareAlice},
		{"NewPrincipal", NewPrincipal(bareAlice)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, name := range IdentityHeaders {
				h[name] = []string{"forged"}
			}
			tt.p.WriteHeaders(h)
			for name, value := range want {
				if got := h[name]; len(got) != 1 || got[0] != value {
					t.Errorf("header %s = %q; want [%q]", name, got, value)
				}
			}
			if len(h) != len(IdentityHeaders) {
				t.Errorf("WriteHeaders set %d headers; want the %d identity headers only", len(h), len(IdentityHeaders))
			}
		})
	}
	if !slices.Equal(bareAlice.Scopes, []string{"events:read", "cameras:stream", "cameras:stream"}) {
		t.Errorf("bare principal's scopes = %q; want them untouched", bareAlice.Scopes)
	}
}

func TestPrincipal_WriteHeadersDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		skipOrFail(t, "allocation counts mean nothing under the race detector; scripts/test.sh runs the *DoesNotAllocate tests without -race")
	}
	p, h := NewPrincipal(bareAlice), http.Header{}
	p.WriteHeaders(h)
	if n := testing.AllocsPerRun(100, func() { p.WriteHeaders(h) }); n != 0 {
		t.Fatalf("allocs per WriteHeaders = %v; want 0", n)
	}
}

func TestPrincipal_HasScope(t *testing.T) {
	for _, tt := range []struct {
		name  string
		p     *Principal
		scope string
		want  bool
	}{
		{"Held", NewPrincipal(bareAlice), "cameras:stream", true},
		{"NotHeld", NewPrincipal(bareAlice), "admin:write", false},
		{"BareLiteralHeldFirst", &bareAlice, "events:read", true},
		{"BareLiteralHeldLast", &bareAlice, "cameras:stream", true},
		{"BareLiteralNotHeld", &bareAlice, "admin:write", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.HasScope(tt.scope); got != tt.want {
				t.Fatalf("HasScope(%q) = %t; want %t", tt.scope, got, tt.want)
			}
		})
	}
}
