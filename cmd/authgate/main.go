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
  authgate users create --username NAME --email ADDR [--full-name NAME] [--role R]... [--if-none]
                                    create a user straight in the database, reading the password
                                    from the first line of standard input
                                    (--if-none: only when no user exists yet, for bootstrapping)
  authgate help                     show this help

Configuration (environment variables):
`

// run executes one command and returns the process exit code.
func run(ctx context.Context, args []string, environ map[string]string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, environ, stderr)
	case "migrate":
		err = migrate(ctx, environ, stderr)
	case "keys":
		err = keys(ctx, args, environ, stdout, stderr)
	case "users":
		err = users(ctx, args, environ, stdin, stderr)
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
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	m, err := Start(ctx, cfg, log, nil)
	if err != nil {
		return err
	}
	<-ctx.Done()
	log.Info("shutting down")
	return m.Close()
}

func newLogger(w io.Writer, level slog.Level) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
