package issue

import (
	"context"
	"encoding/json"
	"time"
)

// Store is the storage the issuer writes to. Methods return verify.ErrNotFound
// when no row matches and ErrConflict when a uniqueness rule is broken.
type Store interface {
	// InTx runs fn with a Store bound to one transaction, committed if fn returns
	// nil and rolled back otherwise.
	InTx(ctx context.Context, fn func(Store) error) error

	KeyInsert(ctx context.Context, d KeyDraft) (Key, error)
	KeyByID(ctx context.Context, id string) (Key, error)
	// KeyByIDForUpdate is KeyByID holding the row until the transaction ends.
	KeyByIDForUpdate(ctx context.Context, id string) (Key, error)
	KeyList(ctx context.Context, f KeyFilter) ([]Key, error)
	// KeyRevoke sets revoked_at to at unless it is already set.
	KeyRevoke(ctx context.Context, id string, at time.Time) (Key, error)
	// KeySetDisabled sets disabled_at to at, or clears it when at is nil.
	KeySetDisabled(ctx context.Context, id string, at *time.Time) (Key, error)
	KeySetExpiry(ctx context.Context, id string, at time.Time) (Key, error)
	KeyCount(ctx context.Context) (int64, error)
}

// KeyDraft is a key about to be stored.
type KeyDraft struct {
	ID          string
	LookupID    string
	SecretMAC   []byte
	MACVersion  int16
	Subject     string
	Name        string
	Scopes      []string
	Metadata    json.RawMessage
	ExpiresAt   *time.Time
	RotatedFrom *string
	CreatedAt   time.Time
	CreatedBy   string
}

// KeyFilter selects a page of keys, newest first.
type KeyFilter struct {
	State State     // "" for any
	Now   time.Time // the time State is judged at
	After *Cursor   // continue after this key; nil for the first page
	Limit int
}

// Cursor marks a position in a newest-first list of keys.
type Cursor struct {
	CreatedAt time.Time
	ID        string
}
