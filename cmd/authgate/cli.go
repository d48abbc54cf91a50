package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/issue"
)

func migrate(ctx context.Context, environ map[string]string, stderr io.Writer) error {
	cfg, err := LoadConfig(environ, true, false)
	if err != nil {
		return err
	}
	store, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return connectError(err)
	}
	defer store.Close()
	n, err := store.MigrateUp(ctx)
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(stderr, "authgate: database already up to date")
	} else {
		fmt.Fprintf(stderr, "authgate: applied %d migration(s); the database is up to date\n", n)
	}
	if len(cfg.Secret) >= 32 { // migrate needs no secret; given one, it is recorded or checked
		if _, err := checkSecret(ctx, store, cfg, time.Now(), sayTo(stderr)); err != nil {
			return err
		}
	}
	svc := issue.NewService(store, nil, nil, cfg.IssuerOptions())
	return reportLegacy(ctx, svc, func(f string) { fmt.Fprintln(stderr, "authgate: refused on use:", f) })
}

// reportLegacy says, through say, what an earlier version allowed and the
// authority rules now refuse (issue.Service.Legacy), one row at a time.
func reportLegacy(ctx context.Context, svc *issue.Service, say func(string)) error {
	found, err := svc.Legacy(ctx)
	if err != nil {
		return err
	}
	for _, f := range found {
		say(f)
	}
	return nil
}

// openStore connects to the database, brings its schema up to date when
// migrate is set, and holds the configuration's secret against the one the
// database records (checkSecret, which reports a rotation through say). It
// returns cfg with what the database told of it resolved.
func openStore(ctx context.Context, cfg Config, migrate bool, say func(string)) (*db.DB, Config, error) {
	store, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, cfg, connectError(err)
	}
	if migrate {
		if err := store.Migrate(ctx); err != nil {
			store.Close()
			return nil, cfg, err
		}
	}
	if cfg, err = checkSecret(ctx, store, cfg, time.Now(), say); err != nil {
		store.Close()
		return nil, cfg, err
	}
	return store, cfg, nil
}

// sayTo reports to a person at a terminal; warnTo to the JSON log.
func sayTo(w io.Writer) func(string)       { return func(s string) { fmt.Fprintln(w, "authgate:", s) } }
func warnTo(log *slog.Logger) func(string) { return func(s string) { log.Warn(s) } }

// connectError says once why the database did not answer. pgx tries each
// address twice (with TLS, then without, under the default sslmode=prefer) and
// lists every attempt, so the same dial error would otherwise show twice.
func connectError(err error) error {
	ce, ok := errors.AsType[*pgconn.ConnectError](err)
	if !ok {
		return err
	}
	var lines []string
	var add func(error)
	add = func(e error) {
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				add(e)
			}
			return
		}
		for line := range strings.SplitSeq(e.Error(), "\n") {
			if line = strings.TrimSpace(line); line != "" && !contains(lines, line) {
				lines = append(lines, line)
			}
		}
	}
	add(ce.Unwrap())
	c := ce.Config
	return fmt.Errorf("connect to database %s@%s:%d/%s: %s (is Postgres running, and is DATABASE_URL right?)",
		c.User, c.Host, c.Port, c.Database, strings.Join(lines, "; "))
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// openService opens the database (migrating it unless AUTHGATE_MIGRATE=false)
// and the issuer over it, with the configuration's policies, for the commands
// that write straight to the database. The caller closes the store.
func openService(ctx context.Context, environ map[string]string, stderr io.Writer) (*db.DB, *issue.Service, error) {
	cfg, err := LoadConfig(environ, true, true)
	if err != nil {
		return nil, nil, err
	}
	store, cfg, err := openStore(ctx, cfg, cfg.Migrate, sayTo(stderr))
	if err != nil {
		return nil, nil, err
	}
	hasher, err := cfg.Hasher()
	if err != nil {
		store.Close()
		return nil, nil, err
	}
	return store, issue.NewService(store, hasher, nil, cfg.IssuerOptions()), nil
}

type scopeList []string

func (s *scopeList) String() string     { return strings.Join(*s, " ") }
func (s *scopeList) Set(v string) error { *s = append(*s, v); return nil }
