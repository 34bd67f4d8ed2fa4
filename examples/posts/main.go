// Command posts runs the posts example: SpacetimeDB's post table with an
// autoinc primary key, the zero trigger and explicit ids for migrated data.
//
//	go run ./examples/posts
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/examples/posts/blog"
)

func main() {
	db, err := keel.OpenMemory(blog.Module, keel.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer db.Close()
	if _, err := blog.Demo(context.Background(), blog.NewClient(db, "main"), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
