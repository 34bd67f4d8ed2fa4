// Package evolve is a module whose schema changed since its data was
// written: columns with defaults, a migration function from an old row
// shape, and a dropped table and column.
package evolve

import "time"

// Post is a post as this version stores it.
//
//keel:table
type Post struct {
	ID     uint64    `db:"pk,autoinc"`
	Title  string    `db:"index"`
	Status string    `db:"default=draft"`
	Score  int32     `db:"default=-5"`
	At     time.Time `db:"default=2024-01-02T03:04:05Z"`
	Note   string    `db:"default=\"a, b\""`
	Ratio  float64   `db:"default=0.5"`
	Flag   bool      `db:"default=true"`
	Zero   int64     `db:"default=0"`
}

// PostV1 is a post as the first version stored it: the title was its
// name, and it had a body.
type PostV1 struct {
	ID   uint64 `db:"pk,autoinc"`
	Name string
	Body string
	Skip int `db:"-"`
}

// MigratePost turns a first-version post into a post.
//
//keel:migrate
func MigratePost(old PostV1) (Post, error) {
	return Post{ID: old.ID, Title: old.Name, Status: "migrated", Score: int32(len(old.Body))}, nil
}

// Tag is a tag; its color was dropped, and so was the comment table.
//
//keel:table
type Tag struct {
	Name   string `db:"pk"`
	Weight uint16 `db:"default=1"`
}

//keel:dropped tag.color comment

// TagV1 is a tag as the first version stored it.
type TagV1 struct {
	Label  string `db:"name=name"`
	Color  string
	Weight uint8
}

// MigrateTag keeps a first-version tag's name and weight.
//
//keel:migrate
func MigrateTag(old TagV1) Tag { return Tag{Name: old.Label, Weight: uint16(old.Weight)} }
