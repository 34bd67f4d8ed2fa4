package query

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
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

// TestSetIndex: the queries with an equality are found by the values of
// the changed rows: several queries of one value, an OR of values, a
// float's -0 and NaN, rows moving from one value to another, deletes,
// and queries leaving the index when their last subscriber goes.
func TestSetIndex(t *testing.T) {
	var s Set[string]
	add := func(sub, text string) *Query {
		t.Helper()
		q, err := s.Add(sub, mustCompile(t, text, Options{}))
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	id3 := add("a", "SELECT * FROM user WHERE id = 3")
	add("b", "SELECT * FROM user WHERE id = 3")
	id3old := add("c", "SELECT * FROM user WHERE id = 3 AND age > 0")
	or := add("d", "SELECT * FROM user WHERE id = 4 OR id = 3 OR id = 4")
	t1 := add("e", "SELECT * FROM user WHERE team = 1")
	t2 := add("f", "SELECT * FROM user WHERE team = 2 AND (age = 1 OR id = 9)")
	zero := add("g", "SELECT * FROM user WHERE score = 0")
	scan := add("h", "SELECT * FROM user WHERE age > 1")
	if got := len(s.byTable["user"].scan); got != 1 {
		t.Errorf("%d queries in the scan list, want 1 (age > 1)", got)
	}
	db := newMemDB(testCatalog)
	type want struct {
		q        *Query
		subs     []string
		del, ins map[string]int
	}
	check := func(what string, changes []Change, wants ...want) {
		t.Helper()
		ups := s.Delta(changes, db)
		if len(ups) != len(wants) {
			var got []string
			for _, u := range ups {
				got = append(got, u.Query.Text())
			}
			t.Fatalf("%s: updates of %q, want %d", what, got, len(wants))
		}
		slices.SortFunc(wants, func(a, b want) int { return strings.Compare(a.q.Text(), b.q.Text()) })
		for i, u := range ups {
			w := wants[i]
			slices.Sort(u.Subscribers)
			if u.Query != w.q || !slices.Equal(u.Subscribers, w.subs) || !maps.Equal(bagOf(u.Deletes), w.del) || !maps.Equal(bagOf(u.Inserts), w.ins) {
				t.Errorf("%s: %s to %v: deletes %v, inserts %v; want %s to %v, %v, %v", what, u.Query, u.Subscribers, u.Deletes, u.Inserts, w.q, w.subs, w.del, w.ins)
			}
		}
	}
	none := map[string]int{}
	r3 := userRow(3, "x", 2, 1, 1, true)
	check("insert of id 3", []Change{{Table: "user", New: r3}},
		want{id3, []string{"a", "b"}, none, rows(r3)},
		want{id3old, []string{"c"}, none, rows(r3)},
		want{or, []string{"d"}, none, rows(r3)},
		want{t1, []string{"e"}, none, rows(r3)},
		want{scan, []string{"h"}, none, rows(r3)})
	r5 := userRow(5, "y", 0, 7, 2, true)
	check("insert of a row no equality matches", []Change{{Table: "user", New: r5}})
	r3b := userRow(3, "x", 0, 2, math.Copysign(0, -1), true)
	check("update of id 3 from team 1 to 2, age 2 to 0, score to -0", []Change{{Table: "user", Old: r3, New: r3b}},
		want{id3, []string{"a", "b"}, rows(r3), rows(r3b)},
		want{id3old, []string{"c"}, rows(r3), none},
		want{or, []string{"d"}, rows(r3), rows(r3b)},
		want{t1, []string{"e"}, rows(r3), none},
		want{zero, []string{"g"}, none, rows(r3b)},
		want{scan, []string{"h"}, rows(r3), none})
	r9 := userRow(9, "z", 0, 2, math.NaN(), false)
	r9b := userRow(9, "z", 0, 2, 0, false)
	check("insert of id 9 in team 2, then its update", []Change{{Table: "user", New: r9}, {Table: "user", Old: r9, New: r9b}},
		want{t2, []string{"f"}, none, rows(r9b)},
		want{zero, []string{"g"}, none, rows(r9b)})
	check("delete of id 3", []Change{{Table: "user", Old: r3b}},
		want{id3, []string{"a", "b"}, rows(r3b), none},
		want{or, []string{"d"}, rows(r3b), none},
		want{zero, []string{"g"}, rows(r3b), none})
	check("a row of another table", []Change{{Table: "team", New: teamRow(3, 1, "", 0, time.Unix(0, 0), 0, nil)}})

	s.Remove("a", id3)
	s.RemoveAll("d")
	r3c := userRow(3, "x", 5, 2, 1, true)
	check("insert of id 3 after a and d left", []Change{{Table: "user", New: r3c}},
		want{id3, []string{"b"}, none, rows(r3c)},
		want{id3old, []string{"c"}, none, rows(r3c)},
		want{scan, []string{"h"}, none, rows(r3c)})
	for _, sub := range []string{"b", "c", "e", "f", "g", "h"} {
		s.RemoveAll(sub)
	}
	if s.Len() != 0 || len(s.byTable) != 0 {
		t.Errorf("after every subscriber left: %d queries, %d tables indexed", s.Len(), len(s.byTable))
	}
	check("a change with no subscribers", []Change{{Table: "user", Old: r3c}})
}

// TestRandomSet: random queries (the random ones of TestRandomDeltas and
// equalities of the few values the random rows take) with subscribers
// coming and going, over random transactions: after each, the rows every
// subscriber holds, kept by applying Set.Delta's updates, equal the query
// run again, and no update goes to a query whose rows did not change.
func TestRandomSet(t *testing.T) {
	seed := *seedFlag
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -query.seed=%d)", seed, seed)
	txs := *txsFlag
	if testing.Short() {
		txs = min(txs, 1000)
	}
	rng := rand.New(rand.NewPCG(seed, 0x736574))
	var qs []*Query
	for _, rq := range randQueries(t, rng) {
		if rq.q.Incremental() {
			qs = append(qs, rq.q)
		}
	}
	for _, text := range []string{
		"SELECT * FROM user WHERE id = 1", "SELECT * FROM user WHERE id = 1 AND active = TRUE",
		"SELECT * FROM user WHERE id = 2 OR id = 3", "SELECT * FROM user WHERE team = 0",
		"SELECT * FROM user WHERE team = 0 AND (name = 'a' OR age = 1)", "SELECT * FROM user WHERE score = 0",
		"SELECT * FROM user WHERE score = -1 OR name = ''", "SELECT * FROM team WHERE id = 2",
		"SELECT * FROM team WHERE weight = 0 OR level = 255", "SELECT * FROM team WHERE region = 'ab' AND grp = 1",
	} {
		qs = append(qs, mustCompile(t, text, Options{}))
	}
	db := newMemDB(testCatalog)
	for range 20 {
		randTx(rng, db)
	}
	type sub struct {
		id int
		q  *Query
	}
	var s Set[sub]
	held := map[sub]map[string]int{}
	for tx := range txs {
		for range rng.IntN(3) { // subscribe, or leave
			k := sub{rng.IntN(6), qs[rng.IntN(len(qs))]}
			if _, ok := held[k]; ok {
				if !s.Remove(k, k.q) {
					t.Fatalf("seed %d: Remove of a subscription it holds", seed)
				}
				delete(held, k)
				continue
			}
			if _, err := s.Add(k, k.q); err != nil {
				t.Fatal(err)
			}
			held[k] = bagOf(runAll(k.q, db))
		}
		changes := randTx(rng, db)
		for _, u := range s.Delta(changes, db) {
			for _, k := range u.Subscribers {
				b := held[k]
				before := maps.Clone(b)
				for _, r := range u.Deletes {
					key := rowString(r)
					if b[key] == 0 {
						t.Fatalf("seed %d (rerun with -query.seed=%d), transaction %d, %s: deletes %v, which it does not hold", seed, seed, tx, u.Query, r)
					}
					if b[key]--; b[key] == 0 {
						delete(b, key)
					}
				}
				for _, r := range u.Inserts {
					b[rowString(r)]++
				}
				if maps.Equal(before, b) {
					t.Fatalf("seed %d (rerun with -query.seed=%d), transaction %d, %s: an update that changes none of subscriber %d's rows (%d deletes, %d inserts)",
						seed, seed, tx, u.Query, k.id, len(u.Deletes), len(u.Inserts))
				}
			}
		}
		runs := map[*Query]map[string]int{}
		for k, b := range held {
			run, ok := runs[k.q]
			if !ok {
				run = bagOf(runAll(k.q, db))
				runs[k.q] = run
			}
			if !maps.Equal(run, b) {
				t.Fatalf("seed %d (rerun with -query.seed=%d), transaction %d, %s: subscriber %d holds %d rows, the query gives %d\nchanges: %v\n%s",
					seed, seed, tx, k.q, k.id, total(b), total(run), changes, bagDiff(b, run))
			}
		}
	}
}
