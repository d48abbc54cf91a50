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
		{"Typo", "scopes=a", nil, "", false, `unknown parameter "scopes"; authgate understands scope, query_token and redirect`},
		{"BadScope", "scope=a%20b", nil, "", false, "not a valid scope"},
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

func TestRequirement_Missing(t *testing.T) {
	p := NewPrincipal(Principal{Kind: KindAPIKey, Subject: "s", KeyID: "id", KeyName: "n", Scopes: []string{"b", "a"}})
	r, _ := ParseRequirement("scope=a&scope=b")
	if got := r.Missing(p); got != "" {
		t.Errorf("Missing = %q; want none", got)
	}
	r, _ = ParseRequirement("scope=a&scope=c")
	if got := r.Missing(p); got != "c" {
		t.Errorf("Missing = %q; want c", got)
	}
}

func FuzzParseRequirement(f *testing.F) {
	f.Add("scope=events:read&scope=b&query_token=api_key")
	f.Add("scopes=x")
	f.Add("scope=a&redirect=false")
	f.Add("redirect=true&redirect=false")
	f.Add("%zz")
	f.Fuzz(func(t *testing.T, q string) {
		r, err := ParseRequirement(q)
		if err != nil {
			if !errors.Is(err, ErrMisconfigured) {
				t.Fatalf("error %v is not ErrMisconfigured", err)
			}
			return
		}
		for _, s := range r.Scopes {
			if !ValidScope(s) {
				t.Fatalf("accepted invalid scope %q", s)
			}
		}
	})
}
