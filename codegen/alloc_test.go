package codegen_test

import (
	"fmt"
	"testing"

	"github.com/keeldb/keel/codegen/internal/benchmod"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
)

// TestAccessorAllocs checks that the generated accessors allocate no more
// than the same operations on the hand-written table description: that
// their key rows and iterators stay on the caller's stack (table.keyRow
// and the readers inline into the caller).
func TestAccessorAllocs(t *testing.T) {
	gen, err := tx.NewDB([]table.Schema{benchmod.PostDef})
	if err != nil {
		t.Fatal(err)
	}
	def := testmod.NewPostDef(table.SeqParams[uint64]{})
	hand, err := tx.NewDB([]table.Schema{def})
	if err != nil {
		t.Fatal(err)
	}
	gtx, err := tx.Begin(gen)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(gtx)
	htx, err := tx.Begin(hand)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(htx)
	g, h := benchmod.DBOf(gtx).Post(), table.Use(htx, def)
	for i := range 100 {
		slug, author := fmt.Sprintf("post-%02d", i), fmt.Sprintf("author-%d", i%10)
		if _, err := g.Insert(benchmod.Post{Slug: slug, Author: author}); err != nil {
			t.Fatal(err)
		}
		if _, err := h.Insert(testmod.Post{Slug: slug, Author: author}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		name      string
		gen, hand func() int
	}{
		{"Find by primary key",
			func() int { _, ok := g.Find(7); return b2i(ok) },
			func() int { _, ok := h.Get(testmod.Post{ID: 7}); return b2i(ok) }},
		{"the table accessor, then Find by primary key",
			func() int { _, ok := benchmod.DBOf(gtx).Post().Find(7); return b2i(ok) },
			func() int { _, ok := table.Use(htx, def).Get(testmod.Post{ID: 7}); return b2i(ok) }},
		{"Has",
			func() int { return b2i(g.Has(7)) },
			func() int { _, ok := h.Get(testmod.Post{ID: 7}); return b2i(ok) }},
		{"Find by unique index",
			func() int { _, ok := g.BySlug().Find("post-07"); return b2i(ok) },
			func() int { _, ok := h.Reader().Find(testmod.PostSlug, testmod.Post{Slug: "post-07"}); return b2i(ok) }},
		{"Filter by unique index",
			func() int {
				n := 0
				for range g.BySlug().Filter("post-07") {
					n++
				}
				return n
			},
			func() int {
				n := 0
				for range h.Reader().Lookup(testmod.PostSlug, testmod.Post{Slug: "post-07"}, 0) {
					n++
				}
				return n
			}},
		{"Filter by index",
			func() int {
				n := 0
				for range g.ByAuthor().Filter("author-3") {
					n++
				}
				return n
			},
			func() int {
				n := 0
				for range h.Reader().Lookup(testmod.PostAuthor, testmod.Post{Author: "author-3"}, 0) {
					n++
				}
				return n
			}},
		{"Between on a unique index",
			func() int {
				n := 0
				for range g.BySlug().Between("post-10", "post-20") {
					n++
				}
				return n
			},
			func() int {
				n := 0
				for range h.Reader().Scan(testmod.PostSlug, table.Incl(testmod.Post{Slug: "post-10"}, 0), table.Excl(testmod.Post{Slug: "post-20"}, 0)) {
					n++
				}
				return n
			}},
		{"Delete by unique index and insert again",
			func() int {
				r, err := g.BySlug().Delete("post-07")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := g.Insert(r); err != nil {
					t.Fatal(err)
				}
				return 1
			},
			func() int {
				r, err := h.DeleteBy(testmod.PostSlug, testmod.Post{Slug: "post-07"})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := h.Insert(r); err != nil {
					t.Fatal(err)
				}
				return 1
			}},
	} {
		if a, b := c.gen(), c.hand(); a != b || a == 0 {
			t.Fatalf("%s: generated %d, hand-written %d", c.name, a, b)
		}
		ga := testing.AllocsPerRun(100, func() { c.gen() })
		ha := testing.AllocsPerRun(100, func() { c.hand() })
		if ga > ha {
			t.Errorf("%s: %.0f allocations through the generated accessors, %.0f through the hand-written path", c.name, ga, ha)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
