package main

import "runtime/debug"

// version is set at build time: go build -ldflags "-X main.version=v1.2.3"
// (make run and make cli set it from git describe).
var version = "dev"

// versionString is version, and for a "dev" build the VCS revision the Go
// toolchain recorded, when it did.
func versionString() string {
	if version != "dev" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return version
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value
		}
	}
	if rev == "" {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v // go install …@version
		}
		return version
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified == "true" {
		rev += "-dirty"
	}
	return version + "-" + rev
}
