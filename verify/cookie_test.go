package verify

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
)

func TestCookieValues(t *testing.T) {
	const name = testCookie
	long := strings.Repeat("a", MaxCredentialLen+1)
	tests := []struct {
		name    string
		cookies []string // Cookie header lines
		want    []string
	}{
		{"NoHeader", nil, nil},
		{"Only", []string{name + "=ags_1"}, []string{"ags_1"}},
		{"AmongOthers", []string{"theme=dark; " + name + "=ags_1; lang=en"}, []string{"ags_1"}},
		{"NoSpaces", []string{"a=1;" + name + "=ags_1;b=2"}, []string{"ags_1"}},
		{"SpacesAndTabsTrimmed", []string{"a=1; \t" + name + " = ags_1 \t; b=2"}, []string{"ags_1"}},
		{"SameNameTwice", []string{name + "=ags_1; " + name + "=ags_2"}, []string{"ags_1", "ags_2"}},
		{"OneHeaderEach", []string{name + "=ags_1", "a=b; " + name + "=ags_2"}, []string{"ags_1", "ags_2"}},
		{"AtMostThree", []string{name + "=1; " + name + "=2; " + name + "=3; " + name + "=4"}, []string{"1", "2", "3"}},
		{"OtherNamesOnly", []string{"theme=dark; lang=en"}, nil},
		{"LongerName", []string{name + "2=ags_1; x" + name + "=ags_2"}, nil},
		{"NameCaseDiffers", []string{strings.ToLower(name) + "=ags_1"}, nil},
		{"NameInAValue", []string{"a=" + name + "=ags_1"}, nil},
		{"Quoted", []string{name + `="ags_1"`}, []string{"ags_1"}},
		{"LoneQuote", []string{name + `="`}, []string{`"`}},
		{"QuoteOneSide", []string{name + `="ags_1`}, []string{`"ags_1`}},
		{"Empty", []string{name + "=; " + name + "=ags_1"}, []string{"", "ags_1"}},
		{"NoEquals", []string{name + "; a=b"}, nil},
		{"EmptyPairs", []string{";;; " + name + "=ags_1;;"}, []string{"ags_1"}},
		{"Oversize", []string{name + "=" + long}, []string{long}}, // refused by its shape, later
		{"NonASCII", []string{name + "=ags_é"}, []string{"ags_é"}},
		{"NonASCIIName", []string{"é=1; " + name + "=ags_1"}, []string{"ags_1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, c := range tt.cookies {
				h.Add("Cookie", c)
			}
			vals, n := cookieValues(h, name)
			if got := vals[:n]; !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
				t.Fatalf("cookieValues = %q; want %q", got, tt.want)
			}
		})
	}
}

func FuzzCookieValues(f *testing.F) {
	f.Add("theme=dark; " + testCookie + `="ags_1"; ` + testCookie + "=ags_2")
	f.Add(testCookie + "=" + testCookie + "=;;")
	f.Add(`"`)
	f.Add("x" + testCookie + "=a; " + testCookie + "2=b;\t " + testCookie + " = c ;" + testCookie)
	f.Fuzz(func(t *testing.T, line string) {
		vals, n := cookieValues(http.Header{"Cookie": {line}}, testCookie)
		if n > maxSessionCookies {
			t.Fatalf("n = %d; want at most %d", n, maxSessionCookies)
		}
		for _, v := range vals[:n] {
			if !strings.Contains(line, v) {
				t.Fatalf("value %q is not in the header %q", v, line)
			}
		}
		if want, wn := splitCookieValues(line, testCookie); vals != want || n != wn {
			t.Fatalf("cookieValues(%q) = %q, %d; want %q, %d (every pair split and compared)", line, vals, n, want, wn)
		}
	})
}

// splitCookieValues is cookieValues written the obvious way, for the fuzz
// target to compare against: split every pair, compare every name.
func splitCookieValues(line, name string) (vals [maxSessionCookies]string, n int) {
	for _, pair := range strings.Split(line, ";") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok || strings.Trim(k, " \t") != name || n == maxSessionCookies {
			continue
		}
		v = strings.Trim(v, " \t")
		if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
			v = v[1 : len(v)-1]
		}
		vals[n], n = v, n+1
	}
	return vals, n
}

