package db

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/authgate/authgate/verify"
)

// Defaults of RevocationFeedOptions. After DefaultRevocationStaleAfter without
// a complete read the deny-list is no longer trusted and access tokens are
// refused (500): a revocation made meanwhile could be missing from it.
const (
	DefaultRevocationPollEvery  = 5 * time.Second
	DefaultRevocationStaleAfter = 3 * DefaultRevocationPollEvery
)

// RevocationFeedOptions configures a RevocationFeed. Zero values other than
// DenyFor take the defaults.
type RevocationFeedOptions struct {
	// DenyFor is how long an announced session is denied, counted from its
	// announcement: at least the access-token TTL plus the verifier's leeway.
	// Required.
	DenyFor time.Duration
	// PollEvery is how often Run rereads every revocation
	// (DefaultRevocationPollEvery).
	PollEvery time.Duration
	// StaleAfter is how long after the start of its last complete read the
	// deny-list stays Current (DefaultRevocationStaleAfter). Keep it a few
	// PollEvery, so that one failed read does not refuse every access token.
	StaleAfter time.Duration
	// Now is the clock (time.Now). It should be the deny-list's clock too.
	Now func() time.Time
	// Tick, when set, replaces the ticker of PollEvery: Run rereads once per
	// value received. Tests use it to poll when they choose.
	Tick <-chan time.Time
	// Logger receives a warning for each failed read (discarded if nil).
	Logger *slog.Logger
}

// RevocationFeed keeps a verify.DenyList of revoked sessions in step with the
// session_revocations table. It is the Listener for ChannelSessions: each
// announcement adds its session at once, for DenyFor. Because announcements
// are lost while the listener is down, Run also rereads every live row of the
// table on each Resync (every reconnection) and every PollEvery; each complete
// read keeps the list Current for StaleAfter, and once reads have failed that
// long the list stops being Current and the verifier refuses access tokens
// rather than admit one whose revocation it may have missed.
//
// It rereads the whole table rather than the rows past the last seq seen: a
// transaction may commit a smaller seq after a larger one was read, and the
// table holds only revocations younger than an access-token lifetime, so it
// is small.
type RevocationFeed struct {
	db     *DB
	deny   *verify.DenyList
	opts   RevocationFeedOptions
	resync chan struct{}
}

var _ Listener = (*RevocationFeed)(nil)

// NewRevocationFeed returns a feed from store into deny. It reads nothing
// until Load or Run. Returns an error if opts.DenyFor is not positive.
func NewRevocationFeed(store *DB, deny *verify.DenyList, opts RevocationFeedOptions) (*RevocationFeed, error) {
	if opts.DenyFor <= 0 {
		return nil, errors.New("revocation feed: DenyFor must be positive")
	}
	if opts.PollEvery <= 0 {
		opts.PollEvery = DefaultRevocationPollEvery
	}
	if opts.StaleAfter <= 0 {
		opts.StaleAfter = DefaultRevocationStaleAfter
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &RevocationFeed{db: store, deny: deny, opts: opts, resync: make(chan struct{}, 1)}, nil
}

// Changed denies the announced session for DenyFor from now.
func (f *RevocationFeed) Changed(sessionID string) {
	f.deny.Add(sessionID, f.opts.Now().Add(f.opts.DenyFor))
}

// Resync asks Run for an immediate read. It never blocks: requests made while
// one is pending are merged.
func (f *RevocationFeed) Resync() {
	select {
	case f.resync <- struct{}{}:
	default:
	}
}

// Load reads every revocation that still denies tokens into the deny-list
// and, if the read is complete, trusts the list for StaleAfter from the
// read's start. Call it before serving, so that no revoked session slips
// through at start-up; on error the list's trust is left as it was.
func (f *RevocationFeed) Load(ctx context.Context) error {
	now := f.opts.Now()
	revs, err := f.db.SessionRevocationsSince(ctx, 0, now)
	if err != nil {
		return err
	}
	for _, r := range revs {
		f.deny.Add(r.SessionID, r.ExpiresAt)
	}
	f.deny.TrustUntil(now.Add(f.opts.StaleAfter))
	return nil
}

// Run rereads the revocations at every tick and every Resync until ctx is
// done, pruning expired entries as it goes: from memory at every read, from
// the table at most hourly. It does not read at once: call Load first.
func (f *RevocationFeed) Run(ctx context.Context) {
	tick := f.opts.Tick
	if tick == nil {
		t := time.NewTicker(f.opts.PollEvery)
		defer t.Stop()
		tick = t.C
	}
	var pruned time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		case <-f.resync:
		}
		if err := f.Load(ctx); err != nil && ctx.Err() == nil {
			f.opts.Logger.Warn("cannot read session revocations; retrying",
				"err", err, "retry_in", f.opts.PollEvery, "stale_after", f.opts.StaleAfter)
		}
		f.deny.Prune()
		if now := f.opts.Now(); now.Sub(pruned) > time.Hour {
			if _, err := f.db.SessionRevocationsPrune(ctx, now); err == nil {
				pruned = now
			}
		}
	}
}
