package query

import (
	"maps"
	"testing"
	"time"

	"github.com/keeldb/keel/codec"
)

func mustCompile(t *testing.T, text string, opts Options) *Query {
	t.Helper()
	q, err := Compile(testCatalog, text, opts)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// commit applies changes to db and returns q's delta.
func commit(t *testing.T, q *Query, db *memDB, changes ...Change) (deletes, inserts map[string]int) {
	t.Helper()
	for _, c := range changes {
		if err := db.apply(c); err != nil {
			t.Fatal(err)
		}
	}
	d, i := q.Delta(changes, db)
	return bagOf(d), bagOf(i)
}

func rows(rs ...[]codec.Value) map[string]int { return bagOf(rs) }

func checkDelta(t *testing.T, what string, gotD, gotI, wantD, wantI map[string]int) {
	t.Helper()
	if !maps.Equal(gotD, wantD) || !maps.Equal(gotI, wantI) {
		t.Errorf("%s: deletes %v inserts %v, want %v and %v", what, gotD, gotI, wantD, wantI)
	}
}

// TestDeltaSingleTable: the delta of a one-table query is its predicate
// on the old and new rows, as bags.
func TestDeltaSingleTable(t *testing.T) {
	q := mustCompile(t, "SELECT * FROM user WHERE age > 0", Options{})
	db := newMemDB(testCatalog)
	a := userRow(1, "a", 5, 1, 0, true)
	b := userRow(2, "b", -5, 1, 0, true)
	a2 := userRow(1, "a2", 6, 1, 0, true)
	none := rows()

	d, i := commit(t, q, db, Change{Table: "user", New: a}, Change{Table: "user", New: b})
	checkDelta(t, "insert", d, i, none, rows(a))
	d, i = commit(t, q, db, Change{Table: "user", Old: a, New: a2})
	checkDelta(t, "update that still matches", d, i, rows(a), rows(a2))
	d, i = commit(t, q, db, Change{Table: "user", Old: a2, New: a2})
	checkDelta(t, "update that changes nothing", d, i, none, none)
	d, i = commit(t, q, db, Change{Table: "user", Old: a2, New: b})
	checkDelta(t, "update out of the result", d, i, rows(a2), none)
	d, i = commit(t, q, db, Change{Table: "user", Old: b, New: a})
	checkDelta(t, "update into the result", d, i, none, rows(a))
	d, i = commit(t, q, db, Change{Table: "user", New: a})
	checkDelta(t, "a duplicate row", d, i, none, rows(a))
	if got := bagOf(runAll(q, db)); got[rowString(a)] != 2 {
		t.Errorf("Run: %v, want a twice", got)
	}
	d, i = commit(t, q, db, Change{Table: "user", New: a2}, Change{Table: "user", Old: a2})
	checkDelta(t, "insert and delete in one transaction", d, i, none, none)
	d, i = commit(t, q, db, Change{Table: "team", New: teamRow(1, 1, "x", 1, time.Unix(0, 0), 0, nil)})
	checkDelta(t, "a table the query does not read", d, i, none, none)
	d, i = commit(t, q, db, Change{Table: "user", Old: a}, Change{Table: "user", Old: a})
	checkDelta(t, "delete both copies", d, i, map[string]int{rowString(a): 2}, none)
}

// TestDeltaJoin: a join's result is a bag, a row of the selected table
// once per partner, and its delta counts partners the same way.
func TestDeltaJoin(t *testing.T) {
	q := mustCompile(t, "SELECT user.* FROM user JOIN team ON user.team = team.grp WHERE team.level > 0", Options{})
	db := newMemDB(testCatalog)
	at := time.Unix(0, 0)
	t1 := teamRow(1, 7, "x", 1, at, 0, nil)
	t2 := teamRow(2, 7, "y", 1, at, 0, nil)
	t0 := teamRow(3, 7, "z", 0, at, 0, nil) // level 0: no match
	u := userRow(1, "u", 1, 7, 0, true)
	none := rows()

	d, i := commit(t, q, db, Change{Table: "team", New: t1}, Change{Table: "team", New: t2}, Change{Table: "team", New: t0})
	checkDelta(t, "teams without users", d, i, none, none)
	d, i = commit(t, q, db, Change{Table: "user", New: u})
	checkDelta(t, "a user with two teams", d, i, none, map[string]int{rowString(u): 2})
	d, i = commit(t, q, db, Change{Table: "team", Old: t1})
	checkDelta(t, "one team goes", d, i, rows(u), none)

	u3 := userRow(3, "w", 1, 7, 0, true)
	t3 := teamRow(4, 7, "w", 2, at, 0, nil)
	d, i = commit(t, q, db, Change{Table: "user", New: u3}, Change{Table: "team", New: t3})
	checkDelta(t, "a user and a team together", d, i, none, map[string]int{rowString(u3): 2, rowString(u): 1})

	u2 := userRow(1, "renamed", 1, 7, 0, true)
	d, i = commit(t, q, db, Change{Table: "user", Old: u, New: u2})
	checkDelta(t, "a user renamed", d, i, map[string]int{rowString(u): 2}, map[string]int{rowString(u2): 2})
	d, i = commit(t, q, db, Change{Table: "team", Old: t0, New: teamRow(3, 7, "z", 5, at, 0, nil)})
	checkDelta(t, "a team starts to match", d, i, none, rows(u2, u3))
	if got, want := bagOf(runAll(q, db)), map[string]int{rowString(u2): 3, rowString(u3): 3}; !maps.Equal(got, want) {
		t.Errorf("Run: %v, want %v", got, want)
	}
}

// TestDeltaNotIncremental: Delta panics for LIMIT and COUNT(*).
func TestDeltaNotIncremental(t *testing.T) {
	for _, s := range []string{"SELECT * FROM user LIMIT 3", "SELECT COUNT(*) FROM user"} {
		q := mustCompile(t, s, Options{OneOff: true})
		if q.Incremental() {
			t.Errorf("%s is incremental", s)
		}
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Delta of %s did not panic", s)
				}
			}()
			q.Delta(nil, newMemDB(testCatalog))
		}()
	}
}

