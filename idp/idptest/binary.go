package idptest

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// binary finds the provider: $AUTHGATE_OIDC_PROVIDER, else what
// `scripts/oidc-provider.sh paths` reports (it knows the pinned version).
func binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("AUTHGATE_OIDC_PROVIDER"); p != "" {
		return p
	}
	script := filepath.Join(repoRoot(t), "scripts", "oidc-provider.sh")
	out, err := exec.Command(script, "paths").Output()
	if err != nil {
		t.Fatalf("%s paths: %v", script, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if n, p, ok := strings.Cut(sc.Text(), "="); ok && n == "oidc-provider" && p != "" {
			return p
		}
	}
	skipOrFail(t, "the OpenID provider is not built; run: scripts/oidc-provider.sh ensure (1-3 minutes cold, once)")
	return ""
}

// repoRoot is the directory of authgate's go.mod, above the test's directory.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			bytes.HasPrefix(b, []byte("module github.com/authgate/authgate\n")) {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no authgate go.mod above the working directory")
		}
		dir = parent
	}
}

// skipOrFail skips the test, or fails it under CI=true: there a test that
// cannot run must not pass unnoticed.
func skipOrFail(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(why + " (a skip fails under CI=true)")
	}
	t.Skip(why)
}
