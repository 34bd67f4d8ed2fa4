// Command migrate runs the migrate example: version 1 of a module (package
// v1) writes posts and comments into a data directory; version 2 (package
// v2) opens the same directory, which migrates it: a post's name becomes
// its title through the migration function v2.MigratePost, and comments
// get a score column, 1 for the old ones, with an index on it. It prints
// the rows before, the plan, and the rows after.
//
//	go run ./examples/migrate                         both versions, in a temporary directory
//	go run ./examples/migrate -dir data -version 1    version 1 only, into data (kept)
//	go run ./examples/migrate -keel-schema > v2.json  version 2's schema (keel.WriteSchema)
//	go run ./cmd/keel migrate plan data v2.json       what opening data with version 2 would do
//	go run ./examples/migrate -dir data -version 2    version 2 opens data and migrates it
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/keeldb/keel"
	v1 "github.com/keeldb/keel/examples/migrate/v1"
	v2 "github.com/keeldb/keel/examples/migrate/v2"
)

func main() {
	dir := flag.String("dir", "", "the data directory, kept; by default a temporary one, removed at the end")
	version := flag.Int("version", 0, "run only version 1 or 2; 0 runs both")
	schema := flag.Bool("keel-schema", false, "write version 2's schema for keel migrate plan and exit")
	flag.Parse()
	if *schema {
		if err := keel.WriteSchema(os.Stdout, v2.Module, keel.Options{}); err != nil {
			fail(err)
		}
		return
	}
	d := *dir
	if d == "" {
		tmp, err := os.MkdirTemp("", "keel-migrate-")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(tmp)
		d = tmp
	}
	ctx := context.Background()
	if *version != 2 {
		if _, err := writeV1(ctx, d, os.Stdout); err != nil {
			fail(err)
		}
	}
	if *version != 1 {
		if _, err := openV2(ctx, d, os.Stdout); err != nil {
			fail(err)
		}
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// before is what version 1 wrote.
type before struct {
	Posts    []v1.Post
	Comments []v1.Comment
}

// writeV1 opens dir with version 1, writes three posts and their
// comments, and returns the rows.
func writeV1(ctx context.Context, dir string, w io.Writer) (before, error) {
	var b before
	db, err := keel.Open(dir, v1.Module, keel.Options{})
	if err != nil {
		return b, err
	}
	defer db.Close()
	c := v1.NewClient(db, "ann")
	for _, p := range [][2]string{{"hello", "the first post"}, {"keel", "tables in Go structs"}, {"migrations", "a schema that changes"}} {
		post, err := c.AddPost(ctx, p[0], p[1])
		if err != nil {
			return b, err
		}
		for i := range int(post.ID) {
			if _, err := c.AddComment(ctx, post.ID, fmt.Sprintf("comment %d on %s", i+1, p[0])); err != nil {
				return b, err
			}
		}
	}
	v, err := c.View(ctx)
	if err != nil {
		return b, err
	}
	fmt.Fprintln(w, "version 1 wrote:")
	for p := range v.Post().All() {
		fmt.Fprintf(w, "  post %d name=%q body=%q\n", p.ID, p.Name, p.Body)
		b.Posts = append(b.Posts, p)
	}
	for cm := range v.Comment().All() {
		fmt.Fprintf(w, "  comment %d post=%d text=%q\n", cm.ID, cm.PostID, cm.Text)
		b.Comments = append(b.Comments, cm)
	}
	return b, db.Close()
}

// after is what version 2 found, and the post it added.
type after struct {
	Plan     *keel.Plan
	Posts    []v2.Post
	Comments []v2.Comment
	ByScore  []v2.Comment // the comments of score 1, through the new index
	Added    v2.Post
}

// openV2 opens dir with version 2, which migrates it, prints the plan
// and the rows, and adds a post.
func openV2(ctx context.Context, dir string, w io.Writer) (after, error) {
	var a after
	db, err := keel.Open(dir, v2.Module, keel.Options{})
	if err != nil {
		return a, err
	}
	defer db.Close()
	a.Plan = db.Recovery().Migration
	fmt.Fprintln(w, "version 2 opened the directory:")
	if a.Plan == nil {
		fmt.Fprintln(w, "  nothing to migrate")
	} else {
		fmt.Fprintf(w, "  %s\n", a.Plan)
	}
	c := v2.NewClient(db, "bob")
	v, err := c.View(ctx)
	if err != nil {
		return a, err
	}
	fmt.Fprintln(w, "version 2 reads:")
	for p := range v.Post().All() {
		fmt.Fprintf(w, "  post %d title=%q body=%q\n", p.ID, p.Title, p.Body)
		a.Posts = append(a.Posts, p)
	}
	for cm := range v.Comment().All() {
		fmt.Fprintf(w, "  comment %d post=%d text=%q score=%d\n", cm.ID, cm.PostID, cm.Text, cm.Score)
		a.Comments = append(a.Comments, cm)
	}
	for cm := range v.Comment().ByScore().Filter(1) {
		a.ByScore = append(a.ByScore, cm)
	}
	fmt.Fprintf(w, "  %d comments have score 1 (index comment_score)\n", len(a.ByScore))
	if a.Added, err = c.AddPost(ctx, "Version 2", "written after the migration"); err != nil {
		return a, err
	}
	fmt.Fprintf(w, "version 2 added post %d: the sequence resumed at its persisted boundary (batches of 1,024), past every id version 1 used\n", a.Added.ID)
	return a, db.Close()
}
