package main

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/authgate/authgate/db/dbtest"
)

// startErr starts an instance that must refuse to start, and returns why.
func startErr(t *testing.T, env map[string]string) string {
	t.Helper()
	cfg, err := LoadConfig(env, true, true)
	if err != nil {
		t.Fatal(err)
	}
	m, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler), nil)
	if err == nil {
		m.Close()
		t.Fatal("Start succeeded; want a refusal")
	}
	return err.Error()
}

func TestMain_SecretFingerprint(t *testing.T) {
	dbURL := dbtest.URL(t)
	s1, s2, s3 := strings.Repeat("1", 32), strings.Repeat("2", 32), strings.Repeat("3", 32)
	env1 := testEnv(dbURL, "AUTHGATE_SECRET", s1)
	env2 := testEnv(dbURL, "AUTHGATE_SECRET", s2)
	old := bootstrap(t, env1) // records s1
	startMain(t, env1)        // and the first start seals a signing key under it

	t.Run("AnotherSecretIsRefused", func(t *testing.T) {
		const want = "AUTHGATE_SECRET is not the secret this database was set up under"
		if got := startErr(t, env2); !strings.Contains(got, want) || !strings.Contains(got, ".data/secret") ||
			!strings.Contains(got, "AUTHGATE_SECRET_PREVIOUS") {
			t.Errorf("Start under another secret: %q; want %q, the fix and the way to rotate", got, want)
		}
		if code, _, errOut := runCLI(t, env2, "", "keys", "list"); code != 1 || !strings.Contains(errOut, want) {
			t.Errorf("keys list under another secret: exit %d, %q; want 1 and %q", code, errOut, want)
		}
	})
	t.Run("WrongPreviousIsRefused", func(t *testing.T) {
		env := testEnv(dbURL, "AUTHGATE_SECRET", s1, "AUTHGATE_SECRET_PREVIOUS", s3)
		if got := startErr(t, env); !strings.Contains(got, "AUTHGATE_SECRET_PREVIOUS is not the secret this database was last rotated from") {
			t.Errorf("Start with a previous secret never rotated from: %q", got)
		}
	})

	var logs syncBuffer
	rotated := startMain(t, testEnv(dbURL, "AUTHGATE_SECRET", s2, "AUTHGATE_SECRET_PREVIOUS", s1), &logs)
	c := client{t, rotated.URL()}
	t.Run("RotationKeepsOldCredentials", func(t *testing.T) {
		if !strings.Contains(logs.String(), "AUTHGATE_SECRET rotated") || !strings.Contains(logs.String(), "1 signing key(s) resealed") {
			t.Errorf("log %q; want the rotation reported with the resealed signing key", logs.String())
		}
		if code := c.forwardAuth(old, "authgate:admin"); code != 200 {
			t.Errorf("a key made before the rotation: %d; want 200", code)
		}
	})
	_, fresh := c.createKey(old, `{"name": "after", "scopes": ["events:read"]}`)
	t.Run("SecondInstanceAfterRotation", func(t *testing.T) {
		m := startMain(t, testEnv(dbURL, "AUTHGATE_SECRET", s2, "AUTHGATE_SECRET_PREVIOUS", s1))
		c := client{t, m.URL()}
		if c.forwardAuth(old, "authgate:admin") != 200 || c.forwardAuth(fresh, "events:read") != 200 {
			t.Error("keys from before and after the rotation do not both verify")
		}
	})
	t.Run("PreviousUnset", func(t *testing.T) {
		var logs syncBuffer
		m := startMain(t, env2, &logs)
		if want := "1 API key(s) and 0 personal token(s) were made under an AUTHGATE_SECRET this server does not hold"; !strings.Contains(logs.String(), want) {
			t.Errorf("log %q; want %q", logs.String(), want)
		}
		c := client{t, m.URL()}
		if code := c.forwardAuth(fresh, "events:read"); code != 200 {
			t.Errorf("a key made after the rotation: %d; want 200", code)
		}
		if code := c.forwardAuth(old, "authgate:admin"); code != 401 {
			t.Errorf("a key made before the rotation, without AUTHGATE_SECRET_PREVIOUS: %d; want 401", code)
		}
	})
	t.Run("OldSecretIsRefused", func(t *testing.T) {
		if got := startErr(t, env1); !strings.Contains(got, "AUTHGATE_SECRET is not the secret this database was set up under") {
			t.Errorf("Start under the replaced secret: %q", got)
		}
	})
	t.Run("UnrecordedDatabaseWithForeignSigningKeys", func(t *testing.T) {
		dbtest.Exec(t, dbURL, "DELETE FROM server_secret")
		got := startErr(t, testEnv(dbURL, "AUTHGATE_SECRET", s3))
		if !strings.Contains(got, "none of its 1 signing key(s) opens under it") {
			t.Errorf("Start under a third secret on an unrecorded database: %q", got)
		}
	})
}

// A database made before secrets were recorded, rotated on its first start
// with a version that records them.
func TestMain_SecretUnrecordedRotation(t *testing.T) {
	dbURL := dbtest.URL(t)
	s1, s2 := strings.Repeat("1", 32), strings.Repeat("2", 32)
	env1 := testEnv(dbURL, "AUTHGATE_SECRET", s1)
	old := bootstrap(t, env1)
	startMain(t, env1).Close()
	dbtest.Exec(t, dbURL, "DELETE FROM server_secret")

	var logs syncBuffer
	m := startMain(t, testEnv(dbURL, "AUTHGATE_SECRET", s2, "AUTHGATE_SECRET_PREVIOUS", s1), &logs)
	if !strings.Contains(logs.String(), "AUTHGATE_SECRET rotated") {
		t.Errorf("log %q; want the rotation reported", logs.String())
	}
	if code := (client{t, m.URL()}).forwardAuth(old, "authgate:admin"); code != 200 {
		t.Errorf("a key made before the rotation: %d; want 200", code)
	}
}
