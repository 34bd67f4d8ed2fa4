package evolve

import (
	"maps"
	"slices"
	"testing"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/table"
)

// TestDeclarations checks what the generated module declares for
// migrations: the defaults in the stored column descriptions, the dropped
// names, and the migration functions run on rows of their old shapes.
func TestDeclarations(t *testing.T) {
	defaults := map[string]string{}
	for _, c := range PostDef.Columns {
		defaults[c.Name] = c.Default
	}
	// Every column, so that a missing one is not read as having no
	// default; a default equal to the zero value is stored as none.
	want := map[string]string{"id": "", "title": "", "status": `"draft"`, "score": "-5", "at": `"2024-01-02T03:04:05Z"`,
		"note": `"a, b"`, "ratio": "0.5", "flag": "true", "zero": ""}
	if !maps.Equal(defaults, want) {
		t.Errorf("post's defaults %q, want %q", defaults, want)
	}
	if len(TagDef.Columns) != 2 || TagDef.Columns[1].Name != "weight" || TagDef.Columns[1].Default != "1" {
		t.Errorf("tag's columns %+v, want weight with default 1", TagDef.Columns)
	}
	if !slices.Equal(Module.Dropped, []string{"tag.color", "comment"}) {
		t.Errorf("Dropped = %v", Module.Dropped)
	}
	if len(Module.Migrations) != 2 {
		t.Fatalf("%d migrations", len(Module.Migrations))
	}
	post := Module.Migrations[0]
	if in := post.Info(); in.Table != "post" || in.Func != "MigratePost" || len(in.Old) != 3 || in.Old[2].Name != "body" {
		t.Errorf("post migration %+v", in)
	}
	old := codec.AppendString(codec.AppendString(codec.AppendUvarint(nil, 7), "hello"), "four")
	row, err := post.Migrate(nil, old)
	if err != nil {
		t.Fatal(err)
	}
	var p Post
	if err := PostDef.Decode(row, &p); err != nil || p.ID != 7 || p.Title != "hello" || p.Status != "migrated" || p.Score != 4 {
		t.Errorf("migrated post %+v, %v", p, err)
	}
	tag := Module.Migrations[1]
	if in := tag.Info(); in.Table != "tag" || !slices.EqualFunc(in.Old, []table.Column{
		{Name: "name", Type: "string", Kind: "string"}, {Name: "color", Type: "string", Kind: "string"}, {Name: "weight", Type: "uint8", Kind: "uint8"},
	}, func(a, b table.Column) bool { return a == b }) {
		t.Errorf("tag migration %+v", in)
	}
	row, err = tag.Migrate(nil, codec.AppendUvarint(codec.AppendString(codec.AppendString(nil, "go"), "blue"), 9))
	var g Tag
	if err != nil || TagDef.Decode(row, &g) != nil || g != (Tag{Name: "go", Weight: 9}) {
		t.Errorf("migrated tag %+v, %v", g, err)
	}
}
