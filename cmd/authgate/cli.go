package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/issue"
)

func migrate(ctx context.Context, environ map[string]string, stderr io.Writer) error {
	cfg, err := LoadConfig(environ, true, false)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer store.Close()
	fmt.Fprintln(stderr, "authgate: database is up to date")
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

// openStore connects to the database and, when migrate is set, brings its
// schema up to date.
func openStore(ctx context.Context, cfg Config, migrate bool) (*db.DB, error) {
	store, err := db.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := store.Migrate(ctx); err != nil {
			store.Close()
			return nil, err
		}
	}
	return store, nil
}

// openService opens the database (migrating it unless AUTHGATE_MIGRATE=false)
// and the issuer over it, with the configuration's policies, for the commands
// that write straight to the database. The caller closes the store.
func openService(ctx context.Context, environ map[string]string) (*db.DB, *issue.Service, error) {
	cfg, err := LoadConfig(environ, true, true)
	if err != nil {
		return nil, nil, err
	}
	hasher, err := cfg.Hasher()
	if err != nil {
		return nil, nil, err
	}
	store, err := openStore(ctx, cfg, cfg.Migrate)
	if err != nil {
		return nil, nil, err
	}
	return store, issue.NewService(store, hasher, nil, cfg.IssuerOptions()), nil
}

// keys runs 'authgate keys create': the bootstrap path, straight to the database.
func keys(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: authgate keys create --name NAME [--scope S]... [--if-none]")
	}
	fs := flag.NewFlagSet("authgate keys create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "name of the key (1 to 100 characters)")
	var scopes scopeList
	fs.Var(&scopes, "scope", "scope the key holds (repeatable)")
	ifNone := fs.Bool("if-none", false, "create the key only if no key exists yet")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; scopes go in --scope", fs.Arg(0))
	}
	store, svc, err := openService(ctx, environ)
	if err != nil {
		return err
	}
	defer store.Close()
	if *ifNone {
		n, err := svc.CountKeys(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			fmt.Fprintf(stderr, "authgate: %d key(s) exist already; not creating another\n", n)
			return nil
		}
	}
	k, err := svc.CreateKey(ctx, issue.NewKey{Name: *name, Scopes: scopes}, issue.CLI())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, k.Secret)
	fmt.Fprintf(stderr, "authgate: created key %s (%s) with scopes [%s]; it is shown once and stored only hashed\n",
		k.ID, k.Name, strings.Join(k.Scopes, " "))
	return nil
}

type scopeList []string

func (s *scopeList) String() string     { return strings.Join(*s, " ") }
func (s *scopeList) Set(v string) error { *s = append(*s, v); return nil }

// users runs 'authgate users create': the bootstrap path for the first person,
// straight to the database. The password comes from standard input, never from
// arguments, which other users of the machine can read.
func users(ctx context.Context, args []string, environ map[string]string, stdin io.Reader, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: authgate users create --username NAME --email ADDR [--full-name NAME] [--role R]... [--if-none] < password")
	}
	fs := flag.NewFlagSet("authgate users create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	username := fs.String("username", "", "login name (letters, digits and . _ -)")
	email := fs.String("email", "", "email address")
	fullName := fs.String("full-name", "", "full name")
	var roles scopeList
	fs.Var(&roles, "role", "role to assign (repeatable), e.g. admin")
	ifNone := fs.Bool("if-none", false, "create the user only if no user exists yet")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; the password is read from standard input", fs.Arg(0))
	}
	store, svc, err := openService(ctx, environ)
	if err != nil {
		return err
	}
	defer store.Close()
	if *ifNone {
		n, err := store.UserCount(ctx)
		if err != nil {
			return err
		}
		if n > 0 {
			fmt.Fprintf(stderr, "authgate: %d user(s) exist already; not creating another\n", n)
			return nil
		}
	}
	if stdin == nil {
		return errors.New("the password must come on standard input")
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, issue.MaxPasswordLen*4+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the password from standard input: %w", err)
	}
	password := strings.TrimRight(line, "\r\n")
	u, err := svc.CreateUser(ctx, issue.NewUser{Username: *username, Email: *email, FullName: *fullName,
		Password: password, Roles: roles}, issue.CLI())
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "authgate: created user %s (%s) with roles [%s]\n", u.ID, u.Username, strings.Join(u.Roles, " "))
	return nil
}
