package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/authgate/authgate/portal"
)

// portalSites pairs AUTHGATE_COOKIE_DOMAINS with AUTHGATE_PORTAL_URLS, or
// returns nil when neither is set: no portal, and the verify endpoints answer
// browsers as they answer machines. portal.New checks the rest at start
// (public suffixes, schemes, development mode).
func (c Config) portalSites() ([]portal.Site, error) {
	domains, urls := splitList(strings.ToLower(c.CookieDomains)), splitList(c.PortalURLs)
	switch {
	case len(domains) == 0 && len(urls) == 0:
		return nil, nil
	case len(domains) == 0:
		return nil, fmt.Errorf("AUTHGATE_PORTAL_URLS is set but AUTHGATE_COOKIE_DOMAINS is not: name the domain each portal signs browsers in for, e.g. AUTHGATE_COOKIE_DOMAINS=home.example")
	}
	return portal.PairSites(domains, urls)
}

// checkLifetimes says what is wrong with the browser session lifetimes, or nil.
func (c Config) checkLifetimes() error {
	switch {
	case c.SessionIdleTTL < 5*time.Minute:
		return fmt.Errorf("AUTHGATE_SESSION_IDLE_TTL must be at least 5m (got %s)", c.SessionIdleTTL)
	case c.SessionRememberTTL < c.SessionIdleTTL:
		return fmt.Errorf("AUTHGATE_SESSION_REMEMBER_TTL must be at least AUTHGATE_SESSION_IDLE_TTL (%s; got %s)", c.SessionIdleTTL, c.SessionRememberTTL)
	case c.SessionMaxTTL < c.SessionRememberTTL:
		return fmt.Errorf("AUTHGATE_SESSION_MAX_TTL must be at least AUTHGATE_SESSION_REMEMBER_TTL (%s; got %s)", c.SessionRememberTTL, c.SessionMaxTTL)
	}
	return nil
}

// splitList splits a comma-separated setting, dropping spaces and empty items.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// cookieName is the browser session cookie's name: AUTHGATE_COOKIE_NAME, or
// the default for the mode (the __Secure- prefix needs https).
func (c Config) cookieName() string {
	switch {
	case c.CookieName != "":
		return c.CookieName
	case c.PortalDev:
		return portal.DefaultDevCookieName
	}
	return portal.DefaultCookieName
}
