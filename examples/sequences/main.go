// Command sequences runs the sequences example: u8 and i16 sequences with
// negative increments, wrapping and nocycle, in a database that is closed
// and reopened from disk halfway to show values continuing past the
// persisted boundary.
//
//	go run ./examples/sequences
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/keeldb/keel/examples/sequences/seqs"
)

func main() {
	dir, err := os.MkdirTemp("", "keel-sequences-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	_, err = seqs.Demo(context.Background(), dir, os.Stdout)
	if rerr := os.RemoveAll(dir); err == nil {
		err = rerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
