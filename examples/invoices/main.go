// Command invoices runs the invoices example: gapless invoice numbers from
// a counter row updated in the same transaction as the invoice.
//
//	go run ./examples/invoices
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/examples/invoices/billing"
)

func main() {
	db, err := keel.OpenMemory(billing.Module, keel.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer db.Close()
	if _, _, err := billing.Demo(context.Background(), billing.NewClient(db, "main"), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
