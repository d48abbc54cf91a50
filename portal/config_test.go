package portal

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// nobody is an Authenticator that knows no credential, for tests that never
// reach one.
type nobody struct{}

func (nobody) Authenticate(context.Context, string) (*verify.Principal, error) {
	return nil, verify.ErrUnknownKey
}

// newPortal is New over a service without a store (configuration and URL
// building never reach it).
func newPortal(cfg Config) (*Portal, error) {
	return New(cfg, issue.NewService(nil, nil, nil, issue.Options{}), nobody{})
}

var homeSite = Site{Domain: "home.example", URL: "https://auth.home.example"}

func TestNew_Refuses(t *testing.T) {
	for _, tt := range []struct {
		name  string
		cfg   Config
		want  string // the whole message
		isVar string // the variable it must name
	}{
		{"NoSites", Config{}, "AUTHGATE_COOKIE_DOMAINS: none configured; set it (and AUTHGATE_PORTAL_URLS) to sign browsers in", EnvCookieDomains},
		{"DomainUppercase", Config{Sites: []Site{{"Home.example", "https://auth.home.example"}}},
			`AUTHGATE_COOKIE_DOMAINS: invalid cookie domain "Home.example": must be lowercase`, EnvCookieDomains},
		{"DomainWithScheme", Config{Sites: []Site{{"https://home.example", "https://auth.home.example"}}},
			`AUTHGATE_COOKIE_DOMAINS: invalid cookie domain "https://home.example": write the domain without a scheme`, EnvCookieDomains},
		{"DomainTwoURLs", Config{Sites: []Site{homeSite, {"home.example", "https://login.home.example"}}},
			"AUTHGATE_PORTAL_URLS: cookie domain home.example has two portal URLs (https://auth.home.example, https://login.home.example); give each domain one", EnvPortalURLs},
		{"DomainLocalhost", Config{Dev: true, Sites: []Site{{"localhost", "http://localhost:8080"}}},
			"AUTHGATE_COOKIE_DOMAINS: browsers refuse cookies for Domain=localhost; use a name under it, such as home.localhost, in development mode", EnvCookieDomains},
		{"PublicSuffixCom", Config{Sites: []Site{{"com", "https://auth.com"}}},
			`AUTHGATE_COOKIE_DOMAINS: invalid cookie domain "com": a single-label domain would cover a whole top-level domain`, EnvCookieDomains},
		{"PublicSuffixCoUK", Config{Sites: []Site{{"co.uk", "https://auth.co.uk"}}},
			"AUTHGATE_COOKIE_DOMAINS: co.uk is on the public suffix list (ICANN section): browsers refuse a cookie for it, and it would reach sites of other owners; use a domain you own, such as home.co.uk", EnvCookieDomains},
		{"PublicSuffixGitHubIO", Config{Sites: []Site{{"github.io", "https://auth.github.io"}}},
			"AUTHGATE_COOKIE_DOMAINS: github.io is on the public suffix list (private section): browsers refuse a cookie for it, and it would reach sites of other owners; use a domain you own, such as home.github.io", EnvCookieDomains},
		{"PublicSuffixWildcard", Config{Sites: []Site{{"foo.kawasaki.jp", "https://auth.foo.kawasaki.jp"}}},
			"AUTHGATE_COOKIE_DOMAINS: foo.kawasaki.jp is on the public suffix list (ICANN section)", EnvCookieDomains},
		{"DomainInsideAnother", Config{Sites: []Site{homeSite, {"lab.home.example", "https://auth.lab.home.example"}}},
			"AUTHGATE_COOKIE_DOMAINS: lab.home.example lies inside home.example: both cookies would reach the same hosts under one name; list only home.example", EnvCookieDomains},
		{"URLNotAbsolute", Config{Sites: []Site{{"home.example", "auth.home.example"}}},
			`AUTHGATE_PORTAL_URLS: "auth.home.example" is not an absolute URL such as https://auth.home.example`, EnvPortalURLs},
		{"URLHTTP", Config{Sites: []Site{{"home.example", "http://auth.home.example"}}},
			"AUTHGATE_PORTAL_URLS: http://auth.home.example must use https; plain http is allowed only in development mode (AUTHGATE_PORTAL_DEV=true), for localhost and *.localhost", EnvPortalURLs},
		{"URLHTTPDevNotLocal", Config{Dev: true, Sites: []Site{{"home.example", "http://auth.home.example"}}},
			"AUTHGATE_PORTAL_URLS: http://auth.home.example must use https: development mode allows plain http only for localhost and *.localhost", EnvPortalURLs},
		{"URLOtherScheme", Config{Sites: []Site{{"home.example", "ftp://auth.home.example"}}},
			"AUTHGATE_PORTAL_URLS: ftp://auth.home.example must be an https URL", EnvPortalURLs},
		{"URLUserinfo", Config{Sites: []Site{{"home.example", "https://me:pw@auth.home.example"}}},
			"AUTHGATE_PORTAL_URLS: https://me:pw@auth.home.example must not carry a user name or password", EnvPortalURLs},
		{"URLPath", Config{Sites: []Site{{"home.example", "https://auth.home.example/portal"}}},
			"AUTHGATE_PORTAL_URLS: https://auth.home.example/portal must be an origin (scheme://host[:port]) without path, query or fragment", EnvPortalURLs},
		{"URLQuery", Config{Sites: []Site{{"home.example", "https://auth.home.example/?x=1"}}},
			"AUTHGATE_PORTAL_URLS: https://auth.home.example/?x=1 must be an origin", EnvPortalURLs},
		{"URLFragment", Config{Sites: []Site{{"home.example", "https://auth.home.example#x"}}},
			"AUTHGATE_PORTAL_URLS: https://auth.home.example#x must be an origin", EnvPortalURLs},
		{"URLIPAddress", Config{Sites: []Site{{"home.example", "https://192.0.2.1"}}},
			"AUTHGATE_PORTAL_URLS: https://192.0.2.1 must be on a host name, not an IP address", EnvPortalURLs},
		{"URLIPv6", Config{Sites: []Site{{"home.example", "https://[2001:db8::1]"}}},
			"AUTHGATE_PORTAL_URLS: https://[2001:db8::1] must be on a host name, not an IP address", EnvPortalURLs},
		{"URLBadPort", Config{Sites: []Site{{"home.example", "https://auth.home.example:0"}}},
			"AUTHGATE_PORTAL_URLS: https://auth.home.example:0 has an invalid port", EnvPortalURLs},
		{"URLUnderNone", Config{Sites: []Site{{"home.example", "https://auth.other.example"}}},
			"AUTHGATE_PORTAL_URLS: https://auth.other.example is under none of AUTHGATE_COOKIE_DOMAINS (home.example); each portal URL must be on a host inside the cookie domain it serves", EnvPortalURLs},
		{"URLUnderAnotherDomain", Config{Sites: []Site{homeSite, {"lab.example", "https://auth2.home.example"}}},
			"AUTHGATE_PORTAL_URLS: https://auth2.home.example is under home.example, not under its own cookie domain lab.example; each portal URL must be on a host inside the cookie domain it serves", EnvPortalURLs},
		{"URLLookAlike", Config{Sites: []Site{{"home.example", "https://evilhome.example"}}},
			"AUTHGATE_PORTAL_URLS: https://evilhome.example is under none of AUTHGATE_COOKIE_DOMAINS (home.example)", EnvPortalURLs},
		{"CookieNameInvalid", Config{Sites: []Site{homeSite}, CookieName: "my session"},
			`AUTHGATE_COOKIE_NAME: "my session" is not a cookie name: use letters, digits and - _ . only`, EnvCookieName},
		{"CookieNameHostPrefix", Config{Sites: []Site{homeSite}, CookieName: "__Host-session"},
			"AUTHGATE_COOKIE_NAME: __Host-session: a __Host- cookie cannot carry a Domain, and the session cookie must reach every host of its domain; use the __Secure- prefix", EnvCookieName},
		{"CookieNameSecurePrefixInDev", Config{Dev: true, Sites: []Site{{"home.localhost", "http://auth.home.localhost:8080"}}, CookieName: "__Secure-s"},
			"AUTHGATE_COOKIE_NAME: __Secure-s: a __Secure- cookie needs the Secure attribute, which development mode (AUTHGATE_PORTAL_DEV) leaves off; choose a name without the prefix", EnvCookieName},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := newPortal(tt.cfg)
			var ce *ConfigError
			if !errors.Is(err, ErrConfig) || !errors.As(err, &ce) || ce.Var != tt.isVar {
				t.Fatalf("got %v; want a *ConfigError for %s", err, tt.isVar)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("got %q; want %q", err, tt.want)
			}
		})
	}
}

