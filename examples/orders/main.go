// Command orders runs the orders example: Table Store's composite key of a
// partition key and an autoinc column, the full key returned (RT_PK), and
// the row-existence conditions IGNORE, EXPECT_EXIST and EXPECT_NOT_EXIST.
//
//	go run ./examples/orders
package main

import (
	"fmt"
	"os"

	"github.com/keeldb/keel/examples/orders/shop"
	"github.com/keeldb/keel/runtime"
)

func main() {
	rt, err := runtime.Open(shop.Module, runtime.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer rt.Close()
	if _, err := shop.Demo(shop.NewClient(rt, "main"), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
