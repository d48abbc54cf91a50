package main

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/metrics"
)

// Metrics are served at /metrics, without authentication: on
// AUTHGATE_METRICS_ADDR when it is set, else on the listener of the
// management API (AUTHGATE_MANAGEMENT_ADDR when set, else AUTHGATE_ADDR).

// watchMetrics adds the figures read at scrape time: the verify cache, the
// pool, the password-hashing gate, the deny-list and the change listeners
// (m.watched, filled by watch before anything is served).
// now is the clock of the deny-list's feed.
func (m *Main) watchMetrics(svc *issue.Service, now func() time.Time) error {
	m.watched = map[string]metrics.Listener{}
	return m.metrics.Watch(metrics.Sources{
		Cache:     m.verifier.CacheStats,
		Pool:      m.db.PoolStats,
		HashQueue: svc.HashQueue,
		DenyList: func() metrics.DenyListStats {
			s := metrics.DenyListStats{Entries: m.deny.Len(), Current: m.deny.Current()}
			s.LastRead, _ = m.feed.LastRead()
			return s
		},
		Listeners: m.watched,
		Now:       now,
	})
}

// watch returns l wrapped so that the metrics see its channel's connection
// and announcements. Call it before serving. Its clock is the wall clock:
// the last announcement is exported as a Unix time.
func (m *Main) watch(channel string, l db.Listener) db.Listener {
	w := db.Watch(l, nil)
	m.watched[channel] = w
	return w
}

// registerMetrics adds /metrics to e, the management API's Echo, unless
// AUTHGATE_METRICS_ADDR gives them a listener of their own. A request for a
// portal's host is answered 404: the shipped proxy configurations send every
// path of that host to authgate, and the metrics ask for no credential.
func (m *Main) registerMetrics(e *echo.Echo) {
	if m.cfg.MetricsAddr != "" {
		return
	}
	h := echo.WrapHandler(m.metrics.Handler())
	e.GET("/metrics", func(c echo.Context) error {
		if m.portalHost(c.Request().Host) {
			return echo.ErrNotFound
		}
		return h(c)
	})
}

// portalHost reports whether host (with or without a port) is a portal's,
// from AUTHGATE_PORTAL_URLS.
func (m *Main) portalHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	for _, s := range m.cfg.sites {
		if u, err := url.Parse(s.URL); err == nil && strings.EqualFold(u.Hostname(), host) {
			return true
		}
	}
	return false
}

// listenMetrics opens AUTHGATE_METRICS_ADDR when it is set. On error it
// closes the other listeners, which are not serving yet.
func (m *Main) listenMetrics() error {
	if m.cfg.MetricsAddr == "" {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.metrics.Handler())
	l, err := listen("AUTHGATE_METRICS_ADDR", m.cfg.MetricsAddr, mux, m.log)
	if err != nil {
		for _, l := range m.listeners {
			l.ln.Close()
		}
		return err
	}
	m.metricsLn = l
	return nil
}

// serveMetrics serves AUTHGATE_METRICS_ADDR, when it is set, until ctx is done.
func (m *Main) serveMetrics(ctx context.Context) {
	l := m.metricsLn
	if l == nil {
		return
	}
	m.goRun(func() {
		if err := l.srv.Serve(l.ln); !errors.Is(err, http.ErrServerClosed) {
			m.log.Error("metrics server stopped", "addr", l.ln.Addr().String(), "err", err)
		}
	})
	m.goRun(func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		l.srv.Shutdown(sctx)
	})
	m.log.Info("metrics listening", "metrics_addr", l.ln.Addr().String())
}

// MetricsURL is the URL of /metrics.
func (m *Main) MetricsURL() string {
	if m.metricsLn != nil {
		return m.metricsLn.url() + "/metrics"
	}
	return m.ManagementURL() + "/metrics"
}
