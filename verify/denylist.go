package verify

import (
	"sync"
	"sync/atomic"
	"time"
)

// DenyList is an in-memory set of revoked sessions, each until a time after
// which it need not be remembered: by then every access token of the session
// has expired. It is a SessionDenyList, safe for concurrent use. Revoked
// takes no lock and writes nothing: every access token and session cookie
// asks it on every use, from every core, and the sessions it holds change
// rarely (a sync.Map, whose reads of a key are atomic loads).
//
// Whoever feeds it (announcements of revoked sessions, and a periodic poll for
// those that were missed) should set until no earlier than the session's last
// token expiry plus the verifier's leeway.
type DenyList struct {
	now func() time.Time

	until sync.Map     // session id (string) → revoked until (int64 unix ns)
	n     atomic.Int64 // sessions in until

	trusted atomic.Int64 // unix nanoseconds until which the list is known complete; 0: always
}

var _ SessionDenyList = (*DenyList)(nil)

// NewDenyList returns an empty DenyList that judges expiry by now (time.Now if nil).
func NewDenyList(now func() time.Time) *DenyList {
	if now == nil {
		now = time.Now
	}
	return &DenyList{now: now}
}

// Add revokes the session with this id until the given time. Adding a session
// already present keeps the later of the two times, so a poll repeating an
// announcement never shortens it.
func (d *DenyList) Add(sessionID string, until time.Time) {
	u := until.UnixNano()
	for {
		cur, loaded := d.until.LoadOrStore(sessionID, u)
		if !loaded {
			d.n.Add(1)
			return
		}
		if u <= cur.(int64) || d.until.CompareAndSwap(sessionID, cur, u) {
			return
		}
		// Another Add (or a Prune) changed it meanwhile: look again.
	}
}

// Revoked reports whether the session with this id is revoked now, by the
// list's clock: RevokedAt(sessionID, now).
func (d *DenyList) Revoked(sessionID string) bool { return d.RevokedAt(sessionID, d.now()) }

// RevokedAt reports whether the session with this id is revoked at now: true
// from Add until its time has passed.
func (d *DenyList) RevokedAt(sessionID string, now time.Time) bool {
	until, ok := d.until.Load(sessionID)
	return ok && now.UnixNano() < until.(int64)
}

// Prune forgets the sessions whose time has passed. Call it periodically; the
// set otherwise grows with every revocation.
func (d *DenyList) Prune() {
	now := d.now().UnixNano()
	d.until.Range(func(id, until any) bool {
		// Only the time seen: an Add that extended it meanwhile stands.
		if now >= until.(int64) && d.until.CompareAndDelete(id, until) {
			d.n.Add(-1)
		}
		return true
	})
}

// Len returns how many sessions the list holds, including any whose time has
// passed but that Prune has not yet dropped.
func (d *DenyList) Len() int { return int(d.n.Load()) }

// TrustUntil records that the list holds every revocation made so far, and
// may be trusted until t. Whoever feeds the list calls it after each complete
// read of the revocations; once t passes without another call, Current is
// false and access tokens are refused rather than checked against a list that
// may be missing revocations. A list never given a time is always current.
func (d *DenyList) TrustUntil(t time.Time) { d.trusted.Store(t.UnixNano()) }

// TrustedUntil returns the time last given to TrustUntil (zero: never, the
// list is always complete).
func (d *DenyList) TrustedUntil() time.Time {
	n := d.trusted.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// Current reports whether the list may be trusted now, by the list's clock:
// CurrentAt(now).
func (d *DenyList) Current() bool { return d.CurrentAt(d.now()) }

// CurrentAt reports whether the list may be trusted at now (see TrustUntil).
func (d *DenyList) CurrentAt(now time.Time) bool {
	t := d.trusted.Load()
	return t == 0 || now.UnixNano() < t
}
