// Command orders runs the orders example: Table Store's composite key of a
// partition key and an autoinc column, the full key returned (RT_PK), and
// the row-existence conditions IGNORE, EXPECT_EXIST and EXPECT_NOT_EXIST.
//
//	go run ./examples/orders
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/examples/orders/shop"
)

func main() {
	db, err := keel.OpenMemory(shop.Module, keel.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer db.Close()
	if _, err := shop.Demo(context.Background(), shop.NewClient(db, "main"), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
