// Package blog is SpacetimeDB's post table as a Keel module: a primary key
// filled from a sequence when it is 0 (the zero trigger), and explicit ids
// for posts migrated from an older system.
package blog

import (
	"errors"
	"fmt"
)

//go:generate go tool keelgen

// Post is a blog post. An ID of 0 asks the post_id_seq sequence for the
// next value; any other ID is stored as given.
//
//keel:table name=post
type Post struct {
	ID     uint64 `db:"pk,autoinc"`
	Slug   string `db:"unique"`
	Author string `db:"index"`
	Title  string
}

//keel:reducer
func AddPost(ctx *Ctx, slug, author, title string) (Post, error) {
	// ID 0: the sequence assigns it.
	p, err := ctx.DB.Post().Insert(Post{Slug: slug, Author: author, Title: title})
	if err != nil {
		return Post{}, fmt.Errorf("blog: add %s: %w", slug, err)
	}
	ctx.Log.Info("created", "id", p.ID, "slug", slug)
	return p, nil
}

// ImportPost stores a post migrated from another system with the ID it had
// there. The sequence does not move past it (as in SpacetimeDB and
// PostgreSQL); when it reaches that ID later, it skips it.
//
//keel:reducer
func ImportPost(ctx *Ctx, p Post) (Post, error) {
	if p.ID == 0 {
		return Post{}, errors.New("blog: an imported post needs its old id")
	}
	return ctx.DB.Post().Insert(p)
}

// Retitle changes the title of the post with the given slug.
//
//keel:reducer
func Retitle(ctx *Ctx, slug, title string) (Post, error) {
	p, ok := ctx.DB.Post().BySlug().Find(slug)
	if !ok {
		return Post{}, fmt.Errorf("blog: no post %q", slug)
	}
	p.Title = title
	return ctx.DB.Post().BySlug().Update(p)
}
