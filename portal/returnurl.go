package portal

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// MaxReturnURLLength is the longest return URL ReturnURL accepts, in bytes.
// Browsers and proxies handle URLs far longer, but a login redirect that long is
// an attack or a mistake, and the URL is stored with the login attempt.
const MaxReturnURLLength = 2048

// ErrDomain is returned, wrapped with the offending name and the reason, by
// NewDomains for a cookie domain it cannot use.
var ErrDomain = errors.New("invalid cookie domain")

// Domains is the set of cookie domains authgate signs browsers in for. It is
// built once at start-up by NewDomains and is safe for concurrent use.
type Domains struct {
	names     []string // longest first, so Match finds the most specific
	localHTTP bool
}

// NewDomains returns the Domains for the configured cookie domain names. Each
// name is a lowercase DNS name written without scheme, port, path or leading
// dot (home.example); it must have at least two labels unless it is localhost.
// Empty names, duplicates, IP literals and wildcards are refused with an error
// wrapping ErrDomain. localHTTP is development mode: it lets ReturnURL accept
// plain http for localhost and *.localhost hosts (which must still lie under a
// configured domain); every other host needs https either way.
func NewDomains(names []string, localHTTP bool) (*Domains, error) {
	if len(names) == 0 {
		return nil, fmt.Errorf("%w: none configured", ErrDomain)
	}
	seen := make(map[string]bool, len(names))
	d := &Domains{localHTTP: localHTTP}
	for _, name := range names {
		if reason := domainProblem(name); reason != "" {
			return nil, fmt.Errorf("%w %q: %s", ErrDomain, name, reason)
		}
		if seen[name] {
			return nil, fmt.Errorf("%w %q: listed twice", ErrDomain, name)
		}
		seen[name] = true
		d.names = append(d.names, name)
	}
	sort.SliceStable(d.names, func(i, j int) bool { return len(d.names[i]) > len(d.names[j]) })
	return d, nil
}

// domainProblem says what is wrong with a configured cookie domain, or "".
func domainProblem(name string) string {
	switch {
	case name == "":
		return "empty"
	case strings.Contains(name, "://"):
		return "write the domain without a scheme"
	case strings.ContainsAny(name, "[]") || strings.Count(name, ":") > 1:
		return "IP literals cannot be cookie domains"
	case strings.Contains(name, ":"):
		return "write the domain without a port"
	case strings.ContainsAny(name, "/?#"):
		return "write the domain without a path"
	case strings.Contains(name, "*"):
		return "wildcards are not needed: a domain covers its subdomains"
	case strings.HasPrefix(name, "."):
		return "write the domain without a leading dot"
	case name != strings.ToLower(name):
		return "must be lowercase"
	}
	if reason := hostnameProblem(name); reason != "" {
		return reason
	}
	if name != "localhost" && !strings.Contains(name, ".") {
		return "a single-label domain would cover a whole top-level domain"
	}
	return ""
}

// hostnameProblem checks a lowercase name against the DNS hostname syntax
// (letters, digits, inner hyphens; labels of 1-63 bytes; 253 in all) and
// refuses names a URL parser would read as an IPv4 address, so a cookie domain
// and a host that passes can only be names.
func hostnameProblem(name string) string {
	if len(name) > 253 {
		return "longer than 253 bytes"
	}
	labels := strings.Split(name, ".")
	for _, l := range labels {
		if l == "" {
			return "has an empty label"
		}
		if len(l) > 63 {
			return "has a label longer than 63 bytes"
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "has a label that starts or ends with a hyphen"
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
				return "has a character outside a-z, 0-9 and -"
			}
		}
	}
	if numericLabel(labels[len(labels)-1]) {
		return "IP literals cannot be cookie domains"
	}
	return ""
}

// numericLabel reports whether a last label makes the WHATWG URL parser treat
// the whole host as IPv4 (decimal, octal or 0x-hex: 127.1, 0x7f.1, 3627734734).
func numericLabel(l string) bool {
	digits := strings.TrimPrefix(l, "0x")
	if digits != l { // 0x prefix: hex digits, possibly none
		return strings.Trim(digits, "0123456789abcdef") == ""
	}
	return strings.Trim(l, "0123456789") == ""
}

