package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/idp"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/issue/api"
	"github.com/authgate/authgate/jwks"
	"github.com/authgate/authgate/metrics"
	"github.com/authgate/authgate/portal"
	credusage "github.com/authgate/authgate/usage"
	"github.com/authgate/authgate/verify"
)

// Main is one running authgate: its database, verifier and HTTP servers.
// End-to-end tests start several on one database.
type Main struct {
	cfg      Config
	log      *slog.Logger
	db       *db.DB
	verifier *verify.Verifier
	keys     *issue.SigningKeys
	deny     *verify.DenyList
	feed     *db.RevocationFeed
	svcOpts  issue.Options
	portal   *portal.Portal // nil without AUTHGATE_COOKIE_DOMAINS
	idps     *idp.Set       // nil without AUTHGATE_PROVIDERS
	extKeys  []*jwks.Keys   // the keys of AUTHGATE_EXTERNAL_ISSUERS
	// limiter decides the routes' rate limits; rateSync shares its counts
	// with the other instances through Postgres.
	limiter  *verify.Limiter
	rateSync *db.RateSync
	// usage counts verify answers per credential (usage.go).
	usage *credusage.Counter
	// metrics, the change listeners they watch by channel, and
	// AUTHGATE_METRICS_ADDR's listener (nil when unset) (metrics.go).
	metrics   *metrics.Metrics
	watched   map[string]metrics.Listener
	metricsLn *listener
	// listeners[0] is AUTHGATE_ADDR; listeners[1], when present, is
	// AUTHGATE_MANAGEMENT_ADDR.
	listeners []*listener
	stop      context.CancelFunc
	wg        sync.WaitGroup
}

// Start connects to the database, migrates it unless disabled, and serves on
// cfg.Addr (and cfg.ManagementAddr when set) until Close. now is the clock
// (nil: time.Now).
func Start(ctx context.Context, cfg Config, log *slog.Logger, now func() time.Time) (*Main, error) {
	store, cfg, err := openStore(ctx, cfg, cfg.Migrate, warnTo(log))
	if err != nil {
		return nil, err
	}
	m := &Main{cfg: cfg, log: log, db: store}
	if err := m.start(ctx, now); err != nil {
		m.closeBackground()
		store.Close()
		return nil, err
	}
	return m, nil
}

