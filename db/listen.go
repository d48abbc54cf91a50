package db

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// Channels announcing changes, named as in the migrations' triggers. Each
// announcement is sent by a trigger at the commit of the change, so a receiver
// never sees one for a change that was rolled back, and sees those of one
// connection in commit order. Announcements are lost while a receiver's
// connection is down; Listen then calls Resync, and each receiver below says
// how it recovers.
const (
	// ChannelKeys carries a change to a credential the verifier may cache.
	//
	//   - api_keys_notify_write, api_keys_notify_update (00001, on api_keys) and
	//     personal_tokens_notify_write, personal_tokens_notify_update (00003, on
	//     personal_tokens) send the lookup id of the key or token inserted,
	//     deleted, or updated in anything but last_used_at.
	//   - user_roles_notify, role_permissions_notify, permissions_notify and
	//     users_notify (00003, function rbac_notify) send AllCredentials once per
	//     statement that changes a role assignment, a grant, a permission, or a
	//     user's state or name: any personal token may depend on it.
	//
	// The receiver is a Forgetter: it drops the one credential from the
	// verifier's cache, or every cached credential for AllCredentials.
	ChannelKeys = "authgate_keys"
	// ChannelSessions carries the session id of every new deny-list entry:
	// session_revocations_notify (00002) fires on each insert into
	// session_revocations, which SessionRevoke and SessionRevokeAllForUser make
	// only for a session they actually end.
	//
	// The receiver is a RevocationFeed: it adds the session to the verifier's
	// deny-list at once, and rereads the whole table on Resync and every poll.
	ChannelSessions = "authgate_sessions"
	// ChannelSigningKeys carries the kid of every signing key inserted, updated
	// or deleted: signing_keys_notify (00002) fires for each row.
	//
	// The receiver is a SigningKeyReloader: it reloads the key set and drops
	// every cached credential, so a retired key stops admitting cached tokens.
	ChannelSigningKeys = "authgate_signing_keys"
)

// AllCredentials is the payload on ChannelKeys that stands for every
// credential: the verifier must forget them all.
const AllCredentials = "*"

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
		if d, ok := l.(interface{ Disconnected() }); ok { // a WatchedListener (metrics)
			d.Disconnected()
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

// CredentialCache is what a Forgetter clears: verify.Verifier is one.
type CredentialCache interface {
	// Forget drops the API key and the personal token with this lookup id.
	Forget(lookupID string)
	// ForgetAll drops every cached credential.
	ForgetAll()
}

var _ CredentialCache = (*verify.Verifier)(nil)

// Forgetter is the Listener for ChannelKeys: it passes each announcement to
// Cache, so no instance keeps admitting a credential changed on another.
type Forgetter struct{ Cache CredentialCache }

var _ Listener = Forgetter{}

// Changed drops one credential, or every one for AllCredentials (a change to
// roles, grants or users, which any personal token may depend on).
func (f Forgetter) Changed(lookupID string) {
	if lookupID == AllCredentials {
		f.Cache.ForgetAll()
		return
	}
	f.Cache.Forget(lookupID)
}

// Resync drops every cached credential: any may have changed unannounced.
func (f Forgetter) Resync() { f.Cache.ForgetAll() }

// SigningKeyReloader is the Listener for ChannelSigningKeys: on any
// announcement, and on Resync, it reloads Keys and then clears Cache, so a
// retired or deleted signing key stops verifying cached tokens too. If the
// reload fails, the previous key set stays in use, Cache is kept, and the
// failure goes to Log. Every field is required.
type SigningKeyReloader struct {
	Keys  *issue.SigningKeys
	Cache CredentialCache
	Log   *slog.Logger
}

var _ Listener = SigningKeyReloader{}

// Changed reloads the key set whichever key changed.
func (r SigningKeyReloader) Changed(string) { r.reload() }

// Resync reloads the key set.
func (r SigningKeyReloader) Resync() { r.reload() }

func (r SigningKeyReloader) reload() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.Keys.Reload(ctx); err != nil {
		r.Log.Error("cannot reload signing keys; the previous set stays in use", "err", err)
		return
	}
	r.Cache.ForgetAll()
}
