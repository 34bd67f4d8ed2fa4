// Package v1 is version 1 of the module the migration benchmark and the
// migration crash test open (package v2 is version 2): the post table of
// internal/testmod, generated.
package v1

//go:generate go tool keelgen

// Post is a post.
//
//keel:table name=post
type Post struct {
	ID     uint64 `db:"pk,autoinc"`
	Slug   string `db:"unique"`
	Author string `db:"index"`
	Title  string
}
