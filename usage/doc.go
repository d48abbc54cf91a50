// Package usage counts the verify answers each credential gets and writes the
// counts in batches, off the request path.
//
// A Counter is a verify.Observer. For every answer that names a credential
// (verify.Decision.CredentialID: an API key's key_… or a personal token's
// tok_… id, on an allow and on the denies that found the credential: wrong
// secret, expired, disabled, revoked, missing scope, rate limited), it adds
// one to the count of (credential, hour, allow or the deny's reason). Answers
// without a credential id are not counted. Observe takes a shard's read lock
// and adds to an atomic counter; it allocates only the first time a
// (credential, hour, reason) is seen in the hour.
//
// Run flushes the counts every Options.Interval (10 s) to the Store, one
// statement per flush, and once more when its context ends (best effort,
// within Options.FinalFlushTimeout). A failed write is logged and its counts
// are kept for the next flush. Memory is bounded: at most Options.MaxPending
// distinct (credential, hour, reason) are counted at once, and at most as many
// are kept from failed writes; beyond either bound an answer is dropped
// uncounted, and each flush that saw drops logs one warning saying how many.
//
// Arrows: usage stands above issue (its count type) and verify (Observer);
// *db.DB is its Store; cmd/authgate wires it.
package usage
