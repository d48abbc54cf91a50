package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// Main is one running authgate: its database, verifier and HTTP server.
// End-to-end tests start several on one database.
type Main struct {
	cfg      Config
	log      *slog.Logger
	db       *db.DB
	verifier *verify.Verifier
	keys     *issue.KeySet
	deny     *verify.DenyList
	feed     *revocationFeed
	svcOpts  issue.Options
	srv      *http.Server
	ln       net.Listener
	stop     context.CancelFunc
	wg       sync.WaitGroup
}

// Start connects to the database, migrates it unless disabled, and serves on
// cfg.Addr until Close. now is the clock (nil: time.Now).
func Start(ctx context.Context, cfg Config, log *slog.Logger, now func() time.Time) (*Main, error) {
	store, err := openStore(ctx, cfg, cfg.Migrate)
	if err != nil {
		return nil, err
	}
	m := &Main{cfg: cfg, log: log, db: store}
	if err := m.start(ctx, now); err != nil {
		store.Close()
		return nil, err
	}
	return m, nil
}

func (m *Main) start(ctx context.Context, now func() time.Time) error {
	if now == nil {
		now = time.Now
	}
	hasher, err := m.cfg.Hasher()
	if err != nil {
		return err
	}
	m.svcOpts = m.cfg.IssuerOptions()
	// No token outlives its session's revocation or its key's retirement by more than this.
	tokenLife := m.cfg.AccessTTL + tokenLeeway
	if err := m.startKeys(ctx, now, tokenLife); err != nil {
		return err
	}
	m.deny = verify.NewDenyList(now)
	m.feed = newRevocationFeed(m.db, m.deny, now, tokenLife, m.log)
	if err := m.feed.load(ctx); err != nil { // before serving: no revoked session may slip through at start
		return fmt.Errorf("load session revocations: %w", err)
	}
	static, err := m.cfg.StaticKeyset(hasher)
	if err != nil {
		return err
	}
	m.verifier, err = verify.NewVerifier(m.db, hasher, verify.Options{
		CacheSize: m.cfg.CacheSize, CacheTTL: m.cfg.CacheTTL, NegativeCacheTTL: m.cfg.NegativeCacheTTL,
		Now: now, Logger: m.log, Tokens: m.db, StaticKeys: static,
		JWT: &verify.JWTOptions{Issuer: m.cfg.JWTIssuer, Audience: m.cfg.JWTAudience, Leeway: tokenLeeway,
			Keys: m.keys, Revoked: m.deny},
	})
	if err != nil {
		return err
	}
	m.svcOpts.Signer = m.keys
	svc := issue.NewService(m.db, hasher, now, m.svcOpts)
	m.ln, err = net.Listen("tcp", m.cfg.Addr)
	if err != nil {
		return fmt.Errorf("AUTHGATE_ADDR %s: %w", m.cfg.Addr, err)
	}
	m.srv = &http.Server{
		Handler:           m.routes(svc),
		ReadHeaderTimeout: 5 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(m.log.Handler(), slog.LevelWarn),
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stop = stop
	m.goRun(func() { m.verifier.Run(bg) })
	m.goRun(func() { m.db.Listen(bg, db.ChannelKeys, forgetter{m.verifier}, m.log) })
	m.goRun(func() { m.db.Listen(bg, db.ChannelSessions, m.feed, m.log) })
	m.goRun(func() { m.feed.run(bg) })
	m.goRun(func() { m.db.Listen(bg, db.ChannelSigningKeys, keyReloader{m.keys, m.verifier, m.log}, m.log) })
	m.goRun(func() { svc.RunPrune(bg, time.Hour, m.log) })
	m.goRun(func() {
		if err := m.srv.Serve(m.ln); !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("server stopped", "err", err)
		}
	})
	m.log.Info("authgate listening", "addr", m.ln.Addr().String(), "cache_ttl", m.cfg.CacheTTL.String())
	return nil
}

func (m *Main) routes(svc *issue.Service) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// The client address for audit rows and login throttling is the peer's:
	// X-Forwarded-For would let any client pick its own.
	e.IPExtractor = echo.ExtractIPDirect()
	e.HTTPErrorHandler = issue.ErrorHandler(m.log)
	verify.NewHandler(m.verifier, m.log).Register(e)
	e.GET("/healthz", func(c echo.Context) error { return c.JSON(http.StatusOK, map[string]string{"status": "ok"}) })
	e.GET("/readyz", m.ready)
	api := issue.NewAPI(svc, m.verifier)
	api.SetKeySet(m.keys)
	api.Register(e, middleware.RequestID(), requestLog(m.log))
	return e
}

// tokenLeeway is the clock skew allowed when checking a token's times.
const tokenLeeway = 30 * time.Second

// startKeys loads the JWT signing keys, creating the first one if none exists.
func (m *Main) startKeys(ctx context.Context, now func() time.Time, overlap time.Duration) error {
	sealKey, err := m.cfg.SealKey()
	if err != nil {
		return err
	}
	sealer, err := issue.NewSealer(sealKey)
	if err != nil {
		return err
	}
	var hs []byte
	if m.cfg.JWTHS256Secret != "" {
		hs = []byte(m.cfg.JWTHS256Secret)
	}
	m.keys, err = issue.NewKeySet(m.db, sealer, issue.KeySetOptions{Alg: m.cfg.JWTAlg, HSSecret: hs,
		Overlap: overlap, Now: now, Logger: m.log})
	if err != nil {
		return err
	}
	if err := m.keys.Ensure(ctx); err != nil {
		return fmt.Errorf("signing keys: %w", err)
	}
	return nil
}

// ready answers 200 when the database answers within a second, else 503.
func (m *Main) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), time.Second)
	defer cancel()
	if err := m.db.Ping(ctx); err != nil {
		m.log.Warn("not ready", "err", err)
		return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "database unreachable"})
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// URL is the base URL the server listens on.
func (m *Main) URL() string { return "http://" + m.ln.Addr().String() }

// Close stops accepting requests, lets in-flight ones finish within
// ShutdownTimeout, and releases everything.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.ShutdownTimeout)
	defer cancel()
	err := m.srv.Shutdown(ctx)
	m.stop()
	m.wg.Wait()
	m.db.Close()
	return err
}

func (m *Main) goRun(f func()) {
	m.wg.Add(1)
	go func() { defer m.wg.Done(); f() }()
}

// forgetter passes key-change announcements to the verifier's cache.
type forgetter struct{ v *verify.Verifier }

// Changed drops one credential, or every one for "*" (a change to roles,
// grants or users, which any personal token may depend on).
func (f forgetter) Changed(lookupID string) {
	if lookupID == "*" {
		f.v.ForgetAll()
		return
	}
	f.v.Forget(lookupID)
}
func (f forgetter) Resync() { f.v.ForgetAll() }

// requestLog logs one line per management request, after it is answered.
func requestLog(log *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		HandleError: true, // let the error handler set the status before it is logged
		LogMethod:   true, LogURIPath: true, LogStatus: true, LogLatency: true, LogRequestID: true, LogError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			attrs := []any{"method", v.Method, "path", v.URIPath, "status", v.Status,
				"latency_ms", float64(v.Latency.Microseconds()) / 1000, "request_id", v.RequestID}
			if v.Error != nil {
				attrs = append(attrs, "err", v.Error.Error())
			}
			log.Info("request", attrs...)
			return nil
		},
	})
}
