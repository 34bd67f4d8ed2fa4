package main

import (
	"io"
	"slices"
	"testing"

	"github.com/keeldb/keel"
	v1 "github.com/keeldb/keel/examples/migrate/v1"
	v2 "github.com/keeldb/keel/examples/migrate/v2"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/wal"
)

// TestMigrate writes with version 1, opens with version 2 and checks
// every row: names became capitalised titles, old comments got score 1
// and are found through the new index, the post ids go on past version
// 1's; then a reopen finds the same rows and migrates nothing.
func TestMigrate(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	b, err := writeV1(ctx, dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	wantV1 := []v1.Post{{ID: 1, Name: "hello", Body: "the first post"}, {ID: 2, Name: "keel", Body: "tables in Go structs"},
		{ID: 3, Name: "migrations", Body: "a schema that changes"}}
	if !slices.Equal(b.Posts, wantV1) || len(b.Comments) != 6 {
		t.Fatalf("version 1 wrote %v and %d comments", b.Posts, len(b.Comments))
	}

	// The plan, as keel migrate plan shows it before the migration.
	p, err := wal.PlanFor(dir, moduleSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	a, err := openV2(ctx, dir, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if a.Plan == nil {
		t.Fatal("no migration")
	}
	if !slices.Equal(a.Plan.Steps, p.Steps) {
		t.Errorf("Open applied\n%s\nkeel migrate plan said\n%s", a.Plan, p)
	}
	kinds := map[wal.StepKind]int{}
	for _, s := range a.Plan.Steps {
		kinds[s.Kind]++
	}
	for _, k := range []wal.StepKind{wal.MigrateRows, wal.AddColumn, wal.AddIndex, wal.AddUnique, wal.DropIndex} {
		if kinds[k] != 1 {
			t.Errorf("%d %q steps in\n%s", kinds[k], k, a.Plan)
		}
	}
	wantV2 := []v2.Post{{ID: 1, Title: "Hello", Body: "the first post"}, {ID: 2, Title: "Keel", Body: "tables in Go structs"},
		{ID: 3, Title: "Migrations", Body: "a schema that changes"}}
	if !slices.Equal(a.Posts, wantV2) {
		t.Errorf("posts after the migration %v, want %v", a.Posts, wantV2)
	}
	var wantComments []v2.Comment
	for _, c := range b.Comments {
		wantComments = append(wantComments, v2.Comment{ID: c.ID, PostID: c.PostID, Text: c.Text, Score: 1})
	}
	if !slices.Equal(a.Comments, wantComments) || !slices.Equal(a.ByScore, wantComments) {
		t.Errorf("comments after the migration %v (by score %v), want %v", a.Comments, a.ByScore, wantComments)
	}
	if a.Added.ID <= 3 || a.Added.Title != "Version 2" {
		t.Errorf("the post added after the migration is %+v", a.Added)
	}

	// A reopen: no migration, the same rows and the added post; the
	// title index finds a migrated post.
	db := keeltest.Open(t, dir, v2.Module, keel.Options{})
	if m := db.Recovery().Migration; m != nil {
		t.Errorf("the reopen migrated again:\n%s", m)
	}
	v, err := v2.NewClient(db, "t").View(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var posts []v2.Post
	for p := range v.Post().All() {
		posts = append(posts, p)
	}
	if !slices.Equal(posts, append(wantV2, a.Added)) {
		t.Errorf("posts after the reopen %v", posts)
	}
	if p, ok := v.Post().ByTitle().Find("Keel"); !ok || p.ID != 2 {
		t.Errorf("ByTitle(Keel) = %+v, %t", p, ok)
	}
	if n := v.Comment().Count(); n != 6 {
		t.Errorf("%d comments after the reopen", n)
	}
}

func moduleSchema(t *testing.T) wal.ModuleSchema {
	t.Helper()
	r, w := io.Pipe()
	go func() { w.CloseWithError(keel.WriteSchema(w, v2.Module, keel.Options{})) }()
	m, err := wal.ReadModuleSchema(r)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
