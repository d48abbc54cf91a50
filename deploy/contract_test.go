// Package deploy_test checks the shipped proxy configurations: statically here
// (they name authgate's endpoint and every identity header, so a header added to
// verify is not forgotten), and for real in e2e_test.go, which runs nginx,
// Traefik and Caddy with them in front of authgate.
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
	// Each configuration, including the examples no test runs (labels, Kubernetes),
	// on its own: a README naming every header must not stand in for the config.
	for _, tc := range []struct {
		glob, endpoint string
		nginxVars      bool // nginx reads the answer's headers as $upstream_http_x_auth_…
	}{
		{"nginx/*.conf", verify.PathAuthRequest, true},
		{"nginx/ingress-nginx.yaml", verify.PathAuthRequest, false},
		{"traefik/dynamic.yml", verify.PathForwardAuth, false},
		{"traefik/docker-labels.yml", verify.PathForwardAuth, false},
		{"traefik/kubernetes.yaml", verify.PathForwardAuth, false},
		{"caddy/Caddyfile", verify.PathForwardAuth, false},
	} {
		t.Run(tc.glob, func(t *testing.T) {
			text := read(t, tc.glob)
			if !strings.Contains(text, tc.endpoint+"?") {
				t.Errorf("%s never calls %s with a query", tc.glob, tc.endpoint)
			}
			for _, h := range verify.IdentityHeaders {
				name := strings.ToLower(h)
				if tc.nginxVars {
					name = "$upstream_http_" + strings.ReplaceAll(name, "-", "_")
				}
				if !strings.Contains(text, name) {
					t.Errorf("%s does not handle identity header %s (looked for %q)", tc.glob, h, name)
				}
			}
		})
	}
}

// TestContract_DocumentedWhereItLives keeps the contract in one place: verify
// states it (IdentityHeaders, Kinds, the answers in verify/doc.go), and the
// README's answers table and go doc ./verify must name every identity header
// and every X-Auth-Kind value, so neither can drift from the code.
func TestContract_DocumentedWhereItLives(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	var allowRow string
	for line := range strings.Lines(string(readme)) {
		if strings.HasPrefix(line, "| 200 |") {
			allowRow = line
			break
		}
	}
	doc, err := os.ReadFile("../verify/doc.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, place := range []struct{ name, text string }{{"README's answers table (| 200 |)", allowRow}, {"verify/doc.go", string(doc)}} {
		if place.text == "" {
			t.Fatalf("%s: not found", place.name)
		}
		for _, h := range verify.IdentityHeaders {
			if !strings.Contains(place.text, h) {
				t.Errorf("%s does not name identity header %s", place.name, h)
			}
		}
		for _, k := range verify.Kinds {
			if !strings.Contains(place.text, string(k)) {
				t.Errorf("%s does not name X-Auth-Kind %s", place.name, k)
			}
		}
	}
}