func TestNew_Accepts(t *testing.T) {
	for _, tt := range []struct {
		name       string
		cfg        Config
		wantCookie string
	}{
		{"OneSite", Config{Sites: []Site{homeSite}}, DefaultCookieName},
		{"TwoSitesPortAndCase", Config{Sites: []Site{homeSite, {"lab.example.net", "HTTPS://Auth.Lab.Example.net:8443/"}}}, DefaultCookieName},
		{"PortalOnTheDomainItself", Config{Sites: []Site{{"home.example", "https://home.example"}}}, DefaultCookieName},
		{"UnderAPrivateSuffix", Config{Sites: []Site{{"me.github.io", "https://auth.me.github.io"}}}, DefaultCookieName},
		{"DevLocalhostHTTP", Config{Dev: true, Sites: []Site{{"home.localhost", "http://auth.home.localhost:8080"}}}, DefaultDevCookieName},
		{"DevHTTPS", Config{Dev: true, Sites: []Site{homeSite}}, DefaultDevCookieName},
		{"CustomCookieName", Config{Sites: []Site{homeSite}, CookieName: "__Secure-sso"}, "__Secure-sso"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p, err := newPortal(tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if p.CookieName() != tt.wantCookie {
				t.Fatalf("cookie name %q; want %q", p.CookieName(), tt.wantCookie)
			}
		})
	}
}

