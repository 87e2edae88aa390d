// Command harrier investigates breaches in AWS: it ingests CloudTrail evidence
// into a case folder and answers questions about it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/harrier-ir/harrier/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
