package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

const usersUsage = `usage:
  authgate users create --username NAME --email ADDR [--full-name NAME] [--role R]... [--if-none]
  authgate users list
  authgate users set-password --username NAME
  authgate users disable --username NAME
  authgate users enable --username NAME
(a password is asked for on a terminal, or read from the first line of standard input)`

// users runs 'authgate users …': the operator's path to people, straight to
// the database, acting with every permission (issue.CLI). Passwords come from
// standard input, never from arguments, which other users of the machine can
// read.
func users(ctx context.Context, args []string, environ map[string]string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", usersUsage)
	}
	switch args[0] {
	case "create":
		return usersCreate(ctx, args[1:], environ, stdin, stderr)
	case "list":
		return usersList(ctx, args[1:], environ, stdout, stderr)
	case "set-password":
		return usersSetPassword(ctx, args[1:], environ, stdin, stderr)
	case "disable", "enable":
		return usersDisable(ctx, args[0], args[1:], environ, stderr)
	}
	return fmt.Errorf("unknown command 'users %s'; %s", args[0], usersUsage)
}

func usersCreate(ctx context.Context, args []string, environ map[string]string, stdin io.Reader, stderr io.Writer) error {
	fs := newFlags("authgate users create", stderr)
	username := fs.String("username", "", "login name (letters, digits and . _ -)")
	email := fs.String("email", "", "email address")
	fullName := fs.String("full-name", "", "full name")
	var roles scopeList
	fs.Var(&roles, "role", "role to assign (repeatable), e.g. admin")
	ifNone := fs.Bool("if-none", false, "create the user only if no user exists yet")
	if err := parseFlags(fs, args, "the password is asked for, or read from standard input"); err != nil {
		return err
	}
	if *username == "" {
		return errors.New("--username is required")
	}
	store, svc, err := openService(ctx, environ, stderr)
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
	password, err := readPassword(ctx, stdin, stderr, *username)
	if err != nil {
		return err
	}
	u, err := svc.CreateUser(ctx, issue.UserRequest{Username: *username, Email: *email, FullName: *fullName,
		Password: password, Roles: roles}, issue.CLI())
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "authgate: created user %s (%s) with roles [%s]\n", u.ID, u.Username, strings.Join(u.Roles, " "))
	return nil
}

func usersList(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) error {
	if err := parseFlags(newFlags("authgate users list", stderr), args, ""); err != nil {
		return err
	}
	store, svc, err := openService(ctx, environ, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSERNAME\tEMAIL\tFULL NAME\tROLES\tSTATE\tCREATED")
	var after *issue.Cursor
	for {
		page, next, err := svc.ListUsers(ctx, after, 200)
		if err != nil {
			return err
		}
		for _, u := range page {
			state := "active"
			if u.DisabledAt != nil {
				state = "disabled"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ID, u.Username, oneLine(u.Email), orDash(oneLine(u.FullName)),
				strings.Join(u.Roles, " "), state, when(&u.CreatedAt))
		}
		if after = next; next == nil {
			break
		}
	}
	return tw.Flush()
}

func usersSetPassword(ctx context.Context, args []string, environ map[string]string, stdin io.Reader, stderr io.Writer) error {
	return onUser(ctx, "authgate users set-password", "the password is asked for, or read from standard input", args, environ, stderr,
		func(svc *issue.Service, u issue.User) error {
			password, err := readPassword(ctx, stdin, stderr, u.Username)
			if err != nil {
				return err
			}
			if _, err := svc.UpdateUser(ctx, u.ID, issue.UserUpdate{Password: &password}, issue.CLI()); err != nil {
				return err
			}
			fmt.Fprintf(stderr, "authgate: set the password of %s (%s); their sessions are ended, their personal tokens keep working\n", u.ID, u.Username)
			return nil
		})
}

func usersDisable(ctx context.Context, verb string, args []string, environ map[string]string, stderr io.Writer) error {
	return onUser(ctx, "authgate users "+verb, "", args, environ, stderr, func(svc *issue.Service, u issue.User) error {
		if _, err := svc.SetUserDisabled(ctx, u.ID, verb == "disable", issue.CLI()); err != nil {
			return err
		}
		if verb == "disable" {
			fmt.Fprintf(stderr, "authgate: disabled %s (%s): their sessions are ended and their personal tokens refused until 'users enable'\n", u.ID, u.Username)
		} else {
			fmt.Fprintf(stderr, "authgate: enabled %s (%s)\n", u.ID, u.Username)
		}
		return nil
	})
}

// onUser runs the command called name on the user its --username names: it
// parses the flags (noArgs says where what is not a flag goes), opens the
// issuer and finds the user, then calls do.
func onUser(ctx context.Context, name, noArgs string, args []string, environ map[string]string, stderr io.Writer,
	do func(*issue.Service, issue.User) error) error {
	fs := newFlags(name, stderr)
	username := fs.String("username", "", "login name (or email) of the user")
	if err := parseFlags(fs, args, noArgs); err != nil {
		return err
	}
	store, svc, err := openService(ctx, environ, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	u, err := userByName(ctx, store, *username)
	if err != nil {
		return err
	}
	return do(svc, u)
}

// userByName finds the user a command names with --username.
func userByName(ctx context.Context, store *db.DB, name string) (issue.User, error) {
	if name == "" {
		return issue.User{}, errors.New("--username is required")
	}
	u, err := store.UserByLogin(ctx, name)
	if errors.Is(err, verify.ErrNotFound) {
		return issue.User{}, fmt.Errorf("no user %q ('authgate users list' shows them)", name)
	}
	return u, err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
