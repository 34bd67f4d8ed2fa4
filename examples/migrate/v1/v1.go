// Package v1 is version 1 of the migrate example's module: posts with a
// name, and comments on them.
package v1

//go:generate go tool keelgen

// Post is a post. Version 2 calls its name a title.
//
//keel:table name=post
type Post struct {
	ID   uint64 `db:"pk,autoinc"`
	Name string `db:"unique"`
	Body string
}

// Comment is a comment on a post. Version 2 adds a score, with an index.
//
//keel:table name=comment
type Comment struct {
	ID     uint64 `db:"pk,autoinc"`
	PostID uint64 `db:"index"`
	Text   string
}

//keel:reducer
func AddPost(ctx *Ctx, name, body string) (Post, error) {
	return ctx.DB.Post().Insert(Post{Name: name, Body: body})
}

//keel:reducer
func AddComment(ctx *Ctx, postID uint64, text string) (Comment, error) {
	return ctx.DB.Comment().Insert(Comment{PostID: postID, Text: text})
}
