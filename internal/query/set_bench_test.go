package query

import (
	"fmt"
	"testing"
)

// BenchmarkSetDelta: a commit of two rows against 1,000 subscriptions,
// each to one row by its key (the fan-out of netload), and against
// 1,000 without an equality (ranges of age), which every commit asks.
func BenchmarkSetDelta(b *testing.B) {
	for _, kind := range []string{"by key", "by range"} {
		b.Run(kind, func(b *testing.B) {
			var s Set[int]
			for i := range 1000 {
				text := fmt.Sprintf("SELECT * FROM user WHERE id = %d", i)
				if kind == "by range" {
					text = fmt.Sprintf("SELECT * FROM user WHERE age > %d AND age <= %d", i%100, i%100+i/100)
				}
				q, err := Compile(testCatalog, text, Options{})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := s.Add(i, q); err != nil {
					b.Fatal(err)
				}
			}
			db := newMemDB(testCatalog)
			a0, b0 := userRow(3, "a", 5, 1, 0, true), userRow(700, "b", 5, 1, 0, true)
			a1, b1 := userRow(3, "a", 5, 1, 1, true), userRow(700, "b", 5, 1, -1, true)
			changes := []Change{{Table: "user", Old: a0, New: a1}, {Table: "user", Old: b0, New: b1}}
			b.ReportAllocs()
			for b.Loop() {
				if ups := s.Delta(changes, db); kind == "by key" && len(ups) != 2 {
					b.Fatalf("%d updates, want 2", len(ups))
				}
			}
		})
	}
}
