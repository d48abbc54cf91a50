//go:build race

package main

// raceEnabled: the race detector makes argon2 several times slower and
// multiplies the memory it takes, so the abuse figures mean nothing under it.
const raceEnabled = true