func TestNew_NormalisesURL(t *testing.T) {
	p, err := newPortal(Config{Sites: []Site{{"lab.example.net", "HTTPS://Auth.Lab.Example.net:8443/"}}})
	if err != nil {
		t.Fatal(err)
	}
	s := p.byHost["auth.lab.example.net"]
	if s == nil || s.url != "https://auth.lab.example.net:8443" || s.domain != "lab.example.net" {
		t.Fatalf("site %+v; want https://auth.lab.example.net:8443 for lab.example.net", s)
	}
}

func TestPairSites(t *testing.T) {
	for _, tt := range []struct {
		name    string
		domains []string
		urls    []string
		want    []Site
		wantErr string
	}{
		{"InAnyOrder", []string{"home.example", "lab.example"}, []string{"https://auth.lab.example", "https://auth.home.example"},
			[]Site{homeSite, {"lab.example", "https://auth.lab.example"}}, ""},
		{"MostSpecificDomain", []string{"example.net", "lab.example.org"}, []string{"https://auth.lab.example.org", "https://auth.example.net"},
			[]Site{{"example.net", "https://auth.example.net"}, {"lab.example.org", "https://auth.lab.example.org"}}, ""},
		{"UnderNone", []string{"home.example"}, []string{"https://auth.other.example"}, nil,
			"AUTHGATE_PORTAL_URLS: https://auth.other.example is under none of AUTHGATE_COOKIE_DOMAINS (home.example); each portal URL must be on a host inside the cookie domain it serves"},
		{"TwoForOneDomain", []string{"home.example"}, []string{"https://a.home.example", "https://b.home.example"}, nil,
			"AUTHGATE_PORTAL_URLS: cookie domain home.example has two portal URLs (https://a.home.example, https://b.home.example); give each domain one"},
		{"DomainWithoutURL", []string{"home.example", "lab.example"}, []string{"https://auth.home.example"}, nil,
			"AUTHGATE_PORTAL_URLS: no portal URL for cookie domain lab.example; give one per domain, on a host inside it (https://auth.lab.example)"},
		{"DomainTwice", []string{"home.example", "home.example"}, []string{"https://auth.home.example"}, nil,
			"AUTHGATE_COOKIE_DOMAINS: home.example is listed twice"},
		{"NotAURL", []string{"home.example"}, []string{"auth.home.example"}, nil,
			`AUTHGATE_PORTAL_URLS: "auth.home.example" is not an absolute URL such as https://auth.home.example`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PairSites(tt.domains, tt.urls)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrConfig) || err.Error() != tt.wantErr {
					t.Fatalf("got %v; want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(got) != len(tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("got %v; want %v", got, tt.want)
				}
			}
		})
	}
}

func TestContentSecurityPolicy(t *testing.T) {
	p, err := newPortal(Config{Sites: []Site{homeSite, {"lab.example.net", "https://auth.lab.example.net"}}})
	if err != nil {
		t.Fatal(err)
	}
	want := "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self' " +
		"https://home.example:* https://*.home.example:* https://lab.example.net:* https://*.lab.example.net:*; " +
		"frame-ancestors 'none'; base-uri 'none'"
	if p.csp != want {
		t.Fatalf("got %q; want %q", p.csp, want)
	}
	dev, err := newPortal(Config{Dev: true, Sites: []Site{{"home.localhost", "http://auth.home.localhost:8080"}}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(dev.csp, "form-action 'self' https://home.localhost:* https://*.home.localhost:* http://home.localhost:* http://*.home.localhost:*;") {
		t.Fatalf("dev policy %q; want http sources for the localhost domain", dev.csp)
	}
}
