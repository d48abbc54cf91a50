package main

import (
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"
)

// version is set at build time: go build -ldflags "-X main.version=v1.2.3"
// (make run and make cli set it from git describe).
var version = "dev"

// versionString is version, and for a "dev" build the VCS revision the Go
// toolchain recorded, when it did.
func versionString() string {
	if version != "dev" {
		return version
	}
	rev, modified, mainVersion := buildVCS()
	if rev == "" {
		if mainVersion != "" && mainVersion != "(devel)" {
			return mainVersion // go install …@version
		}
		return version
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += "-dirty"
	}
	return version + "-" + rev
}

// commit is the VCS revision the binary was built from, with -dirty when
// the tree had uncommitted changes, or "unknown" when the toolchain recorded
// none (go test, go run, a build outside a repository).
func commit() string {
	rev, modified, _ := buildVCS()
	switch {
	case rev == "":
		return "unknown"
	case modified:
		return rev + "-dirty"
	}
	return rev
}

// buildVCS is what the Go toolchain recorded of the build: the revision,
// whether the tree was modified, and the main module's version.
func buildVCS() (rev string, modified bool, mainVersion string) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", false, ""
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	return rev, modified, bi.Main.Version
}

// health is the answer of GET /healthz: alive, and which build.
type health struct {
	Status  string `json:"status"` // always ok: the process answers
	Version string `json:"version"`
	Commit  string `json:"commit"`
}

// healthz is GET /healthz on every listener: 200 while the process runs,
// with the build's version and commit (the database is /readyz's concern).
func healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, health{Status: "ok", Version: versionString(), Commit: commit()})
}
