package verify

import (
	"sync"
	"sync/atomic"
	"time"
)

// DenyList is an in-memory set of revoked sessions, each until a time after
// which it need not be remembered: by then every access token of the session
// has expired. It is a SessionDenyList, safe for concurrent use, and answers
// Revoked with one map lookup under a read lock.
//
// Whoever feeds it (announcements of revoked sessions, and a periodic poll for
// those that were missed) should set until no earlier than the session's last
// token expiry plus the verifier's leeway.
type DenyList struct {
	now func() time.Time

	mu    sync.RWMutex
	until map[string]time.Time // session id → revoked until

	trusted atomic.Int64 // unix nanoseconds until which the list is known complete; 0: always
}

var _ SessionDenyList = (*DenyList)(nil)

// NewDenyList returns an empty DenyList that judges expiry by now (time.Now if nil).
func NewDenyList(now func() time.Time) *DenyList {
	if now == nil {
		now = time.Now
	}
	return &DenyList{now: now, until: map[string]time.Time{}}
}

// Add revokes the session with this id until the given time. Adding a session
// already present keeps the later of the two times, so a poll repeating an
// announcement never shortens it.
func (d *DenyList) Add(sessionID string, until time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if cur, ok := d.until[sessionID]; !ok || until.After(cur) {
		d.until[sessionID] = until
	}
}

// Revoked reports whether the session with this id is revoked now: true from
// Add until its time has passed.
func (d *DenyList) Revoked(sessionID string) bool {
	d.mu.RLock()
	until, ok := d.until[sessionID]
	d.mu.RUnlock()
	return ok && d.now().Before(until)
}

// Prune forgets the sessions whose time has passed. Call it periodically; the
// set otherwise grows with every revocation.
func (d *DenyList) Prune() {
	now := d.now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for id, until := range d.until {
		if !now.Before(until) {
			delete(d.until, id)
		}
	}
}

// Len returns how many sessions the list holds, including any whose time has
// passed but that Prune has not yet dropped.
func (d *DenyList) Len() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return len(d.until)
}

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

// Current reports whether the list may be trusted now (see TrustUntil).
func (d *DenyList) Current() bool {
	t := d.trusted.Load()
	return t == 0 || d.now().UnixNano() < t
}