// Match returns the most specific configured domain that host equals or lies
// under on a label boundary. host must already be lowercase; it may not carry
// a port.
func (d *Domains) Match(host string) (string, bool) {
	for _, name := range d.names {
		if host == name || strings.HasSuffix(host, "."+name) && len(host) > len(name)+1 {
			return name, true
		}
	}
	return "", false
}

// ReturnURL returns the URL to send the browser back to, and true, only if raw
// is an absolute https URL (http in development mode for localhost and
// *.localhost) on a configured domain or one of its subdomains, with no
// userinfo and none of the encodings and look-alikes open-redirect attacks use;
// the package documentation lists the rule. The URL comes back with scheme and
// host lowercased and without its fragment. Otherwise it returns "", false and
// the caller sends the browser to the portal's home.
func (d *Domains) ReturnURL(raw string) (string, bool) {
	// 1. The raw bytes: short, printable ASCII, nothing a browser would
	// reinterpret (\ as /, tab and newline dropped) or that breaks out of HTML.
	if raw == "" || len(raw) > MaxReturnURLLength {
		return "", false
	}
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte("\\\"<>`", c) >= 0 {
			return "", false
		}
	}

	// 2. The scheme, as a literal prefix: this alone refuses relative and
	// protocol-relative URLs, javascript:, data:, https:host and https:/\host.
	scheme, rest, ok := cutScheme(raw)
	if !ok {
		return "", false
	}

	// 3. The authority, read by hand up to the first / ? or #, as a browser
	// reads it: host[:port] and nothing else.
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	authority := strings.ToLower(rest[:end])
	host, ok := d.hostInDomain(authority)
	if !ok {
		return "", false
	}
	if scheme == "http" && !(d.localHTTP && (host == "localhost" || strings.HasSuffix(host, ".localhost"))) {
		return "", false
	}

	// 4. Go's parser must read the same URL; anything it disagrees on is refused.
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil ||
		!strings.EqualFold(u.Scheme, scheme) || strings.ToLower(u.Host) != authority ||
		strings.HasPrefix(u.EscapedPath(), "//") {
		return "", false
	}
	u.Scheme, u.Host = scheme, authority
	u.Fragment, u.RawFragment = "", ""
	// Re-encoding ({ to %7B) can lengthen the URL; the bound is on what is
	// stored and followed.
	out := u.String()
	if len(out) > MaxReturnURLLength {
		return "", false
	}
	return out, true
}

// cutScheme splits "https://" (or "http://") off raw, in any letter case.
func cutScheme(raw string) (scheme, rest string, ok bool) {
	for _, s := range [...]string{"https", "http"} {
		p := s + "://"
		if len(raw) >= len(p) && strings.EqualFold(raw[:len(p)], p) {
			return s, raw[len(p):], true
		}
	}
	return "", "", false
}

// hostInDomain checks a lowercased authority (host[:port]) and returns its host
// if it lies in a configured domain.
func (d *Domains) hostInDomain(authority string) (string, bool) {
	host, port, hasPort := strings.Cut(authority, ":")
	if hasPort && !validPort(port) {
		return "", false
	}
	if host == "" || hostnameProblem(host) != "" {
		return "", false // also refuses @, %, [ ], and a second ':'
	}
	domain, ok := d.Match(host)
	if !ok {
		return "", false
	}
	// Labels added below a configured domain must not be punycode; labels of
	// the configured domain itself were written by the operator.
	for _, l := range strings.Split(strings.TrimSuffix(host, domain), ".") {
		if strings.HasPrefix(l, "xn--") {
			return "", false
		}
	}
	return host, true
}

// validPort reports whether p is a port number 1-65535 without a leading zero.
func validPort(p string) bool {
	if p == "" || len(p) > 5 || p[0] == '0' {
		return false
	}
	n, err := strconv.Atoi(p)
	return err == nil && n >= 1 && n <= 65535 && strconv.Itoa(n) == p
}
