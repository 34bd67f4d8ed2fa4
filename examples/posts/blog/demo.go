package blog

import (
	"context"
	"fmt"
	"io"
	"slices"
)

// Demo runs the example against a new database and returns every post in
// id order: two new posts get ids 1 and 2; two migrated posts keep their
// ids 4 and 100; the next new posts get 3 and then 5, because the
// sequence skips the 4 a migrated post took.
func Demo(ctx context.Context, c Client, w io.Writer) ([]Post, error) {
	steps := []struct {
		what string
		do   func() (Post, error)
	}{
		{"add (id 0)", func() (Post, error) { return c.AddPost(ctx, "hello", "ada", "Hello, Keel") }},
		{"add (id 0)", func() (Post, error) { return c.AddPost(ctx, "tables", "ada", "Tables are structs") }},
		{"import id 100", func() (Post, error) {
			return c.ImportPost(ctx, Post{ID: 100, Slug: "old-100", Author: "bob", Title: "From the old blog"})
		}},
		{"import id 4", func() (Post, error) {
			return c.ImportPost(ctx, Post{ID: 4, Slug: "old-4", Author: "bob", Title: "Also migrated"})
		}},
		{"add (id 0)", func() (Post, error) { return c.AddPost(ctx, "reducers", "cy", "Reducers are functions") }},
		{"add (id 0)", func() (Post, error) { return c.AddPost(ctx, "skip", "cy", "The sequence skips 4") }},
	}
	for _, s := range steps {
		p, err := s.do()
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(w, "%-14s -> id %3d  %s\n", s.what, p.ID, p.Slug)
	}
	if _, err := c.AddPost(ctx, "hello", "eve", "Again"); err != nil {
		fmt.Fprintf(w, "add slug hello again fails: %v\n", err)
	}
	v, err := c.View(ctx)
	if err != nil {
		return nil, err
	}
	posts := slices.Collect(v.Post().All())
	fmt.Fprintf(w, "%d posts; by ada:", v.Post().Count())
	for p := range v.Post().ByAuthor().Filter("ada") {
		fmt.Fprintf(w, " %d", p.ID)
	}
	fmt.Fprintln(w)
	return posts, nil
}
