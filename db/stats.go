package db

import "time"

// PoolStats is the connection pool's state at one moment.
type PoolStats struct {
	Acquired int32 // connections in use now
	Idle     int32 // connections open and free now
	Total    int32 // connections open now (acquired, idle and being opened)
	Max      int32 // most connections the pool opens

	AcquireCount      int64         // acquires that succeeded, since the start
	EmptyAcquireCount int64         // of those, acquires that had to wait for a connection
	AcquireWait       time.Duration // time spent acquiring, summed over AcquireCount
}

// PoolStats returns the connection pool's state now (for metrics).
func (db *DB) PoolStats() PoolStats {
	s := db.pool.Stat()
	return PoolStats{Acquired: s.AcquiredConns(), Idle: s.IdleConns(), Total: s.TotalConns(), Max: s.MaxConns(),
		AcquireCount: s.AcquireCount(), EmptyAcquireCount: s.EmptyAcquireCount(), AcquireWait: s.AcquireDuration()}
}
