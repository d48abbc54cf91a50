package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"syscall"
	"time"
)

// The timeouts of every listener. They are constants, not configuration: each
// follows from what authgate is sent (small JSON bodies, or none at all on the
// verify endpoints) and from the proxies' defaults, not from the deployment.
const (
	// readHeaderTimeout bounds a request's line and headers, counted from its
	// first byte (on a new connection, from the accept).
	readHeaderTimeout = 5 * time.Second
	// readTimeout bounds the whole request, headers and body, counted from the
	// same point. A login is under 1 KiB and the verify endpoints read no body,
	// so a client still sending after this is trickling: its connection is
	// closed. (A body announced to a verify endpoint is answered at once, but
	// net/http reads it before closing the connection: this bounds that too.)
	// The handler's own work does not count: net/http clears the read
	// deadline once the body has been read.
	readTimeout = 10 * time.Second
	// writeTimeout runs from the end of the headers to the last byte of the
	// answer, so it is also the longest a handler may work (a login waiting
	// for the password hasher, a query waiting for a pool connection) and
	// still be answered; past it the client sees the connection close. Answers
	// are small, so it is far above any legitimate request.
	writeTimeout = 30 * time.Second
	// idleTimeout is how long a kept-alive connection may wait for its next
	// request. The proxies keep connections to the verify endpoints open
	// between requests (by default nginx's upstream keepalive_timeout is 60 s,
	// Traefik's idle timeout 90 s, Caddy's 2 min). The proxy should be the side
	// that closes an idle connection, or a request it sends just as authgate
	// closes one fails; so this is longer than all of them.
	idleTimeout = 3 * time.Minute
)

// listener is one address authgate serves on: AUTHGATE_ADDR, and
// AUTHGATE_MANAGEMENT_ADDR when it is set.
type listener struct {
	ln  net.Listener
	srv *http.Server
}

// listen opens addr (named by the variable that set it, for the error) and
// returns a listener serving h with the timeouts above, not yet serving.
func listen(variable, addr string, h http.Handler, log *slog.Logger) (*listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("%s %s is in use: set %s to another host:port: %w", variable, addr, variable, err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", variable, addr, err)
	}
	return &listener{ln: ln, srv: &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}}, nil
}

// url is the base URL the listener accepts on.
func (l *listener) url() string { return "http://" + l.ln.Addr().String() }
