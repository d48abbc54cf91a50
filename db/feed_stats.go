package db

import (
	"sync/atomic"
	"time"
)

// WatchedListener is a Listener that remembers, for metrics, whether its
// channel's connection is up and when the last announcement came. Pass it to
// Listen in place of the Listener it wraps.
type WatchedListener struct {
	Listener
	now       func() time.Time
	connected atomic.Bool
	last      atomic.Int64 // unix nanoseconds of the last announcement; 0: none yet
}

var _ Listener = (*WatchedListener)(nil)

// Watch returns l wrapped in a WatchedListener on the clock now (nil: time.Now).
func Watch(l Listener, now func() time.Time) *WatchedListener {
	if now == nil {
		now = time.Now
	}
	return &WatchedListener{Listener: l, now: now}
}

// Changed records the announcement, then passes it on.
func (w *WatchedListener) Changed(payload string) {
	w.last.Store(w.now().UnixNano())
	w.Listener.Changed(payload)
}

// Resync records that the connection is up (Listen calls it on every
// connection), then passes it on.
func (w *WatchedListener) Resync() {
	w.connected.Store(true)
	w.Listener.Resync()
}

// Disconnected records that the connection is down, until the next Resync.
func (w *WatchedListener) Disconnected() { w.connected.Store(false) }

// Connected reports whether the channel's connection is up: true from a
// Resync until Disconnected.
func (w *WatchedListener) Connected() bool { return w.connected.Load() }

// LastAnnouncement returns when the last announcement came; ok is false
// before the first.
func (w *WatchedListener) LastAnnouncement() (t time.Time, ok bool) {
	n := w.last.Load()
	if n == 0 {
		return time.Time{}, false
	}
	return time.Unix(0, n), true
}

// LastRead returns when the feed's last complete read of the revocations
// began, the moment up to which its deny-list is known complete; ok is false
// when the deny-list cannot tell.
func (f *RevocationFeed) LastRead() (t time.Time, ok bool) {
	// verify.DenyList gains TrustedUntil (the time TrustUntil was last given);
	// until it has it, the age is unknown rather than guessed.
	d, ok := any(f.deny).(interface{ TrustedUntil() time.Time })
	if !ok {
		return time.Time{}, false
	}
	until := d.TrustedUntil()
	if until.IsZero() {
		return time.Time{}, false
	}
	return until.Add(-f.opts.StaleAfter), true
}
