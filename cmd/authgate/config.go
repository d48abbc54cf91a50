package main

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"

	"github.com/authgate/authgate/verify"
)

// Config is everything authgate reads from its environment. It is resolved and
// validated once, at start; nothing else reads the environment.
type Config struct {
	DatabaseURL      string        `env:"DATABASE_URL" help:"Postgres connection URL, e.g. postgres://authgate@127.0.0.1:5432/authgate (make run starts a private Postgres and sets it)"`
	Secret           string        `env:"AUTHGATE_SECRET" help:"server secret, at least 32 characters; keys are hashed under it, so keep it stable (generate: head -c 32 /dev/urandom | base64)"`
	Addr             string        `env:"AUTHGATE_ADDR" envDefault:"127.0.0.1:8080" help:"host:port to listen on for the verify endpoints and the management API"`
	Migrate          bool          `env:"AUTHGATE_MIGRATE" envDefault:"true" help:"apply database migrations at start (false: run 'authgate migrate' yourself)"`
	CacheTTL         time.Duration `env:"AUTHGATE_CACHE_TTL" envDefault:"10s" help:"how long a verified key is trusted without asking Postgres, 100ms to 10s: the revocation bound when change notifications are lost"`
	NegativeCacheTTL time.Duration `env:"AUTHGATE_NEGATIVE_CACHE_TTL" envDefault:"5s" help:"how long an unknown key id is remembered, 100ms to 5s"`
	CacheSize        int           `env:"AUTHGATE_CACHE_SIZE" envDefault:"100000" help:"most keys held in the verify cache, 100 to 10000000"`
	LogLevel         slog.Level    `env:"AUTHGATE_LOG_LEVEL" envDefault:"info" help:"debug, info, warn or error; logs are JSON on stderr"`
	ShutdownTimeout  time.Duration `env:"AUTHGATE_SHUTDOWN_TIMEOUT" envDefault:"10s" help:"how long in-flight requests may finish after SIGINT/SIGTERM"`
}

// LoadConfig reads the configuration from environ (NAME → value) and checks it.
// needDB and needSecret say whether the command at hand uses them. Errors name
// the variable and say how to fix it.
func LoadConfig(environ map[string]string, needDB, needSecret bool) (Config, error) {
	var c Config
	if err := env.ParseWithOptions(&c, env.Options{Environment: environ}); err != nil {
		return c, configError(err)
	}
	var errs []error
	bad := func(name, format string, args ...any) { errs = append(errs, fmt.Errorf(name+" "+format, args...)) }
	if needDB && c.DatabaseURL == "" {
		bad("DATABASE_URL", "is not set: point it at a Postgres database, e.g. postgres://authgate@127.0.0.1:5432/authgate (or use 'make run', which starts a private one)")
	}
	if needSecret && len(c.Secret) < 32 {
		bad("AUTHGATE_SECRET", "must be at least 32 characters (it has %d): generate one with 'head -c 32 /dev/urandom | base64' and keep it, since keys hashed under one secret do not verify under another", len(c.Secret))
	}
	if c.Addr == "" || !strings.Contains(c.Addr, ":") {
		bad("AUTHGATE_ADDR", "must be host:port, e.g. 127.0.0.1:8080 or :8080 (got %q)", c.Addr)
	}
	if c.CacheTTL < 100*time.Millisecond || c.CacheTTL > 10*time.Second {
		bad("AUTHGATE_CACHE_TTL", "must be between 100ms and 10s (got %s): it bounds how long a revoked key keeps working", c.CacheTTL)
	}
	if c.NegativeCacheTTL < 100*time.Millisecond || c.NegativeCacheTTL > 5*time.Second {
		bad("AUTHGATE_NEGATIVE_CACHE_TTL", "must be between 100ms and 5s (got %s)", c.NegativeCacheTTL)
	}
	if c.CacheSize < 100 || c.CacheSize > 10_000_000 {
		bad("AUTHGATE_CACHE_SIZE", "must be between 100 and 10000000 (got %d)", c.CacheSize)
	}
	if c.ShutdownTimeout <= 0 {
		bad("AUTHGATE_SHUTDOWN_TIMEOUT", "must be a positive duration such as 10s (got %s)", c.ShutdownTimeout)
	}
	return c, errors.Join(errs...)
}

// Hasher returns the hasher for key secrets. Its key (version 1) is derived
// from the server secret, so the secret itself is never used as a MAC key.
func (c Config) Hasher() (*verify.Hasher, error) {
	k, err := hkdf.Key(sha256.New, []byte(c.Secret), nil, "authgate api-key mac v1", 32)
	if err != nil {
		return nil, err
	}
	return verify.NewHasher(map[int16][]byte{1: k}, 1)
}

// configError rewrites the parser's errors to name the variable.
func configError(err error) error {
	var agg env.AggregateError
	if !errors.As(err, &agg) {
		return err
	}
	var errs []error
	for _, e := range agg.Errors {
		var pe env.ParseError
		if errors.As(e, &pe) {
			f, _ := reflect.TypeFor[Config]().FieldByName(pe.Name)
			errs = append(errs, fmt.Errorf("%s is not a valid %s: %v", f.Tag.Get("env"), kindName(pe.Type), pe.Err))
			continue
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

func kindName(t reflect.Type) string {
	switch t {
	case reflect.TypeFor[time.Duration]():
		return "duration (use e.g. 500ms, 10s, 1m)"
	case reflect.TypeFor[bool]():
		return "boolean (true or false)"
	case reflect.TypeFor[int]():
		return "whole number"
	case reflect.TypeFor[slog.Level]():
		return "log level (debug, info, warn or error)"
	}
	return t.String()
}

// configHelp lists every variable with its default and meaning, for --help.
func configHelp() string {
	var b strings.Builder
	t := reflect.TypeFor[Config]()
	for i := range t.NumField() {
		f := t.Field(i)
		def := f.Tag.Get("envDefault")
		if def == "" {
			def = "(none)"
		}
		fmt.Fprintf(&b, "  %-28s default %-16s %s\n", f.Tag.Get("env"), def, f.Tag.Get("help"))
	}
	return b.String()
}