func (m *Main) start(ctx context.Context, now func() time.Time) error {
	verifyClock := now // nil stays nil: the verify handler then shares its one clock read per request
	if now == nil {
		now = time.Now
	}
	hasher, err := m.cfg.Hasher()
	if err != nil {
		return err
	}
	m.svcOpts = m.cfg.IssuerOptions()
	m.metrics = metrics.New()
	m.svcOpts.AuditObserver = m.metrics // logins by outcome
	// No token outlives its session's revocation or its key's retirement by more than this.
	tokenLife := m.cfg.AccessTTL + tokenLeeway
	if err := m.startKeys(ctx, now, tokenLife); err != nil {
		return err
	}
	m.deny = verify.NewDenyList(now)
	m.feed, err = db.NewRevocationFeed(m.db, m.deny, db.RevocationFeedOptions{DenyFor: tokenLife, Now: now, Logger: m.log})
	if err != nil {
		return err
	}
	if err := m.feed.Load(ctx); err != nil { // before serving: no revoked session may slip through at start
		return fmt.Errorf("load session revocations: %w", err)
	}
	static, err := m.cfg.StaticKeyset(hasher)
	if err != nil {
		return err
	}
	vo := verify.Options{
		CacheSize: m.cfg.CacheSize, CacheTTL: m.cfg.CacheTTL, NegativeCacheTTL: m.cfg.NegativeCacheTTL,
		Now: verifyClock, Logger: m.log, Tokens: m.db, StaticKeys: static,
		JWT: &verify.JWTOptions{Issuer: m.cfg.JWTIssuer, Audience: m.cfg.JWTAudience, Leeway: tokenLeeway,
			Keys: m.keys, Revoked: m.deny},
	}
	if vo.External, m.extKeys, err = startExternalIssuers(m.cfg.external, m.log); err != nil {
		return err
	}
	if len(m.cfg.sites) > 0 { // session cookies are admitted only where a portal issues them
		vo.Sessions = &verify.SessionOptions{Store: m.db, Revoked: m.deny, Cookie: m.cfg.cookieName()}
	}
	if m.verifier, err = verify.NewVerifier(m.db, hasher, vo); err != nil {
		return err
	}
	m.limiter = verify.NewLimiter(verify.DefaultLimiterCells, now)
	if m.rateSync, err = db.NewRateSync(m.db, m.limiter, db.RateSyncOptions{Instance: "ag-" + verify.RandomString(12),
		Interval: m.cfg.RateSyncInterval, Logger: m.log}); err != nil {
		return err
	}
	m.svcOpts.Signer = m.keys
	svc := issue.NewService(m.db, hasher, now, m.svcOpts)
	if err := m.watchMetrics(svc, now); err != nil {
		return err
	}
	// The roles a provider's policy names are data, not configuration: one may
	// be created after the start (through the API), so a missing one is a
	// warning here, and the provider's sign-ins fail closed until it exists.
	for _, pc := range m.cfg.providers {
		if err := svc.CheckProviderPolicy(ctx, pc.Policy); err != nil {
			m.log.Warn("provider sign-ins will fail until this is fixed", "variable", "AUTHGATE_PROVIDERS",
				"provider", pc.ID, "err", err.Error())
		}
	}
	if m.idps, err = startProviders(ctx, m.cfg.providers, m.log, now); err != nil {
		return err
	}
	if m.idps != nil && len(m.cfg.sites) == 0 {
		m.log.Warn("identity providers without a sign-in portal: only native apps' token exchange "+
			"(POST /v1/auth/oauth/login) uses them; set AUTHGATE_COOKIE_DOMAINS and AUTHGATE_PORTAL_URLS for their buttons",
			"variable", "AUTHGATE_PROVIDERS")
	}
	if len(m.cfg.sites) > 0 {
		pc := portal.Config{Sites: m.cfg.sites, Dev: m.cfg.PortalDev, CookieName: m.cfg.cookieName(), Log: m.log, Now: now}
		if m.idps != nil {
			if pc.SSOKey, err = m.cfg.SSOKey(); err != nil {
				return err
			}
			pc.Providers = m.idps
		}
		if m.portal, err = portal.New(pc, svc, m.verifier); err != nil {
			return err
		}
	}
	if err := reportLegacy(ctx, svc, func(f string) { m.log.Warn("refused on use", "row", f) }); err != nil {
		return err
	}
	m.startUsage(now)
	for i, h := range m.routes(svc) {
		variable, addr := "AUTHGATE_ADDR", m.cfg.Addr
		if i > 0 {
			variable, addr = "AUTHGATE_MANAGEMENT_ADDR", m.cfg.ManagementAddr
		}
		l, err := listen(variable, addr, h, m.log)
		if err != nil {
			for _, l := range m.listeners {
				l.ln.Close()
			}
			return err
		}
		m.listeners = append(m.listeners, l)
	}
	if err := m.listenMetrics(); err != nil {
		return err
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stop = stop
	m.goRun(func() { m.verifier.Run(bg) })
	keys := m.watch(db.ChannelKeys, db.Forgetter{Cache: m.verifier})
	sessions := m.watch(db.ChannelSessions, m.feed)
	signingKeys := m.watch(db.ChannelSigningKeys, db.SigningKeyReloader{Keys: m.keys, Cache: m.verifier, Log: m.log})
	m.goRun(func() { m.db.Listen(bg, db.ChannelKeys, keys, m.log) })
	m.goRun(func() { m.db.Listen(bg, db.ChannelSessions, sessions, m.log) })
	m.goRun(func() { m.feed.Run(bg) })
	m.goRun(func() { m.db.Listen(bg, db.ChannelSigningKeys, signingKeys, m.log) })
	m.goRun(func() { svc.RunPrune(bg, time.Hour, m.log) })
	m.goRun(func() { m.usage.Run(bg) })
	m.goRun(func() { m.rateSync.Run(bg) })
	for _, l := range m.listeners {
		m.goRun(func() {
			if err := l.srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
				m.log.Error("server stopped", "addr", l.ln.Addr().String(), "err", err)
			}
		})
	}
	m.serveMetrics(bg)
	m.log.Info("authgate listening", "version", versionString(), "addr", m.listeners[0].ln.Addr().String(),
		"management_addr", m.management().ln.Addr().String(), "cache_ttl", m.cfg.CacheTTL.String())
	return nil
}

