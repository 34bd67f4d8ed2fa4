// Package v2 is version 2 of the migrate example's module. Against
// version 1: a post's name is its title (a rename, through the migration
// function MigratePost), and a comment has a score (a column added with
// a default) with an index on it (an index added).
package v2

import "strings"

//go:generate go tool keelgen

// Post is a post.
//
//keel:table name=post
type Post struct {
	ID    uint64 `db:"pk,autoinc"`
	Title string `db:"unique"`
	Body  string
}

// PostV1 is a post as version 1 stored it: the old row shape that
// MigratePost reads.
type PostV1 struct {
	ID   uint64
	Name string
	Body string
}

// MigratePost turns a version 1 post into a post: its name becomes its
// title, capitalised.
//
//keel:migrate
func MigratePost(old PostV1) Post {
	title := old.Name
	if title != "" {
		title = strings.ToUpper(title[:1]) + title[1:]
	}
	return Post{ID: old.ID, Title: title, Body: old.Body}
}

// Comment is a comment on a post. Comments written by version 1 get the
// score 1.
//
//keel:table name=comment
type Comment struct {
	ID     uint64 `db:"pk,autoinc"`
	PostID uint64 `db:"index"`
	Text   string
	Score  int32 `db:"default=1,index"`
}

//keel:reducer
func AddPost(ctx *Ctx, title, body string) (Post, error) {
	return ctx.DB.Post().Insert(Post{Title: title, Body: body})
}

//keel:reducer
func AddComment(ctx *Ctx, postID uint64, text string, score int32) (Comment, error) {
	return ctx.DB.Comment().Insert(Comment{PostID: postID, Text: text, Score: score})
}
