package db

import "io/fs"

// Migrations returns the SQL files Migrate applies (goose's NNNNN_name.sql),
// for tests and tools that must know which schema Migrate makes: dbtest names
// its template database after their content.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		panic(err) // a constant, valid path: cannot happen
	}
	return sub
}
