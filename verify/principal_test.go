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

// WriteHeaders hands out slices over the strings a cached principal holds (its
// fields, or their header-safe forms): appending to one (Header.Add) must never
// change what the next request is sent.
func TestPrincipal_WriteHeadersAppendLeavesPrincipal(t *testing.T) {
	camera := Principal{Kind: KindAPIKey, Subject: "key_1", KeyID: "key_1", KeyName: "camera", Scopes: []string{"events:read"}}
	for name, base := range map[string]Principal{"Sanitized": bareAlice, "Fields": camera} {
		t.Run(name, func(t *testing.T) {
			p := NewPrincipal(base)
			first := http.Header{}
			p.WriteHeaders(first)
			want := first.Clone()
			for _, h := range IdentityHeaders {
				first.Add(h, "appended")
			}
			again := http.Header{}
			p.WriteHeaders(again)
			for _, h := range IdentityHeaders {
				if got := again[h]; !slices.Equal(got, want[h]) {
					t.Errorf("header %s after an append to the first answer = %q; want %q", h, got, want[h])
				}
			}
			if p.Subject != base.Subject || p.Email != base.Email {
				t.Errorf("principal changed: subject %q, email %q", p.Subject, p.Email)
			}
		})
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
