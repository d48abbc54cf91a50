package db_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/authgate/db"
	"github.com/authgate/authgate/db/dbtest"
	"github.com/authgate/authgate/issue"
	"github.com/authgate/authgate/verify"
)

// denyFor is how long the feeds under test deny an announced session.
const denyFor = 15 * time.Minute

// clock is a clock the test moves, safe for concurrent use.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// feedFixture is a RevocationFeed from a store of the test's own into a
// deny-list, both on a clock the test moves, polling only when the test sends
// on tick.
type feedFixture struct {
	url   string // the test database's
	store *db.DB
	clock *clock
	deny  *verify.DenyList
	feed  *db.RevocationFeed
	tick  chan time.Time
	user  string
}

// newFeed returns a feed that has made its first read (Load), with no
// listener and no poll loop yet.
func newFeed(t *testing.T) *feedFixture {
	t.Helper()
	f := &feedFixture{url: dbtest.URL(t), clock: &clock{t: t0}, tick: make(chan time.Time)}
	store, err := db.Open(context.Background(), f.url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	f.store = store
	f.deny = verify.NewDenyList(f.clock.now)
	f.feed, err = db.NewRevocationFeed(store, f.deny, db.RevocationFeedOptions{
		DenyFor: denyFor, Now: f.clock.now, Tick: f.tick, Logger: discard()})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.feed.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !f.deny.Current() {
		t.Fatal("deny-list not Current after Load")
	}
	f.user = newUser(t, store, "alice", t0).ID
	return f
}

// run starts the feed's poll loop until the test ends.
func (f *feedFixture) run(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.feed.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

// poll makes the poll loop read once, and returns when that read is over:
// tick is unbuffered, so the second send is taken only after the first read.
func (f *feedFixture) poll() {
	f.tick <- f.clock.now()
	f.tick <- f.clock.now()
}

// revoke ends a new session of the fixture's user, as a logout does, and
// returns its id.
func (f *feedFixture) revoke(t *testing.T) string {
	t.Helper()
	s := newSession(t, f.store, f.user, t0)
	if _, err := f.store.SessionRevoke(context.Background(), s.ID, f.clock.now(), issue.ReasonLogout,
		f.clock.now().Add(denyFor)); err != nil {
		t.Fatal(err)
	}
	return s.ID
}

// tap is a db.Listener in front of the feed that reports each announcement
// after passing it on, so the test can wait for one to have been applied. With
// lose set it drops announcements instead, as a lost NOTIFY would be; Resync
// is passed on only once forward is set.
type tap struct {
	next     db.Listener
	lose     bool
	forward  atomic.Bool
	changed  chan string
	resynced chan struct{}
}

func (l *tap) Changed(p string) {
	if !l.lose {
		l.next.Changed(p)
	}
	l.changed <- p
}

func (l *tap) Resync() {
	if l.forward.Load() {
		l.next.Resync()
	}
	l.resynced <- struct{}{}
}

// listen connects the feed to ChannelSessions through a tap until the test
// ends, and returns once LISTEN has taken effect.
func (f *feedFixture) listen(t *testing.T, lose, forwardResync bool) *tap {
	t.Helper()
	l := &tap{next: f.feed, lose: lose, changed: make(chan string, 100), resynced: make(chan struct{}, 100)}
	l.forward.Store(forwardResync)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); f.store.Listen(ctx, db.ChannelSessions, l, discard()) }()
	t.Cleanup(func() { cancel(); <-done })
	receive(t, l.resynced, "LISTEN to take effect")
	return l
}

// receive waits up to 10s for a value from ch.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("waited 10s for %s", what)
		panic("unreachable")
	}
}

// eventually waits up to 10s for cond, which the feed makes true from a
// goroutine of its own with no other sign that it is done.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
	}
}