// An unusable cookie is no credential (a *cookieError saying why); a store
// failure is returned as it is, so the caller fails closed.
func TestVerifier_AuthenticateCookie(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	jwts := newJWTFixture(t, fixedClock(testNow))
	v := newTestVerifierAll(t, keys, fixedClock(testNow), jwts.options())
	c := func(names ...string) http.Header {
		h := http.Header{}
		for _, n := range names {
			val, ok := keys.creds[n]
			if !ok {
				val = n
			}
			h.Add("Cookie", "a=b; "+testCookie+"="+val)
		}
		return h
	}
	tests := []struct {
		name    string
		header  http.Header
		want    string // the subject admitted; "" for a refusal
		refused error  // what the *cookieError wraps, for the log
	}{
		{"NoCookie", http.Header{"Cookie": {"a=b"}}, "", nil},
		{"Active", c("session-active"), "usr_alice", nil},
		{"Quoted", http.Header{"Cookie": {testCookie + `="` + keys.creds["session-active"] + `"`}}, "usr_alice", nil},
		{"FirstInvalidSecondValid", c("session-unknown", "session-reader"), "usr_bob", nil},
		{"OnlyThreeTried", c("session-unknown", "session-expired", "session-revoked", "session-active"), "", ErrUnknownKey},
		{"Unknown", c("session-unknown"), "", ErrUnknownKey},
		{"WrongSecret", c("session-wrong-secret"), "", ErrWrongSecret},
		{"Expired", c("session-expired"), "", ErrExpired},
		{"Revoked", c("session-revoked"), "", ErrRevoked},
		{"EndedOnDenyList", c("session-ended"), "", ErrRevoked},
		{"UserDisabled", c("session-user-disabled"), "", ErrDisabled},
		{"Malformed", c("ags_x"), "", ErrMalformed},
		{"Oversize", c("ags_" + strings.Repeat("a", MaxCredentialLen)), "", ErrMalformed},
		{"NonASCII", c("ags_" + strings.Repeat("é", 26)), "", ErrMalformed},
		{"APIKey", c("active"), "", errCookieNotSession},
		{"PersonalToken", c("token-active"), "", errCookieNotSession},
		{"JWT", c(jwts.token(t, nil)), "", errCookieNotSession},
		{"StaticKey", c("static-home-assistant"), "", errCookieNotSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := v.authenticateCookie(context.Background(), tt.header, "app.example", v.now())
			if tt.want != "" {
				if err != nil || p.Kind != KindSession || p.Subject != tt.want {
					t.Fatalf("authenticateCookie = %+v, %v; want session of %s", p, err, tt.want)
				}
				return
			}
			var ce *cookieError
			if p != nil || !errors.Is(err, ErrNoCredential) || (tt.refused != nil) != errors.As(err, &ce) {
				t.Fatalf("authenticateCookie = %v, %v; want ErrNoCredential, a *cookieError: %t", p, err, tt.refused != nil)
			}
			if ce != nil && !errors.Is(ce.err, tt.refused) {
				t.Fatalf("refused for %v; want %v", ce.err, tt.refused)
			}
		})
	}
}

func TestVerifier_AuthenticateCookieFailsClosed(t *testing.T) {
	keys := newFixtureKeys(t, testHasher(t))
	down := errors.New("connection refused")
	store := &fakeSessionStore{SessionByCookieFunc: func(context.Context, string) (SessionRecord, error) {
		return SessionRecord{}, down
	}}
	v, err := NewVerifier(keys.store(), testHasher(t), Options{Now: fixedClock(testNow), Sessions: keys.sessionOptions(store)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name    string
		cookies []string
	}{
		{"Only", []string{"session-active"}},
		{"AfterAnInvalidOne", []string{"ags_x", "session-active"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, n := range tt.cookies {
				val, ok := keys.creds[n]
				if !ok {
					val = n
				}
				h.Add("Cookie", testCookie+"="+val)
			}
			_, err := v.authenticateCookie(context.Background(), h, "app.example", v.now())
			if status, _ := Status(err); !errors.Is(err, down) || status != http.StatusInternalServerError {
				t.Fatalf("err = %v (status %d); want the store's error, a 500", err, status)
			}
		})
	}
}

func TestNavigation(t *testing.T) {
	for _, tt := range []struct {
		name   string
		header http.Header
		want   bool
	}{
		{"Browser", http.Header{"Accept": {"text/html,application/xhtml+xml,*/*;q=0.8"}}, true},
		{"SecondAcceptLine", http.Header{"Accept": {"image/webp", "text/html"}}, true},
		{"Fetch", http.Header{"Accept": {"application/json"}}, false},
		{"AnyType", http.Header{"Accept": {"*/*"}}, false},
		{"NoAccept", http.Header{}, false},
		{"XMLHttpRequest", http.Header{"Accept": {"text/html"}, "X-Requested-With": {"XMLHttpRequest"}}, false},
		{"EmptyRequestedWith", http.Header{"Accept": {"text/html"}, "X-Requested-With": {""}}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := navigation(tt.header); got != tt.want {
				t.Fatalf("navigation = %t; want %t", got, tt.want)
			}
		})
	}
}

func TestValidCookieName(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"__Secure-authgate_session", true},
		{"authgate_session", true},
		{"", false},
		{"has space", false},
		{"semi;colon", false},
		{"equals=", false},
		{"ünïcode", false},
		{strings.Repeat("a", 257), false},
	} {
		if got := validCookieName(tt.in); got != tt.want {
			t.Errorf("validCookieName(%q) = %t; want %t", tt.in, got, tt.want)
		}
	}
}

func TestOnCookieDomain(t *testing.T) {
	tests := []struct {
		host, domain string
		want         bool
	}{
		{"home.example", "home.example", true},
		{"cams.home.example", "home.example", true},
		{"a.b.home.example:8443", "home.example", true},
		{"Cams.HOME.example", "home.example", true},
		{"evilhome.example", "home.example", false},
		{"home.example.evil.com", "home.example", false},
		{"lab.example", "home.example", false},
		{"example", "home.example", false},
		{"", "home.example", false},
		{"home.example", "", false},
		{".home.example", "home.example", true}, // a leading dot is an empty label: still under it, and no proxy sends it
		{"home.example.", "home.example", false},
	}
	for _, tt := range tests {
		if got := OnCookieDomain(tt.host, tt.domain); got != tt.want {
			t.Errorf("OnCookieDomain(%q, %q) = %v; want %v", tt.host, tt.domain, got, tt.want)
		}
	}
}
