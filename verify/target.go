package verify

import (
	"errors"
	"net/http"
	"net/url"
)

// Target is the request the client sent to the proxy, as the proxy reports it in
// the subrequest.
type Target struct {
	Method string
	Proto  string
	Host   string
	// URI is the path and query exactly as the proxy reported them: nginx and
	// Caddy pass on the client's raw string. Read the query from it, never the path.
	URI string
	// Path is URI's path as CleanPath normalises it: decoded, with no empty, .
	// or .. segments. It is what the proxy routes on, and what rules must judge.
	Path     string
	ClientIP string
}

// Headers carrying the original request. Canonical forms, so they index an
// http.Header directly.
const (
	HeaderForwardedMethod = "X-Forwarded-Method"
	HeaderForwardedProto  = "X-Forwarded-Proto"
	HeaderForwardedHost   = "X-Forwarded-Host"
	HeaderForwardedURI    = "X-Forwarded-Uri"
	HeaderForwardedFor    = "X-Forwarded-For"
	HeaderOriginalMethod  = "X-Original-Method"
	HeaderOriginalURI     = "X-Original-Uri"
	HeaderOriginalURL     = "X-Original-Url"
)

// ForwardedTarget reads the original request the way Traefik ForwardAuth and
// Caddy forward_auth report it: X-Forwarded-Method, -Proto, -Host and -Uri are
// required, -For is optional. Returns an error wrapping ErrMisconfigured naming
// the first missing header, or wrapping ErrBadPath if CleanPath refuses the URI.
func ForwardedTarget(h http.Header) (Target, error) {
	t := Target{
		Method:   first(h, HeaderForwardedMethod),
		Proto:    first(h, HeaderForwardedProto),
		Host:     first(h, HeaderForwardedHost),
		URI:      first(h, HeaderForwardedURI),
		ClientIP: first(h, HeaderForwardedFor),
	}
	switch {
	case t.Method == "":
		return t, missing("X-Forwarded-Method", "/forward-auth")
	case t.Proto == "":
		return t, missing("X-Forwarded-Proto", "/forward-auth")
	case t.Host == "":
		return t, missing("X-Forwarded-Host", "/forward-auth")
	case t.URI == "":
		return t, missing("X-Forwarded-Uri", "/forward-auth")
	}
	var err error
	t.Path, err = CleanPath(t.URI)
	return t, err
}

// OriginalTarget reads the original request the way the shipped nginx
// configuration reports it: X-Original-Method plus X-Original-URI (path and
// query) or X-Original-URL (a full URL). Proto, host and client address come from
// X-Forwarded-Proto, -Host and -For when the configuration sets them. Returns an
// error wrapping ErrMisconfigured naming what is missing, or wrapping ErrBadPath
// if CleanPath refuses the URI (or X-Original-URL holds a bad %-escape).
func OriginalTarget(h http.Header) (Target, error) {
	t := Target{
		Method:   first(h, HeaderOriginalMethod),
		Proto:    first(h, HeaderForwardedProto),
		Host:     first(h, HeaderForwardedHost),
		URI:      first(h, HeaderOriginalURI),
		ClientIP: first(h, HeaderForwardedFor),
	}
	if t.URI == "" {
		if raw := first(h, HeaderOriginalURL); raw != "" {
			u, err := url.Parse(raw)
			if errors.As(err, new(url.EscapeError)) {
				// The client's path, not the proxy's configuration, is at fault
				// (nginx validates $host).
				return t, badPath(beforeQuery(raw), "has an invalid %-escape")
			}
			if err != nil || u.Host == "" {
				return t, &ConfigError{Msg: "X-Original-URL is not an absolute URL; set it to $scheme://$host$request_uri"}
			}
			t.Proto, t.Host, t.URI = u.Scheme, u.Host, u.RequestURI()
		}
	}
	switch {
	case t.Method == "":
		return t, missing("X-Original-Method", "/auth-request")
	case t.URI == "":
		return t, missing("X-Original-URI", "/auth-request")
	}
	var err error
	t.Path, err = CleanPath(t.URI)
	return t, err
}

func missing(header, endpoint string) error {
	return &ConfigError{Msg: "the proxy did not send " + header + ", which " + endpoint +
		" needs; see the deploy/ example for your proxy"}
}

func first(h http.Header, key string) string {
	if v := h[key]; len(v) > 0 {
		return v[0]
	}
	return ""
}
