package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// revocationFeed keeps the verifier's deny-list of revoked sessions in step
// with Postgres: announcements on db.ChannelSessions add a session at once, and
// a read of every live row of session_revocations every pollEvery catches any
// that were lost while the listener was down. (Reading only rows past the last
// seq seen could miss one whose transaction committed late with a smaller seq;
// the table holds only revocations younger than an access TTL, so it is small.)
type revocationFeed struct {
	db     *db.DB
	deny   *verify.DenyList
	now    func() time.Time
	ttl    time.Duration // an announced session is denied this long: access TTL + leeway
	log    *slog.Logger
	resync chan struct{}
}

// pollEvery is how often the feed reads the revocations from Postgres. After
// staleAfter without a complete read, the deny-list is no longer trusted and
// access tokens are refused (500): a revocation made meanwhile could be missed.
const (
	pollEvery  = 5 * time.Second
	staleAfter = 3 * pollEvery
)

func newRevocationFeed(store *db.DB, deny *verify.DenyList, now func() time.Time, ttl time.Duration, log *slog.Logger) *revocationFeed {
	return &revocationFeed{db: store, deny: deny, now: now, ttl: ttl, log: log, resync: make(chan struct{}, 1)}
}

// Changed adds the announced session to the deny-list.
func (f *revocationFeed) Changed(sessionID string) { f.deny.Add(sessionID, f.now().Add(f.ttl)) }

// Resync asks the poll loop for an immediate read.
func (f *revocationFeed) Resync() {
	select {
	case f.resync <- struct{}{}:
	default:
	}
}

// load reads every revocation that still denies tokens.
func (f *revocationFeed) load(ctx context.Context) error {
	revs, err := f.db.SessionRevocationsSince(ctx, 0, f.now())
	if err != nil {
		return err
	}
	for _, r := range revs {
		f.deny.Add(r.SessionID, r.ExpiresAt)
	}
	f.deny.TrustUntil(f.now().Add(staleAfter))
	return nil
}

// run polls until ctx is done, pruning expired entries as it goes: from
// memory at every poll, from the table at most hourly.
func (f *revocationFeed) run(ctx context.Context) {
	t := time.NewTicker(pollEvery)
	defer t.Stop()
	var pruned time.Time
	for {
		if err := f.load(ctx); err != nil && ctx.Err() == nil {
			f.log.Warn("cannot read session revocations; retrying", "err", err, "retry_in", pollEvery)
		}
		f.deny.Prune()
		if now := f.now(); now.Sub(pruned) > time.Hour {
			if _, err := f.db.SessionRevocationsPrune(ctx, now); err == nil {
				pruned = now
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-f.resync:
		}
	}
}

// keyReloader reloads the signing keys when any changes, on any instance.
type keyReloader struct {
	keys     *issue.KeySet
	verifier *verify.Verifier
	log      *slog.Logger
}

func (r keyReloader) Changed(string) { r.reload() }
func (r keyReloader) Resync()        { r.reload() }

func (r keyReloader) reload() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := r.keys.Reload(ctx); err != nil {
		r.log.Error("cannot reload signing keys; the previous set stays in use", "err", err)
		return
	}
	// A retired or deleted key must stop verifying cached tokens too.
	r.verifier.ForgetAll()
}
