// Command posts runs the posts example: SpacetimeDB's post table with an
// autoinc primary key, the zero trigger and explicit ids for migrated data.
//
//	go run ./examples/posts
package main

import (
	"fmt"
	"os"

	"github.com/keeldb/keel/examples/posts/blog"
	"github.com/keeldb/keel/runtime"
)

func main() {
	rt, err := runtime.Open(blog.Module, runtime.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer rt.Close()
	if _, err := blog.Demo(blog.NewClient(rt, "main"), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
