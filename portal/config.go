package portal

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"github.com/authgate/authgate/idp"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// The settings the configuration errors name, as cmd/authgate reads them.
const (
	EnvCookieDomains = "AUTHGATE_COOKIE_DOMAINS"
	EnvPortalURLs    = "AUTHGATE_PORTAL_URLS"
	EnvPortalDev     = "AUTHGATE_PORTAL_DEV"
	EnvCookieName    = "AUTHGATE_COOKIE_NAME"
)

// Default session cookie names. The __Secure- prefix makes browsers refuse the
// cookie unless it is set over https with Secure, so a plain-http page under
// the domain cannot plant one; development mode has no Secure and so no prefix.
const (
	DefaultCookieName    = "__Secure-authgate_session"
	DefaultDevCookieName = "authgate_session"
)

// ErrConfig is what every start-up refusal of New and PairSites wraps: a
// *ConfigError naming the setting at fault.
var ErrConfig = errors.New("invalid portal configuration")

// ConfigError refuses a setting at start-up, in words meant for the operator.
type ConfigError struct {
	Var string // the environment variable at fault: EnvCookieDomains, EnvPortalURLs…
	Msg string
}

func (e *ConfigError) Error() string        { return e.Var + ": " + e.Msg }
func (e *ConfigError) Is(target error) bool { return target == ErrConfig }

func configErr(env, format string, args ...any) error {
	return &ConfigError{Var: env, Msg: fmt.Sprintf(format, args...)}
}

// Site is one cookie domain and the portal that signs browsers in for it.
type Site struct {
	Domain string // the cookie's Domain: home.example covers it and every host under it
	URL    string // the portal's origin, on a host inside Domain: https://auth.home.example
}

// Config is the portal's configuration, resolved once at start-up.
type Config struct {
	Sites      []Site
	Dev        bool   // development mode: plain http for localhost and *.localhost, no Secure cookie
	CookieName string // default DefaultCookieName (DefaultDevCookieName in development mode)
	Log        *slog.Logger
	Now        func() time.Time
	// Providers are the OpenID providers the sign-in page offers (nil: none).
	// SSOKey seals each sign-in attempt's cookie (AES-GCM; 16, 24 or 32
	// bytes), required with Providers.
	Providers *idp.Set
	SSOKey    []byte
	// SSOLimit is how many provider sign-ins each client address may start,
	// and how many callbacks it may bring back, per minute, each; 0 means
	// DefaultSSOLimit.
	SSOLimit int
}

// Authenticator tells who presented a credential; *verify.Verifier is one.
type Authenticator interface {
	Authenticate(ctx context.Context, credential string) (*verify.Principal, error)
}

// site is a Site checked and normalised by New.
type site struct {
	domain string
	url    string // scheme://host[:port], lowercase, no trailing slash
	host   string // the portal's host name, lowercase, without port
}

// Portal serves the sign-in and account pages and tells the hot path where to
// send browsers (LoginURL, DeniedURL). It is built once by New and is safe for
// concurrent use.
type Portal struct {
	svc     *issue.Service
	auth    Authenticator
	domains *Domains
	sites   []*site
	byHost  map[string]*site
	dev     bool
	cookie  string
	log     *slog.Logger
	now     func() time.Time
	csp     string
	cop     *http.CrossOriginProtection
	pages   map[string]*template.Template
	// providers and ssoKey: Config.Providers and Config.SSOKey.
	providers *idp.Set
	ssoKey    []byte
	// ssoStarts and ssoCallbacks throttle /sso/:id/start and /sso/:id/callback
	// per client address.
	ssoStarts, ssoCallbacks *issue.AddressLimit
}

