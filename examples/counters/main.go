// Command counters runs the counters example: DynamoDB's counter table, a
// named counter incremented atomically and its new value used as the key
// of a row in the same transaction.
//
//	go run ./examples/counters
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/examples/counters/counter"
)

func main() {
	db, err := keel.OpenMemory(counter.Module, keel.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer db.Close()
	if _, err := counter.Demo(context.Background(), counter.NewClient(db, "main"), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
