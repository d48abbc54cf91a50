// Command bare is the ceiling for scripts/bench.sh: an Echo server whose only
// handler answers 200 and does nothing else. authgate's /forward-auth is
// measured against it, so the ratio shows what the verifier itself costs on
// top of Go's HTTP stack and Echo's router.
//
// It has three modes, one binary:
//
//   - plain (the default): two small headers. The ceiling of any Echo handler.
//   - identity (-identity, or BARE_IDENTITY=1): the eight X-Auth-* identity
//     headers authgate sends on an allow, with realistic values. The ratio to
//     this ceiling is what authgate's implementation costs; the gap between the
//     two ceilings is what the header contract itself costs.
//   - deny (-deny): what authgate answers /forward-auth for an invalid
//     credential: 401 with its WWW-Authenticate challenge, a new X-Request-Id
//     made as authgate makes one, and its JSON body. The ceiling of a deny.
//
// Usage:
//
//	bare -addr 127.0.0.1:18081 [-identity | -deny]   (or BARE_ADDR=… BARE_IDENTITY=1 bare)
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
)

func main() {
	def := os.Getenv("BARE_ADDR")
	if def == "" {
		def = "127.0.0.1:18081"
	}
	addr := flag.String("addr", def, "host:port to listen on (default from BARE_ADDR)")
	identity := flag.Bool("identity", os.Getenv("BARE_IDENTITY") == "1",
		"answer with authgate's eight identity headers (default from BARE_IDENTITY=1)")
	deny := flag.Bool("deny", false, "answer as authgate denies an invalid credential: 401, challenge, request id, JSON body")
	flag.Parse()
	if *identity && *deny {
		fmt.Fprintln(os.Stderr, "bare: -identity and -deny are two modes; choose one")
		os.Exit(2)
	}

	handler := allowHandler(plain)
	switch {
	case *identity:
		handler = allowHandler(full)
	case *deny:
		handler = denyHandler()
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Every path and method, so the bench can send authgate's exact request here.
	e.Any("/*", handler)

	// The same server settings as authgate's listeners (cmd/authgate/listen.go),
	// so only the handler differs: net/http arms a read and a write deadline per
	// request when ReadTimeout and WriteTimeout are set, and that costs time.
	srv := &http.Server{
		Addr:              *addr,
		Handler:           e,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       3 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

// What authgate answers an invalid credential on /forward-auth (verify/deny.go).
var (
	challenge = []string{`Bearer realm="authgate", error="invalid_token"`}
	denyBody  = []byte(`{"error":"invalid_token","error_description":"the credential is malformed, unknown, expired, disabled or revoked"}`)
)

// allowHandler answers 200 with headers.
func allowHandler(headers []header) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		// Canonical keys assigned directly, as authgate writes its identity headers.
		for _, kv := range headers {
			h[kv.name] = kv.value
		}
		return c.NoContent(http.StatusOK)
	}
}

// denyHandler answers as authgate denies an invalid credential.
func denyHandler() echo.HandlerFunc {
	var seq atomic.Uint64
	return func(c echo.Context) error {
		h := c.Response().Header()
		h["Www-Authenticate"] = challenge
		// A new id per answer, as authgate makes one when the proxy sent none
		// (verify/requestid.go): a prefix, a stripe and a counter.
		var buf [40]byte
		id := string(strconv.AppendUint(append(buf[:0], "bench123-0-"...), seq.Add(1), 36))
		h[echo.HeaderXRequestID] = []string{id}
		return c.JSONBlob(http.StatusUnauthorized, denyBody)
	}
}

type header struct {
	name  string
	value []string
}

// Header values built once: the ceiling must not allocate per request either.
var (
	plain = []header{
		{"X-Auth-Subject", []string{"key:bench"}},
		{"X-Auth-Key-Id", []string{"0190b5c2-7a3e-7f00-8000-000000000000"}},
	}
	// full is what authgate sends for a personal token, the kind that fills
	// every header (see verify/doc.go), with values of a typical size.
	full = []header{
		{"X-Auth-Subject", []string{"usr_0190b5c27a3e7f008000000000000001"}},
		{"X-Auth-Kind", []string{"token"}},
		{"X-Auth-Key-Id", []string{"tok_0190b5c27a3e7f008000000000000002"}},
		{"X-Auth-Key-Name", []string{"bench laptop"}},
		{"X-Auth-Scopes", []string{"bench:read"}},
		{"X-Auth-User", []string{"bench"}},
		{"X-Auth-Email", []string{"bench@example.com"}},
		{"X-Auth-Roles", []string{"bench"}},
	}
)