// New checks cfg and returns the portal over svc, recognising sessions through
// auth. Every refusal is a *ConfigError (ErrConfig) naming the setting: no
// site; a cookie domain that is malformed, listed twice, localhost, on the
// public suffix list, or inside another; a portal URL that is not an https
// origin (http only in development mode, for localhost and *.localhost), that
// carries userinfo, a path, a query or a fragment, or whose host is not inside
// its cookie domain; a domain with two URLs; a cookie name that is not a
// token or whose prefix the attributes cannot honour.
func New(cfg Config, svc *issue.Service, auth Authenticator) (*Portal, error) {
	if svc == nil || auth == nil {
		return nil, errors.New("portal: New needs a service and an authenticator")
	}
	p := &Portal{svc: svc, auth: auth, dev: cfg.Dev, cookie: cfg.CookieName, log: cfg.Log, now: cfg.Now,
		byHost: make(map[string]*site, len(cfg.Sites))}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.now == nil {
		p.now = time.Now
	}
	if cfg.Providers != nil {
		switch len(cfg.SSOKey) {
		case 16, 24, 32:
		default:
			return nil, errors.New("portal: New needs an SSOKey of 16, 24 or 32 bytes with Providers")
		}
		p.providers, p.ssoKey = cfg.Providers, cfg.SSOKey
		limit := cfg.SSOLimit
		if limit <= 0 {
			limit = DefaultSSOLimit
		}
		p.ssoStarts = issue.NewAddressLimit(limit, time.Minute, "too many sign-ins started from this address")
		p.ssoCallbacks = issue.NewAddressLimit(limit, time.Minute, "too many sign-ins from this address")
	}
	if err := p.setSites(cfg.Sites); err != nil {
		return nil, err
	}
	if err := p.setCookieName(); err != nil {
		return nil, err
	}
	p.csp = contentSecurityPolicy(p.sites, p.dev)
	p.cop = http.NewCrossOriginProtection()
	var err error
	if p.pages, err = parsePages(); err != nil {
		return nil, fmt.Errorf("portal: %w", err)
	}
	return p, nil
}

// setSites checks the domains, then each URL against its domain.
func (p *Portal) setSites(sites []Site) error {
	if len(sites) == 0 {
		return configErr(EnvCookieDomains, "none configured; set it (and %s) to sign browsers in", EnvPortalURLs)
	}
	names := make([]string, 0, len(sites))
	urls := make(map[string]string, len(sites))
	for _, s := range sites {
		if prev, ok := urls[s.Domain]; ok {
			return configErr(EnvPortalURLs, "cookie domain %s has two portal URLs (%s, %s); give each domain one", s.Domain, prev, s.URL)
		}
		urls[s.Domain] = s.URL
		names = append(names, s.Domain)
	}
	d, err := NewDomains(names, p.dev)
	if err != nil {
		return configErr(EnvCookieDomains, "%v", err)
	}
	p.domains = d
	for _, name := range names {
		if err := cookieDomainProblem(name, names); err != nil {
			return err
		}
	}
	for _, s := range sites {
		norm, err := p.checkURL(s, names)
		if err != nil {
			return err
		}
		p.sites = append(p.sites, norm)
		p.byHost[norm.host] = norm
	}
	return nil
}

// cookieDomainProblem refuses a syntactically valid domain no browser would
// store a cookie for, or one that collides with another configured domain.
func cookieDomainProblem(name string, all []string) error {
	if name == "localhost" {
		return configErr(EnvCookieDomains, "browsers refuse cookies for Domain=localhost; use a name under it, such as home.localhost, in development mode")
	}
	if suffix, icann := publicsuffix.PublicSuffix(name); suffix == name {
		section := "private"
		if icann {
			section = "ICANN"
		}
		return configErr(EnvCookieDomains, "%s is on the public suffix list (%s section): browsers refuse a cookie for it, "+
			"and it would reach sites of other owners; use a domain you own, such as home.%s", name, section, name)
	}
	for _, other := range all {
		if other != name && strings.HasSuffix(name, "."+other) {
			return configErr(EnvCookieDomains, "%s lies inside %s: both cookies would reach the same hosts under one name; list only %s", name, other, other)
		}
	}
	return nil
}

