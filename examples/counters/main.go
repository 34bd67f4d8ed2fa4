// Command counters runs the counters example: DynamoDB's counter table, a
// named counter incremented atomically and its new value used as the key
// of a row in the same transaction.
//
//	go run ./examples/counters
package main

import (
	"fmt"
	"os"

	"github.com/keeldb/keel/examples/counters/counter"
	"github.com/keeldb/keel/runtime"
)

func main() {
	rt, err := runtime.Open(counter.Module, runtime.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer rt.Close()
	if _, err := counter.Demo(counter.NewClient(rt, "main"), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
