package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/authgate/authgate/issue"
)

const keysUsage = `usage:
  authgate keys create --name NAME [--scope S]... [--if-none]
  authgate keys list [--state active|disabled|revoked|expired]
  authgate keys revoke ID`

// keys runs 'authgate keys …': the operator's path to keys, straight to the
// database, acting with every permission (issue.CLI).
func keys(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%s", keysUsage)
	}
	switch args[0] {
	case "create":
		return keysCreate(ctx, args[1:], environ, stdout, stderr)
	case "list":
		return keysList(ctx, args[1:], environ, stdout, stderr)
	case "revoke":
		return keysRevoke(ctx, args[1:], environ, stderr)
	}
	return fmt.Errorf("unknown command 'keys %s'; %s", args[0], keysUsage)
}

func keysCreate(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) error {
	fs := newFlags("authgate keys create", stderr)
	name := fs.String("name", "", "name of the key (1 to 100 characters)")
	var scopes scopeList
	fs.Var(&scopes, "scope", "scope the key holds (repeatable)")
	ifNone := fs.Bool("if-none", false, "create the key only if no key exists yet")
	if err := parseFlags(fs, args, "scopes go in --scope"); err != nil {
		return err
	}
	store, svc, err := openService(ctx, environ, stderr)
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
	k, err := svc.CreateKey(ctx, issue.KeyRequest{Name: *name, Scopes: scopes}, issue.CLI())
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, k.Secret)
	fmt.Fprintf(stderr, "authgate: created key %s (%s) with scopes [%s]; it is shown once and stored only hashed\n",
		k.ID, k.Name, strings.Join(k.Scopes, " "))
	return nil
}

func keysList(ctx context.Context, args []string, environ map[string]string, stdout, stderr io.Writer) error {
	fs := newFlags("authgate keys list", stderr)
	state := fs.String("state", "", "only keys in this state: active, disabled, revoked or expired")
	if err := parseFlags(fs, args, ""); err != nil {
		return err
	}
	store, svc, err := openService(ctx, environ, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tPREFIX\tNAME\tSTATE\tSCOPES\tEXPIRES\tLAST USED\tCREATED")
	var after *issue.Cursor
	for {
		page, next, err := svc.Keys(ctx, issue.State(*state), after, 200)
		if err != nil {
			return err
		}
		for _, k := range page {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Prefix, oneLine(k.Name), k.State,
				strings.Join(k.Scopes, " "), when(k.ExpiresAt), when(k.LastUsedAt), when(&k.CreatedAt))
		}
		if after = next; next == nil {
			break
		}
	}
	return tw.Flush()
}

func keysRevoke(ctx context.Context, args []string, environ map[string]string, stderr io.Writer) error {
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("usage: authgate keys revoke ID (the key_… id from 'authgate keys list')")
	}
	store, svc, err := openService(ctx, environ, stderr)
	if err != nil {
		return err
	}
	defer store.Close()
	k, err := svc.RevokeKey(ctx, args[0], issue.CLI())
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "authgate: revoked key %s (%s); it is refused everywhere within the revocation bound\n", k.ID, oneLine(k.Name))
	return nil
}

// newFlags returns a flag set for a subcommand that reports to stderr.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args and refuses positional arguments, with hint.
func parseFlags(fs *flag.FlagSet, args []string, hint string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		if hint != "" {
			hint = "; " + hint
		}
		return fmt.Errorf("unexpected argument %q%s", fs.Arg(0), hint)
	}
	return nil
}

// when is a time for a table: UTC to the minute, "-" for none.
func when(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

// oneLine keeps a table's rows one line each, whatever a name holds.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