// TestRunOneOff: projections, COUNT(*) and LIMIT, and stopping early.
func TestRunOneOff(t *testing.T) {
	db := newMemDB(testCatalog)
	for i := range 5 {
		db.apply(Change{Table: "user", New: userRow(uint64(i), "n", int8(i), 1, 0, i%2 == 0)})
	}
	db.apply(Change{Table: "team", New: teamRow(1, 1, "x", 3, time.Unix(0, 0), 0, nil)})
	get := func(s string) [][]codec.Value { return runAll(mustCompile(t, s, Options{OneOff: true}), db) }
	if r := get("SELECT COUNT(*) FROM user WHERE active = TRUE"); len(r) != 1 || r[0][0] != codec.Uint64Value(3) {
		t.Errorf("COUNT(*): %v", r)
	}
	if r := get("SELECT COUNT(*) FROM user LIMIT 0"); len(r) != 0 {
		t.Errorf("COUNT(*) LIMIT 0: %v", r)
	}
	if r := get("SELECT * FROM user WHERE age >= 1 LIMIT 2"); len(r) != 2 || r[0][2] != codec.Int8Value(1) || r[1][2] != codec.Int8Value(2) {
		t.Errorf("LIMIT 2 in index order: %v", r)
	}
	r := get("SELECT age, team.level, name FROM user JOIN team ON user.team = team.id WHERE user.id = 4")
	if len(r) != 1 || len(r[0]) != 3 || r[0][0] != codec.Int8Value(4) || r[0][1] != codec.Uint8Value(3) || r[0][2] != codec.StringValue("n") {
		t.Errorf("projection of a join: %v", r)
	}
	n := 0
	for range mustCompile(t, "SELECT * FROM user WHERE id = 1 OR age > 2", Options{}).All(db) {
		n++
		break
	}
	if n != 1 {
		t.Errorf("All did not stop: %d", n)
	}
}
