// Command bare is the ceiling for scripts/bench.sh: an Echo server whose only
// handler answers 200 with two small headers and does nothing else. authgate's
// /forward-auth is measured against it, so the ratio shows what the verifier
// itself costs on top of Go's HTTP stack and Echo's router.
//
//	bare -addr 127.0.0.1:18081   (or BARE_ADDR=127.0.0.1:18081 bare)
package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/labstack/echo/v4"
)

func main() {
	def := os.Getenv("BARE_ADDR")
	if def == "" {
		def = "127.0.0.1:18081"
	}
	addr := flag.String("addr", def, "host:port to listen on (default from BARE_ADDR)")
	flag.Parse()

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// Every path and method, so the bench can send authgate's exact request here.
	e.Any("/*", func(c echo.Context) error {
		h := c.Response().Header()
		// Canonical keys assigned directly, as authgate writes its identity headers.
		h["X-Auth-Subject"] = subject
		h["X-Auth-Key-Id"] = keyID
		return c.NoContent(http.StatusOK)
	})

	// The same server settings as authgate's, so only the handler differs.
	srv := &http.Server{
		Addr:              *addr,
		Handler:           e,
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
	if err := srv.ListenAndServe(); err != nil {
		fmt.Fprintln(os.Stderr, "bare:", err)
		os.Exit(1)
	}
}

// Header values built once: the ceiling must not allocate per request either.
var (
	subject = []string{"key:bench"}
	keyID   = []string{"0190b5c2-7a3e-7f00-8000-000000000000"}
)
