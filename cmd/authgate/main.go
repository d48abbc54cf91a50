// Command authgate verifies credentials for reverse proxies and manages them.
// Run 'authgate --help' for commands and configuration.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/caarlos0/env/v11"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], env.ToMap(os.Environ()), os.Stdin, os.Stdout, os.Stderr))
}

const usage = `authgate: API keys and tokens for nginx auth_request, Traefik ForwardAuth and Caddy forward_auth.

Usage:
  authgate [serve]                  run the verify endpoints and the management API
  authgate migrate                  apply database migrations and exit
  authgate keys create --name NAME [--scope S]... [--if-none]
                                    create an API key straight in the database and print it once
                                    (--if-none: only when no key exists yet, for bootstrapping)
  authgate keys list [--state STATE]
                                    list the keys, newest first (never their secrets)
  authgate keys revoke ID           revoke a key for good
  authgate users create --username NAME --email ADDR [--full-name NAME] [--role R]... [--if-none]
                                    create a user straight in the database
                                    (--if-none: only when no user exists yet, for bootstrapping)
  authgate users list               list the users with their roles
  authgate users set-password --username NAME
                                    set a user's password; ends their sessions
  authgate users disable --username NAME
  authgate users enable --username NAME
                                    disable a user (ending their sessions), or enable them again
  authgate version                  print the version (also --version)
  authgate help                     show this help

The key and user commands work straight on the database, with every permission;
they need DATABASE_URL and AUTHGATE_SECRET. With 'make run', use 'make cli ARGS=...',
which sets both: make cli ARGS='users create --username alice --email a@example.com --role admin'.
A password is asked for (twice, without echo) on a terminal, or read from the
first line of standard input.

Configuration (environment variables):
`

// run executes one command and returns the process exit code.
func run(ctx context.Context, args []string, environ map[string]string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	if cmd == "migrate" || cmd == "keys" || cmd == "users" { // serve logs them, as JSON
		warnUnknown(environ, stderr)
	}
	switch cmd {
	case "serve":
		err = serve(ctx, environ, stderr)
	case "migrate":
		err = migrate(ctx, environ, stderr)
	case "keys":
		err = keys(ctx, args, environ, stdout, stderr)
	case "users":
		err = users(ctx, args, environ, stdin, stdout, stderr)
	case "version", "-version", "--version":
		fmt.Fprintln(stdout, "authgate", versionString())
		return 0
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage+configHelp())
		return 0
	default:
		err = fmt.Errorf("unknown command %q; run 'authgate --help'", cmd)
	}
	if err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stderr, "authgate:", err)
		}
		return 1
	}
	return 0
}

func serve(ctx context.Context, environ map[string]string, stderr io.Writer) error {
	cfg, err := LoadConfig(environ, true, true)
	if err != nil {
		warnUnknown(environ, stderr) // a misspelling may be why
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	for _, w := range unknownVariables(environ) {
		log.Warn(w)
	}
	defer tuneGC(environ, log)()
	m, err := Start(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("shutting down")
	return m.Close()
}

// warnUnknown prints a warning for each AUTHGATE_ variable authgate does not read.
func warnUnknown(environ map[string]string, stderr io.Writer) {
	for _, w := range unknownVariables(environ) {
		fmt.Fprintln(stderr, "authgate: warning:", w)
	}
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