// routes returns the handler of each listener. With one listener it serves
// everything. With AUTHGATE_MANAGEMENT_ADDR set, the first serves the verify
// endpoints (and the portal's pages, which browsers reach through the proxy)
// and the second the management API (/v1 and the JWKS), so a proxy network
// that reaches only AUTHGATE_ADDR cannot reach the API. Both answer /healthz
// and /readyz.
func (m *Main) routes(svc *issue.Service) []*echo.Echo {
	proxies := m.newEcho()
	var ho verify.HandlerOptions
	if m.portal != nil {
		ho.Portal = m.portal
		m.portal.Register(proxies, requestLog(m.log))
	}
	ho.Observer = m.observing(m.metrics)
	ho.Limiter = m.limiter
	verify.NewHandler(m.verifier, m.log, ho).Register(proxies)
	if m.cfg.ManagementAddr == "" {
		m.registerAPI(proxies, svc)
		return []*echo.Echo{proxies}
	}
	management := m.newEcho()
	m.registerAPI(management, svc)
	return []*echo.Echo{proxies, management}
}

// newEcho returns an Echo with the health routes and nothing else.
func (m *Main) newEcho() *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	// The client address for audit rows and login throttling is the peer's,
	// or from X-Forwarded-For only when the peer is a trusted proxy: believed
	// from anyone, the header would let any client pick its own.
	e.IPExtractor = clientIP(m.cfg.trustedProxies)
	e.HTTPErrorHandler = api.ErrorHandler(m.log)
	e.GET("/healthz", healthz)
	e.GET("/readyz", m.ready)
	return e
}

func (m *Main) registerAPI(e *echo.Echo, svc *issue.Service) {
	a := api.New(svc, m.verifier)
	a.SetSigningKeys(m.keys)
	if m.idps != nil {
		a.SetExternal(idTokenVerifier{set: m.idps, log: m.log})
	}
	a.Register(e, requestLog(m.log)) // Register gives each request a sanitised id first
	m.registerMetrics(e)
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
	m.keys, err = issue.NewSigningKeys(m.db, sealer, issue.SigningKeysOptions{Alg: m.cfg.JWTAlg, HSSecret: hs,
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

// URL is the base URL of AUTHGATE_ADDR, where the verify endpoints are.
func (m *Main) URL() string { return m.listeners[0].url() }

// ManagementURL is the base URL of the management API: that of
// AUTHGATE_MANAGEMENT_ADDR when it is set, else the same as URL.
func (m *Main) ManagementURL() string { return m.management().url() }

func (m *Main) management() *listener { return m.listeners[len(m.listeners)-1] }

// closeBackground stops the identity providers' discovery and the external
// issuers' key refreshes.
func (m *Main) closeBackground() {
	if m.idps != nil {
		m.idps.Close()
	}
	for _, k := range m.extKeys {
		k.Close()
	}
}

// Close stops accepting requests, lets in-flight ones finish within
// ShutdownTimeout, and releases everything.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), m.cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	for _, l := range m.listeners {
		errs = append(errs, l.srv.Shutdown(ctx))
	}
	err := errors.Join(errs...)
	m.stop()
	m.wg.Wait()
	m.closeBackground()
	m.db.Close()
	return err
}

func (m *Main) goRun(f func()) {
	m.wg.Add(1)
	go func() { defer m.wg.Done(); f() }()
}

// requestLog logs one line per management or portal request, after it is
// answered: method, path (never the query), status, latency and request id.
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
