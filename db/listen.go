package db

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// Channels announcing changes, named as in the migrations' triggers.
const (
	// ChannelKeys carries the lookup id of every API key that changed.
	ChannelKeys = "authgate_keys"
	// ChannelSessions carries the session id of every new deny-list entry.
	ChannelSessions = "authgate_sessions"
	// ChannelSigningKeys carries the kid of every signing key inserted, updated or deleted.
	ChannelSigningKeys = "authgate_signing_keys"
)

// Listener receives change announcements.
type Listener interface {
	// Changed is called with the payload of each announcement.
	Changed(payload string)
	// Resync is called whenever announcements may have been missed: on every
	// (re)connection, before any Changed from it.
	Resync()
}

// Listen holds a connection LISTENing on channel and passes announcements to l
// until ctx is done. When the connection drops it reconnects with backoff (up to
// maxBackoff); while it is down, announcements are lost and callers rely on
// their cache TTL.
func (db *DB) Listen(ctx context.Context, channel string, l Listener, log *slog.Logger) {
	const maxBackoff = 5 * time.Second
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		connected, err := db.listenOnce(ctx, channel, l)
		if ctx.Err() != nil {
			return
		}
		if connected {
			backoff = 100 * time.Millisecond
		}
		log.Warn("change listener disconnected; cached credentials expire by TTL until it is back",
			"channel", channel, "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// listenOnce listens on one connection until it fails. connected reports
// whether LISTEN took effect.
func (db *DB) listenOnce(ctx context.Context, channel string, l Listener) (connected bool, err error) {
	pc, err := db.pool.Acquire(ctx)
	if err != nil {
		return false, err
	}
	// LISTEN is session state: this connection never goes back to the pool.
	conn := pc.Hijack()
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return false, err
	}
	l.Resync()
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return true, err
		}
		l.Changed(n.Payload)
	}
}
