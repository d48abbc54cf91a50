package verify

import (
	"fmt"
	"strings"
)

// CleanPath returns the path of uri, a request URI in origin form (path, then
// optionally ?query), normalised the way nginx matches locations, so that a
// rule sees the path the proxy routes on rather than the string the client
// typed. The query and any #fragment are ignored.
//
// The path is percent-decoded once (a decoded %2F is a separator, a decoded
// %25 a literal %), runs of / are collapsed, . segments dropped and ..
// segments resolved. A trailing slash is kept: /a/b/ and /a/b/c/.. both give
// /a/b/, and /a/. gives /a/.
//
// Only a . or .. typed as such, between literal slashes (or after the last),
// is resolved. A . or .. segment that decoding creates (%2e, %2e%2e, .%2e,
// ..%2F, %2F..%2F) is refused, because proxies and apps disagree on it:
// Traefik cleans without decoding, so it routes /events/..%2Fcameras/x as
// /events/, while an app that decodes first serves /cameras/x. An encoded
// slash that creates no dot segment is accepted: /projects/group%2Fname gives
// /projects/group/name.
//
// Returns an error wrapping ErrBadPath if the path does not start with /
// (absolute-form URLs and * included), holds an invalid %-escape, decodes to a
// control byte (below 0x20, or 0x7f), has a . or .. segment made by decoding,
// or has a .. that climbs above the root. A path that needs no change is
// returned as is, without allocating.
func CleanPath(uri string) (string, error) {
	p := beforeQuery(uri)
	if p == "" || p[0] != '/' {
		return "", errNotRooted
	}
	if isClean(p) {
		return p, nil
	}
	return cleanPath(p)
}

// isClean reports whether p, which starts with /, is already its own
// normalised form: no %, no control byte, no empty, . or .. segment.
func isClean(p string) bool {
	for i := 0; i < len(p); i++ {
		switch c := p[i]; {
		case c == '%' || c < 0x20 || c == 0x7f:
			return false
		case c == '/':
			if segmentAt(p, i+1) != segName {
				return false
			}
		}
	}
	return true
}

// A segment is what lies between two slashes of a path.
type segment int

const (
	segName   segment = iota // anything else, or the nothing after a trailing /
	segEmpty                 // the nothing between two slashes
	segDot                   // .
	segDotDot                // ..
)

// segmentAt classifies the segment of s that starts at i, just after a /.
func segmentAt[S ~string | ~[]byte](s S, i int) segment {
	n := len(s)
	switch {
	case i == n:
		return segName
	case s[i] == '/':
		return segEmpty
	case s[i] != '.':
		return segName
	case i+1 == n || s[i+1] == '/':
		return segDot
	case s[i+1] == '.' && (i+2 == n || s[i+2] == '/'):
		return segDotDot
	}
	return segName
}

// cleanPath is CleanPath's slow path for p, which starts with /: decode into
// a buffer, refusing dot segments the decoding makes, then normalise it in
// place (the result never grows).
func cleanPath(p string) (string, error) {
	var small [256]byte
	var buf []byte
	if len(p) <= len(small) {
		buf = small[:len(p)]
	} else {
		buf = make([]byte, len(p))
	}
	// buf[seg:n] is the segment being decoded; escaped says whether it, or the
	// / before it, came from a %-escape.
	buf[0] = '/'
	n, seg, escaped := 1, 1, false
	for i := 1; i < len(p); i++ {
		c, esc := p[i], false
		if c == '%' {
			if i+2 >= len(p) || !isHex(p[i+1]) || !isHex(p[i+2]) {
				return "", badPath(p, "has an invalid %-escape")
			}
			c, esc = unhex(p[i+1])<<4|unhex(p[i+2]), true
			i += 2
		}
		if c < 0x20 || c == 0x7f {
			return "", badPath(p, "holds a control character")
		}
		if c == '/' {
			if (escaped || esc) && isDots(buf[seg:n]) {
				return "", errMadeDots(p)
			}
			seg, escaped = n+1, esc
		} else {
			escaped = escaped || esc
		}
		buf[n] = c
		n++
	}
	if escaped && isDots(buf[seg:n]) {
		return "", errMadeDots(p)
	}
	buf = buf[:n]

	// buf[:w] is the result so far. At the top of the loop buf[r-1] is a / (or
	// r is at one), and buf[:w] ends in /.
	w, r := 1, 1
	for r < n {
		switch segmentAt(buf, r) {
		case segEmpty, segDot:
			r++
		case segDotDot:
			if w == 1 {
				return "", badPath(p, "climbs above the root")
			}
			w--
			for buf[w-1] != '/' {
				w--
			}
			r += 2
		default:
			for r < n && buf[r] != '/' {
				buf[w] = buf[r]
				w, r = w+1, r+1
			}
			if r < n {
				buf[w] = '/'
				w, r = w+1, r+1
			}
		}
	}
	return string(buf[:w]), nil
}

// isDots reports whether a decoded segment is . or ..
func isDots(b []byte) bool {
	return len(b) == 1 && b[0] == '.' || len(b) == 2 && b[0] == '.' && b[1] == '.'
}

func errMadeDots(p string) error {
	return badPath(p, "has a . or .. segment made by %-escapes")
}

// beforeQuery returns uri up to its query or fragment.
func beforeQuery(uri string) string {
	if i := strings.IndexAny(uri, "?#"); i >= 0 {
		return uri[:i]
	}
	return uri
}

// errNotRooted does not quote the value: an absolute-form URL may carry
// user:password.
var errNotRooted = fmt.Errorf("%w: it does not start with /", ErrBadPath)

// badPath describes why p cannot be normalised. Only the path goes into the
// message, never the query, which may carry a credential.
func badPath(p, why string) error {
	const maxShown = 128
	if len(p) > maxShown {
		p = p[:maxShown] + "..."
	}
	return fmt.Errorf("%w: %q %s", ErrBadPath, p, why)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
