package query

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel/codec"
)

// countingSource counts the reads of a Source.
type countingSource struct {
	Source
	mu    sync.Mutex
	reads int
}

func (c *countingSource) Scan(table string, yield func([]codec.Value) bool) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	c.Source.Scan(table, yield)
}

func (c *countingSource) Seek(table string, index int, lo, hi []codec.Value, li, hiIncl bool, yield func([]codec.Value) bool) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	c.Source.Seek(table, index, lo, hi, li, hiIncl, yield)
}

// TestSetShares: subscribers of one query, however written, share one
// evaluation per transaction; queries of other tables are not evaluated.
func TestSetShares(t *testing.T) {
	var s Set[string]
	q1 := mustCompile(t, "SELECT * FROM user WHERE age > 0", Options{})
	q2 := mustCompile(t, "select *\n from \"user\" where age>0 -- the same", Options{})
	j := mustCompile(t, "SELECT team.* FROM team JOIN user ON team.id = user.team WHERE user.age > 0", Options{})
	for _, sub := range []struct {
		who string
		q   *Query
	}{{"alice", q1}, {"bob", q2}, {"alice", q1}, {"carol", j}} {
		got, err := s.Add(sub.who, sub.q)
		if err != nil {
			t.Fatal(err)
		}
		if sub.q != j && got != q1 {
			t.Errorf("Add(%s) returned another query than the first of its text", sub.who)
		}
	}
	if s.Len() != 2 {
		t.Fatalf("Len %d, want 2", s.Len())
	}
	db := newMemDB(testCatalog)
	src := &countingSource{Source: db}
	tm := teamRow(1, 1, "x", 1, time.Unix(0, 0), 0, nil)
	u := userRow(1, "a", 5, 1, 0, true)
	db.apply(Change{Table: "team", New: tm})
	db.apply(Change{Table: "user", New: u})
	ups := s.Delta([]Change{{Table: "user", New: u}}, src)
	if len(ups) != 2 {
		t.Fatalf("%d updates, want 2", len(ups))
	}
	for _, up := range ups {
		want := []string{"carol"}
		wantRow := tm
		if up.Query == q1 {
			want, wantRow = []string{"alice", "bob"}, u
		}
		slices.Sort(up.Subscribers)
		if !slices.Equal(up.Subscribers, want) || len(up.Deletes) != 0 || !maps.Equal(bagOf(up.Inserts), rows(wantRow)) {
			t.Errorf("%s: subscribers %v, deletes %v, inserts %v", up.Query, up.Subscribers, up.Deletes, up.Inserts)
		}
	}
	src.reads = 0
	if ups := s.Delta([]Change{{Table: "secret", New: []codec.Value{codec.Uint64Value(1), codec.StringValue("")}}}, src); len(ups) != 0 || src.reads != 0 {
		t.Errorf("a change of a table no query reads: %d updates, %d reads", len(ups), src.reads)
	}
	if ups := s.Delta([]Change{{Table: "user", Old: u, New: u}}, src); len(ups) != 0 {
		t.Errorf("an update that changes nothing: %v", ups)
	}

	if !s.Remove("bob", q2) || s.Remove("bob", q2) || s.Len() != 2 {
		t.Error("Remove(bob)")
	}
	if n := s.RemoveAll("alice"); n != 1 || s.Len() != 1 {
		t.Errorf("RemoveAll(alice) = %d, Len %d", n, s.Len())
	}
	if _, err := s.Add("dave", mustCompile(t, "SELECT * FROM user LIMIT 1", Options{OneOff: true})); err == nil {
		t.Error("Add took a query with LIMIT")
	}
}

// TestSetConcurrent: subscribing and unsubscribing while transactions are
// evaluated (run with -race).
func TestSetConcurrent(t *testing.T) {
	var s Set[int]
	db := newMemDB(testCatalog)
	q := mustCompile(t, "SELECT * FROM user WHERE age > 0", Options{})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 200 {
				sub := g*1000 + i
				text := fmt.Sprintf("SELECT * FROM user WHERE age > %d", i%3)
				if i%2 == 0 {
					text = q.Text()
				}
				qq, err := Compile(testCatalog, text, Options{})
				if err != nil {
					t.Error(err)
					return
				}
				if _, err := s.Add(sub, qq); err != nil {
					t.Error(err)
				}
				if i%3 == 0 {
					s.RemoveAll(sub)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 200 {
			u := userRow(uint64(i), "a", 5, 1, 0, true)
			s.Delta([]Change{{Table: "user", New: u}}, db)
		}
	})
	wg.Wait()
	if s.Len() != 3 {
		t.Errorf("Len %d, want 3", s.Len())
	}
}