// cutOff ends every connection to the test database and refuses new ones
// until the returned function is called.
func (f *feedFixture) cutOff(t *testing.T) (restore func()) {
	t.Helper()
	base, name := dbtest.AdminURL(t), f.dbName(t)
	dbtest.Exec(t, base, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS false")
	// With a timeout, pg_terminate_backend (Postgres 14+) waits for each to end.
	dbtest.Exec(t, base, "SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity WHERE datname = $1", name)
	return func() { dbtest.Exec(t, base, "ALTER DATABASE "+name+" ALLOW_CONNECTIONS true") }
}

// cutListener ends the listener's connection alone, so that the pool's
// connections stay good for the read that follows its reconnection.
func (f *feedFixture) cutListener(t *testing.T) {
	t.Helper()
	dbtest.Exec(t, dbtest.AdminURL(t), `SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
		WHERE datname = $1 AND query LIKE 'LISTEN %'`, f.dbName(t))
}

func (f *feedFixture) dbName(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(f.url)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(u.Path, "/")
}

func TestNewRevocationFeed_RefusesNoDenyFor(t *testing.T) {
	if _, err := db.NewRevocationFeed(nil, verify.NewDenyList(nil), db.RevocationFeedOptions{}); err == nil {
		t.Fatal("NewRevocationFeed without DenyFor: err = nil; want an error")
	}
}

func TestRevocationFeed_AnnouncedRevokeIsDeniedAtOnce(t *testing.T) {
	f := newFeed(t)
	l := f.listen(t, false, true) // no poll loop: only the announcement can deny
	sid := f.revoke(t)
	if got := receive(t, l.changed, "the revocation's announcement"); got != sid {
		t.Fatalf("announcement = %q; want %q", got, sid)
	}
	if !f.deny.Revoked(sid) {
		t.Fatalf("Revoked(%s) = false once announced; want true", sid)
	}
	f.clock.advance(denyFor - time.Nanosecond)
	if !f.deny.Revoked(sid) {
		t.Fatalf("Revoked(%s) = false just before DenyFor; want true", sid)
	}
	f.clock.advance(time.Nanosecond)
	if f.deny.Revoked(sid) {
		t.Fatalf("Revoked(%s) = true after DenyFor; want false", sid)
	}
}

func TestRevocationFeed_CutOffGoesStale(t *testing.T) {
	f := newFeed(t)
	f.run(t)
	f.listen(t, false, true)
	restore := f.cutOff(t)
	defer restore()

	f.clock.advance(db.DefaultRevocationStaleAfter - time.Nanosecond)
	f.poll() // fails
	if !f.deny.Current() {
		t.Fatal("Current = false within StaleAfter of the last read; want true: one failed read must not refuse every token")
	}
	f.clock.advance(time.Nanosecond)
	if f.deny.Current() {
		t.Fatal("Current = true at StaleAfter since the last read; want false")
	}
	f.poll() // fails again: still stale
	if f.deny.Current() {
		t.Fatal("Current = true after a failed read past StaleAfter; want false (access tokens must fail closed)")
	}

	// Back: a read succeeds again, once the pool has dropped its dead connections.
	restore()
	eventually(t, "a poll to make the deny-list Current once the database is back",
		func() bool { f.poll(); return f.deny.Current() })
}

func TestRevocationFeed_ReconnectReloadsMissed(t *testing.T) {
	f := newFeed(t)
	f.run(t)
	l := f.listen(t, true, false) // announcements lost; no read until the reconnection
	sid := f.revoke(t)
	receive(t, l.changed, "the revocation's (lost) announcement")
	if f.deny.Revoked(sid) {
		t.Fatalf("Revoked(%s) = true with its announcement lost and no read; want false", sid)
	}

	l.forward.Store(true)
	f.cutListener(t) // it reconnects at once, and Resyncs
	receive(t, l.resynced, "the listener to reconnect")
	eventually(t, "the read after the reconnection to deny "+sid, func() bool { return f.deny.Revoked(sid) })
}

func TestRevocationFeed_PollReloadsMissed(t *testing.T) {
	f := newFeed(t)
	f.run(t) // no listener: every announcement is missed
	sid := f.revoke(t)
	f.clock.advance(db.DefaultRevocationStaleAfter)
	if f.deny.Revoked(sid) || f.deny.Current() {
		t.Fatalf("before the poll: Revoked(%s) = %t, Current = %t; want false, false", sid, f.deny.Revoked(sid), f.deny.Current())
	}
	f.poll()
	if !f.deny.Revoked(sid) || !f.deny.Current() {
		t.Fatalf("after the poll: Revoked(%s) = %t, Current = %t; want true, true", sid, f.deny.Revoked(sid), f.deny.Current())
	}
}
