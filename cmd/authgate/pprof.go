//go:build pprof

package main

import (
	"fmt"
	"net/http"
	_ "net/http/pprof" //nolint:gosec // only in binaries built with -tags pprof, on an address the operator names
	"os"
)

// A binary built with -tags pprof (make bench with BENCH_PROFILE=1) serves
// net/http/pprof on AUTHGATE_PPROF_ADDR, so a profile can be taken under
// load. Release builds have no such listener.
func init() {
	addr := os.Getenv("AUTHGATE_PPROF_ADDR")
	if addr == "" {
		return
	}
	go func() {
		if err := http.ListenAndServe(addr, nil); err != nil { //nolint:gosec // a developer's profiling listener
			fmt.Fprintln(os.Stderr, "authgate: pprof listener:", err)
		}
	}()
}
