package deploy_test

import (
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate/verify"
)

// configureTraefikEncodedSlash is the shipped Traefik configuration with
// encoded slashes allowed, as Traefik's defaults allow them and as an operator
// might for an API with / in its ids.
func configureTraefikEncodedSlash(t *testing.T, dir string, a addresses) (args, env []string) {
	args, env = configureTraefik(t, dir, a)
	conf := filepath.Join(dir, "traefik.yml")
	template(t, conf, conf, "allowEncodedSlash: false", "allowEncodedSlash: true")
	return args, env
}

// Behind a Traefik that allows encoded slashes, /events/..%2Fcameras/x is
// routed to /events/ (Traefik cleans without decoding) and authgate is asked
// for events:read, while an app that decodes first serves /cameras/x. authgate
// must refuse it; an encoded slash that makes no dot segment still passes.
// A subtest of TestProxies, which runs once the proxies are installed.
func traefikEncodedSlashAllowed(t *testing.T) {
	s := startStack(t, proxy{name: "traefik", configure: configureTraefikEncodedSlash}, proxyBinary(t, "traefik"))
	for _, tc := range []struct{ name, path string }{
		{"DotDotEncodedSlash", "/events/..%2Fcameras/"},
		{"DotDotEncodedSlashLower", "/events/..%2fcameras/"},
		{"EncodedDotsAndSlash", "/events/%2e%2e%2Fcameras/"},
		{"EncodedSlashesAroundDotDot", "/events/x%2F..%2F..%2Fcameras/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tag := uniqueTag("split")
			r := s.send(t, "GET", tc.path+tag, apiKey(s.events), "")
			s.denied(t, r, tag, http.StatusForbidden)
			if !strings.Contains(r.body, verify.CodeInvalidPath) {
				t.Errorf("got %s; want authgate's %s", r, verify.CodeInvalidPath)
			}
		})
	}
	t.Run("EncodedSlashInName", func(t *testing.T) {
		tag := uniqueTag("slash")
		r := s.send(t, "GET", "/events/group%2Fname/"+tag, apiKey(s.events), "")
		s.allowed(t, r, tag, s.events, "events:read")
	})
}
