package verify

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestValidScope(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"events:read", true},
		{"authgate:admin", true},
		{"cameras/front-door:stream", true},
		{"a.b_c-d", true},
		{"", false},
		{"has space", false},
		{`quote"`, false},
		{`back\slash`, false},
		{"ünïcode", false},
		{strings.Repeat("a", MaxScopeLen), true},
		{strings.Repeat("a", MaxScopeLen+1), false},
	}
	for _, tt := range tests {
		if got := ValidScope(tt.in); got != tt.want {
			t.Errorf("ValidScope(%q) = %t; want %t", tt.in, got, tt.want)
		}
	}
}

func TestParseRequirement(t *testing.T) {
	tests := []struct {
		name       string
		query      string
		wantScopes []string
		wantParam  string
		noRedirect bool
		wantText   string
	}{
		{"Nothing", "", nil, "", false, ""},
		{"OneScope", "scope=events:read", []string{"events:read"}, "", false, ""},
		{"ScopesSortedAndDeduplicated", "scope=b&scope=a&scope=b", []string{"a", "b"}, "", false, ""},
		{"QueryToken", "scope=a&query_token=api_key", []string{"a"}, "api_key", false, ""},
		{"RedirectFalse", "scope=a&redirect=false", []string{"a"}, "", true, ""},
		{"Typo", "scopes=a", nil, "", false, `unknown parameter "scopes"; authgate understands scope, any_scope, role, any_role, rate, burst, query_token and redirect`},
		{"BadScope", "scope=a%20b", nil, "", false, "not a valid scope"},
		{"BadRole", "role=a,b", nil, "", false, `role "a,b", which is not a valid scope or role name`},
		{"AnyScopeOfOneIsRequired", "scope=b&any_scope=a", []string{"a", "b"}, "", false, ""},
		{"EmptyQueryToken", "query_token=", nil, "", false, "query_token"},
		{"TwoQueryTokens", "query_token=a&query_token=b", nil, "", false, "query_token"},
		{"RedirectTrue", "redirect=true", nil, "", false, "redirect=false"},
		{"RedirectEmpty", "redirect=", nil, "", false, "redirect=false"},
		{"RedirectBare", "redirect", nil, "", false, "redirect=false"},
		{"RedirectFalseCapitalised", "redirect=False", nil, "", false, "redirect=false"},
		{"RedirectTwice", "redirect=false&redirect=false", nil, "", false, "redirect=false"},
		{"Unparseable", "scope=%zz", nil, "", false, "cannot be parsed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRequirement(tt.query)
			if tt.wantText != "" {
				if !errors.Is(err, ErrMisconfigured) || !strings.Contains(err.Error(), tt.wantText) {
					t.Fatalf("err = %v; want ErrMisconfigured containing %q", err, tt.wantText)
				}
				return
			}
			if err != nil || !slices.Equal(r.Scopes, tt.wantScopes) || r.QueryParam != tt.wantParam || r.NoRedirect != tt.noRedirect {
				t.Fatalf("got %+v, %v; want scopes %v, param %q, no redirect %t", r, err, tt.wantScopes, tt.wantParam, tt.noRedirect)
			}
		})
	}
}

// TestRequirement_Missing is the README's table of route requirements: a
// verify URL's query, and what each principal lacks of it ("" for nothing).
func TestRequirement_Missing(t *testing.T) {
	key := NewPrincipal(Principal{Kind: KindAPIKey, Subject: "s", KeyID: "id", KeyName: "n", Scopes: []string{"b", "a"}})
	admin := NewPrincipal(Principal{Kind: KindJWT, Subject: "u1", User: "ann", Scopes: []string{"events:read"},
		Roles: []string{"family", "admin"}})
	guest := NewPrincipal(Principal{Kind: KindSession, Subject: "u2", User: "gus", Roles: []string{"guest"}})
	for _, tc := range []struct {
		query             string
		key, admin, guest string
	}{
		{"", "", "", ""},
		{"scope=a&scope=b", "", "a", "a"},
		{"scope=a&scope=c", "c", "a", "a"},
		{"any_scope=a&any_scope=events:read", "", "", "one of the scopes a events:read"},
		{"any_scope=x&any_scope=y", "one of the scopes x y", "one of the scopes x y", "one of the scopes x y"},
		{"role=admin", "role admin", "", "role admin"},
		{"role=admin&role=family", "role admin", "", "role admin"},
		{"any_role=admin&any_role=guest", "one of the roles admin guest", "", ""},
		{"scope=events:read&any_role=admin&any_role=guest", "events:read", "", "events:read"},
		{"any_scope=a&any_scope=events:read&role=family", "role family", "", "one of the scopes a events:read"},
	} {
		r, err := ParseRequirement(tc.query)
		if err != nil {
			t.Fatalf("%q: %v", tc.query, err)
		}
		for _, c := range []struct {
			who  string
			p    *Principal
			want string
		}{{"key", key, tc.key}, {"admin", admin, tc.admin}, {"guest", guest, tc.guest}} {
			if got := r.Missing(c.p); got != c.want {
				t.Errorf("%q, %s: Missing = %q; want %q", tc.query, c.who, got, c.want)
			}
		}
	}
}

// TestRequirement_MissingDoesNotAllocate: a deny for a missing scope or role
// costs no allocation to decide.
func TestRequirement_MissingDoesNotAllocate(t *testing.T) {
	r, _ := ParseRequirement("scope=a&any_scope=x&any_scope=y&role=admin&any_role=b&any_role=c")
	p := NewPrincipal(Principal{Kind: KindJWT, Subject: "u", Scopes: []string{"a", "y"}, Roles: []string{"admin"}})
	if n := testing.AllocsPerRun(100, func() { r.Missing(p) }); n != 0 {
		t.Errorf("Missing: %v allocs; want 0", n)
	}
}

func FuzzParseRequirement(f *testing.F) {
	f.Add("scope=events:read&scope=b&query_token=api_key")
	f.Add("scopes=x")
	f.Add("scope=a&redirect=false")
	f.Add("redirect=true&redirect=false")
	f.Add("%zz")
	f.Add("any_scope=a&any_scope=b&role=r&any_role=x&any_role=y")
	f.Add("role=&any_role=a%20b")
	f.Fuzz(func(t *testing.T, q string) {
		r, err := ParseRequirement(q)
		if err != nil {
			if !errors.Is(err, ErrMisconfigured) {
				t.Fatalf("error %v is not ErrMisconfigured", err)
			}
			return
		}
		for _, list := range [][]string{r.Scopes, r.AnyScopes, r.Roles, r.AnyRoles} {
			for _, s := range list {
				if !ValidScope(s) {
					t.Fatalf("accepted invalid scope or role %q", s)
				}
			}
		}
		if len(r.AnyScopes) == 1 || len(r.AnyRoles) == 1 {
			t.Fatalf("an any-of set of one was kept: %+v", r)
		}
	})
}
