// Command frontdesk-bench drives load at a frontdesk on this machine and
// prints requests/s, latency percentiles, status counts and errors. It is a
// development tool, kept out of the shipped frontdesk binary; its scenarios
// and flags are described in docs/performance.md.
//
//	frontdesk-bench --scenario client-credentials --target http://127.0.0.1:8080 --client-secret S
//
// It refuses any target that is not a loopback address.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// exitUsage is the exit status for a command line that could not be understood.
const exitUsage = 2

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ())
	stop()
	os.Exit(code)
}

// run executes one command line and returns the process exit status: 0
// success (or -h), 1 a failed run, 2 a command line that could not be
// understood.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, env []string) int {
	err := cmdBench(ctx, args, stdout, stderr, env)
	var ue usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "frontdesk-bench: %v\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "frontdesk-bench: %v\n", err)
		return 1
	}
}

// usageError is a mistake on the command line.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }
