// Package deploy_test checks that the shipped proxy configurations speak the
// contract package verify implements. Running them in front of the real proxies
// is the job of the proxy end-to-end tests.
package deploy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/authgate/verify"
)

func read(t *testing.T, glob string) string {
	t.Helper()
	files, _ := filepath.Glob(glob)
	if len(files) == 0 {
		t.Fatalf("no files match %s", glob)
	}
	var all strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	return strings.ToLower(all.String())
}

func TestConfigs_NameEveryIdentityHeaderAndTheirEndpoint(t *testing.T) {
	for _, tc := range []struct{ dir, endpoint string }{
		{"nginx", verify.PathAuthRequest}, {"traefik", verify.PathForwardAuth}, {"caddy", verify.PathForwardAuth},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			text := read(t, filepath.Join(tc.dir, "*"))
			if !strings.Contains(text, tc.endpoint+"?scope=") {
				t.Errorf("%s never calls %s?scope=", tc.dir, tc.endpoint)
			}
			for _, h := range verify.IdentityHeaders {
				name := strings.ToLower(h)
				if tc.dir == "nginx" { // nginx also reads it back as $upstream_http_x_auth_…
					name = "$upstream_http_" + strings.ReplaceAll(name, "-", "_")
				}
				if !strings.Contains(text, name) {
					t.Errorf("%s does not handle identity header %s (looked for %q)", tc.dir, h, name)
				}
			}
		})
	}
}
