// Command harrier investigates breaches in AWS: it ingests CloudTrail evidence
// into a case folder and answers questions about it.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"github.com/harrier-ir/harrier/internal/cli"
)

func main() {
	// Go's share of memory is kept near what is live, so that Go and
	// DuckDB together stay well under 1 GiB; GOMEMLIMIT overrides.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(512 << 20)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
