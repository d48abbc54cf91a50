package main

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/authgate/authgate/db/dbtest"
)

// runCLI runs one command as the shell would and returns its exit code and output.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	var in io.Reader
	if stdin != "" {
		in = strings.NewReader(stdin)
	}
	code = run(context.Background(), args, env, in, &out, &errOut)
	return code, out.String(), errOut.String()
}

func mustCLI(t *testing.T, env map[string]string, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	code, out, errOut := runCLI(t, env, stdin, args...)
	if code != 0 {
		t.Fatalf("authgate %s exited %d: %s", strings.Join(args, " "), code, errOut)
	}
	return out, errOut
}

func TestRun_Migrate(t *testing.T) {
	env := testEnv(dbtest.EmptyURL(t))
	if _, errOut := mustCLI(t, env, "", "migrate"); !regexp.MustCompile(`applied [1-9][0-9]* migration\(s\); the database is up to date`).MatchString(errOut) {
		t.Errorf("first migrate said %q; want how many it applied", errOut)
	}
	if _, errOut := mustCLI(t, env, "", "migrate"); !strings.Contains(errOut, "database already up to date") {
		t.Errorf("second migrate said %q; want already up to date", errOut)
	}
}

func TestRun_DatabaseUnreachableSaysItOnce(t *testing.T) {
	_, _, errOut := runCLI(t, map[string]string{"DATABASE_URL": "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"}, "", "migrate")
	if n := strings.Count(errOut, "connection refused"); n != 1 {
		t.Errorf("stderr %q names the dial error %d times; want once", errOut, n)
	}
	if !strings.Contains(errOut, "DATABASE_URL") {
		t.Errorf("stderr %q; want a hint at DATABASE_URL", errOut)
	}
}

func TestRun_KeysCommands(t *testing.T) {
	env := testEnv(dbtest.URL(t))
	secret, _ := mustCLI(t, env, "", "keys", "create", "--name", "Hall dashboard", "--scope", "events:read")
	if !strings.HasPrefix(secret, "agk_") {
		t.Fatalf("keys create printed %q; want the key", secret)
	}
	list, _ := mustCLI(t, env, "", "keys", "list")
	lines := strings.Split(strings.TrimSpace(list), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[1], "Hall dashboard") ||
		!strings.Contains(lines[1], "active") || !strings.Contains(lines[1], "events:read") {
		t.Fatalf("keys list = %q; want a header and the key, active", list)
	}
	if strings.Contains(list, strings.TrimSpace(secret)) {
		t.Fatal("keys list shows the secret")
	}
	id := strings.Fields(lines[1])[0]
	if _, errOut := mustCLI(t, env, "", "keys", "revoke", id); !strings.Contains(errOut, "revoked key "+id) {
		t.Errorf("keys revoke said %q", errOut)
	}
	if list, _ := mustCLI(t, env, "", "keys", "list", "--state", "revoked"); !strings.Contains(list, id) {
		t.Errorf("keys list --state revoked = %q; want %s", list, id)
	}
	if code, _, errOut := runCLI(t, env, "", "keys", "revoke", "key_nosuchkey"); code != 1 || !strings.Contains(errOut, `no key "key_nosuchkey"`) {
		t.Errorf("keys revoke of an unknown id: exit %d, %q; want 1 and no key", code, errOut)
	}
}

func TestRun_UsersCommands(t *testing.T) {
	env := testEnv(dbtest.URL(t))
	create := []string{"users", "create", "--username", "alice", "--email", "alice@example.com", "--role", "admin"}
	if code, _, errOut := runCLI(t, env, "", create...); code != 1 || !strings.Contains(errOut, "the password must come on standard input") {
		t.Errorf("users create without stdin: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runCLI(t, env, "\n", create...); code != 1 || !strings.Contains(errOut, "no password given on standard input") {
		t.Errorf("users create with an empty line: exit %d, %q; want no password given on standard input", code, errOut)
	}
	mustCLI(t, env, "correct horse battery staple\n", create...)
	mustCLI(t, env, "another long passphrase", "users", "create", "--username", "bob", "--email", "bob@example.com")

	list, _ := mustCLI(t, env, "", "users", "list")
	if !strings.Contains(list, "USERNAME") || !strings.Contains(list, "alice@example.com") || !strings.Contains(list, "admin") ||
		!strings.Contains(list, "bob") {
		t.Fatalf("users list = %q; want alice (admin) and bob", list)
	}
	m := startMain(t, env)
	c := client{t, m.URL()}
	if code, _ := c.login("bob", "another long passphrase"); code != 200 {
		t.Fatalf("bob's login: %d; want 200", code)
	}

	mustCLI(t, env, "a brand new passphrase\n", "users", "set-password", "--username", "bob")
	if code, _ := c.login("bob", "another long passphrase"); code != 401 {
		t.Errorf("login with the old password: %d; want 401", code)
	}
	if code, _ := c.login("bob", "a brand new passphrase"); code != 200 {
		t.Errorf("login with the new password: %d; want 200", code)
	}
	if code, _, errOut := runCLI(t, env, "short\n", "users", "set-password", "--username", "bob"); code != 1 || !strings.Contains(errOut, "at least 12") {
		t.Errorf("set-password to a short one: exit %d, %q", code, errOut)
	}

	if _, errOut := mustCLI(t, env, "", "users", "disable", "--username", "bob"); !strings.Contains(errOut, "disabled") {
		t.Errorf("users disable said %q", errOut)
	}
	if list, _ := mustCLI(t, env, "", "users", "list"); !strings.Contains(list, "disabled") {
		t.Errorf("users list after disable = %q; want bob disabled", list)
	}
	if code, _ := c.login("bob", "a brand new passphrase"); code == 200 {
		t.Error("a disabled user logged in")
	}
	mustCLI(t, env, "", "users", "enable", "--username", "bob")
	if code, _ := c.login("bob", "a brand new passphrase"); code != 200 {
		t.Errorf("login after enable: %d; want 200", code)
	}
	if code, _, errOut := runCLI(t, env, "", "users", "disable", "--username", "carol"); code != 1 || !strings.Contains(errOut, `no user "carol"`) {
		t.Errorf("users disable of an unknown user: exit %d, %q", code, errOut)
	}
}

func TestRun_Version(t *testing.T) {
	for _, arg := range []string{"version", "--version"} {
		out, _ := mustCLI(t, nil, "", arg)
		if !strings.HasPrefix(out, "authgate dev") {
			t.Errorf("authgate %s = %q; want authgate dev…", arg, out)
		}
	}
}

func TestRun_UnknownVariablesWarn(t *testing.T) {
	env := testEnv(dbtest.URL(t), "AUTHGATE_CACHE_TTLL", "5s")
	_, errOut := mustCLI(t, env, "", "keys", "list")
	if want := "AUTHGATE_CACHE_TTLL is not a known variable; did you mean AUTHGATE_CACHE_TTL?"; !strings.Contains(errOut, want) {
		t.Errorf("stderr %q; want %q", errOut, want)
	}
}
