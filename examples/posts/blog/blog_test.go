package blog

import (
	"errors"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/table"
)

func open(t *testing.T) Client {
	t.Helper()
	return NewClient(keeltest.Memory(t, Module), "test")
}

func TestDemo(t *testing.T) {
	posts, err := Demo(t.Context(), open(t), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var got []uint64
	for _, p := range posts {
		got = append(got, p.ID)
	}
	if d := cmp.Diff([]uint64{1, 2, 3, 4, 5, 100}, got); d != "" {
		t.Errorf("post ids (-want +got):\n%s", d)
	}
}

func TestZeroTriggerAndExplicitIDs(t *testing.T) {
	c := open(t)
	p, err := c.AddPost(t.Context(), "a", "ada", "A")
	if err != nil || p.ID != 1 {
		t.Fatalf("AddPost = %+v, %v; want id 1", p, err)
	}
	p, err = c.ImportPost(t.Context(), Post{ID: 42, Slug: "old", Title: "Old"})
	if err != nil || p.ID != 42 {
		t.Fatalf("ImportPost = %+v, %v; want id 42 as given", p, err)
	}
	p, err = c.AddPost(t.Context(), "b", "ada", "B")
	if err != nil || p.ID != 2 {
		t.Fatalf("AddPost after import = %+v, %v; want id 2: an explicit id does not move the sequence", p, err)
	}
	_, err = c.ImportPost(t.Context(), Post{ID: 42, Slug: "again"})
	var ue *table.UniqueError
	if !errors.As(err, &ue) || ue.Index != "post_pk" {
		t.Fatalf("import of a taken id: %v; want a unique violation of post_pk", err)
	}
	p, err = c.Retitle(t.Context(), "b", "B2")
	if err != nil || p.ID != 2 || p.Title != "B2" {
		t.Fatalf("Retitle = %+v, %v", p, err)
	}
	v, err := c.View(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := v.Post().Find(2); !ok || got.Title != "B2" {
		t.Fatalf("post 2 = %+v, %v", got, ok)
	}
	if n := v.Post().Count(); n != 3 {
		t.Fatalf("count = %d, want 3", n)
	}
}
