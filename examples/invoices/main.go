// Command invoices runs the invoices example: gapless invoice numbers from
// a counter row updated in the same transaction as the invoice.
//
//	go run ./examples/invoices
package main

import (
	"fmt"
	"os"

	"github.com/keeldb/keel/examples/invoices/billing"
	"github.com/keeldb/keel/runtime"
)

func main() {
	rt, err := runtime.Open(billing.Module, runtime.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer rt.Close()
	if _, _, err := billing.Demo(billing.NewClient(rt, "main"), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
