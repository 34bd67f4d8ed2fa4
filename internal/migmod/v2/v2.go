// Package v2 is version 2 of the module of package v1: one column added,
// with a default.
package v2

//go:generate go tool keelgen

// Post is a post; posts version 1 stored get the score 1.
//
//keel:table name=post
type Post struct {
	ID     uint64 `db:"pk,autoinc"`
	Slug   string `db:"unique"`
	Author string `db:"index"`
	Title  string
	Score  int32 `db:"default=1"`
}