// checkURL checks a site's portal URL and returns the site normalised.
func (p *Portal) checkURL(s Site, domains []string) (*site, error) {
	u, err := url.Parse(s.URL)
	if err != nil || u.Opaque != "" || u.Host == "" {
		return nil, configErr(EnvPortalURLs, "%q is not an absolute URL such as https://auth.%s", s.URL, s.Domain)
	}
	host := strings.ToLower(u.Hostname())
	local := host == "localhost" || strings.HasSuffix(host, ".localhost")
	switch {
	case u.Scheme == "http" && !p.dev:
		return nil, configErr(EnvPortalURLs, "%s must use https; plain http is allowed only in development mode (%s=true), for localhost and *.localhost", s.URL, EnvPortalDev)
	case u.Scheme == "http" && !local:
		return nil, configErr(EnvPortalURLs, "%s must use https: development mode allows plain http only for localhost and *.localhost", s.URL)
	case u.Scheme != "https" && u.Scheme != "http":
		return nil, configErr(EnvPortalURLs, "%s must be an https URL", s.URL)
	case u.User != nil:
		return nil, configErr(EnvPortalURLs, "%s must not carry a user name or password", s.URL)
	case u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.HasSuffix(s.URL, "#"):
		return nil, configErr(EnvPortalURLs, "%s must be an origin (scheme://host[:port]) without path, query or fragment: the portal serves /login and /account at the root of its host", s.URL)
	case net.ParseIP(strings.Trim(host, "[]")) != nil:
		return nil, configErr(EnvPortalURLs, "%s must be on a host name, not an IP address", s.URL)
	case hostnameProblem(host) != "":
		return nil, configErr(EnvPortalURLs, "%s must be on a host name (%s)", s.URL, hostnameProblem(host))
	case u.Port() != "" && !validPort(u.Port()):
		return nil, configErr(EnvPortalURLs, "%s has an invalid port", s.URL)
	}
	if !under(host, s.Domain) {
		if d, ok := p.domains.Match(host); ok {
			return nil, configErr(EnvPortalURLs, "%s is under %s, not under its own cookie domain %s; each portal URL must be on a host inside the cookie domain it serves", s.URL, d, s.Domain)
		}
		return nil, configErr(EnvPortalURLs, "%s is under none of %s (%s); each portal URL must be on a host inside the cookie domain it serves",
			s.URL, EnvCookieDomains, strings.Join(domains, ", "))
	}
	return &site{domain: s.Domain, url: u.Scheme + "://" + strings.ToLower(u.Host), host: host}, nil
}

// under reports whether host is domain or lies under it on a label boundary.
func under(host, domain string) bool {
	return host == domain || strings.HasSuffix(host, "."+domain)
}

// setCookieName fills in the default and refuses a name the cookie's
// attributes cannot honour.
func (p *Portal) setCookieName() error {
	if p.cookie == "" {
		p.cookie = DefaultCookieName
		if p.dev {
			p.cookie = DefaultDevCookieName
		}
	}
	lower := strings.ToLower(p.cookie)
	switch {
	case (&http.Cookie{Name: p.cookie, Value: "x"}).Valid() != nil:
		return configErr(EnvCookieName, "%q is not a cookie name: use letters, digits and - _ . only", p.cookie)
	case strings.HasPrefix(lower, "__host-"):
		return configErr(EnvCookieName, "%s: a __Host- cookie cannot carry a Domain, and the session cookie must reach every host of its domain; use the __Secure- prefix", p.cookie)
	case strings.HasPrefix(lower, "__secure-") && p.dev:
		return configErr(EnvCookieName, "%s: a __Secure- cookie needs the Secure attribute, which development mode (%s) leaves off; choose a name without the prefix", p.cookie, EnvPortalDev)
	}
	return nil
}

// PairSites pairs each portal URL with the cookie domain its host lies in, as
// the two comma lists AUTHGATE_COOKIE_DOMAINS and AUTHGATE_PORTAL_URLS give
// them, in any order. Every domain needs exactly one URL. Returns a
// *ConfigError naming the URL or domain left over; New checks the rest.
func PairSites(domains, urls []string) ([]Site, error) {
	sites := make([]Site, 0, len(domains))
	byDomain := make(map[string]string, len(domains))
	seen := make(map[string]bool, len(domains))
	for _, d := range domains {
		if seen[d] {
			return nil, configErr(EnvCookieDomains, "%s is listed twice", d)
		}
		seen[d] = true
	}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return nil, configErr(EnvPortalURLs, "%q is not an absolute URL such as https://auth.%s", raw, firstOr(domains, "home.example"))
		}
		host, best := strings.ToLower(u.Hostname()), ""
		for _, d := range domains {
			if under(host, d) && len(d) > len(best) {
				best = d
			}
		}
		if best == "" {
			return nil, configErr(EnvPortalURLs, "%s is under none of %s (%s); each portal URL must be on a host inside the cookie domain it serves",
				raw, EnvCookieDomains, strings.Join(domains, ", "))
		}
		if prev, ok := byDomain[best]; ok {
			return nil, configErr(EnvPortalURLs, "cookie domain %s has two portal URLs (%s, %s); give each domain one", best, prev, raw)
		}
		byDomain[best] = raw
	}
	for _, d := range domains {
		raw, ok := byDomain[d]
		if !ok {
			return nil, configErr(EnvPortalURLs, "no portal URL for cookie domain %s; give one per domain, on a host inside it (https://auth.%s)", d, d)
		}
		sites = append(sites, Site{Domain: d, URL: raw})
	}
	return sites, nil
}

func firstOr(list []string, def string) string {
	if len(list) > 0 && list[0] != "" {
		return list[0]
	}
	return def
}
