package query

import (
	"errors"
	"testing"
	"time"
)

// FuzzCompile: no query text makes Compile panic; its errors point into
// the text; a query that compiles prints a canonical text that compiles to
// the same text and plan, and runs and computes deltas without panicking.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"SELECT * FROM user WHERE id = 1 OR name = 'b' AND NOT (age < 3)",
		"SELECT u.* FROM user AS u JOIN team t ON u.team = t.grp WHERE t.level >= 0x1 AND u.score > -1.5e0",
		"SELECT name, t.key FROM user u JOIN team t ON u.team = t.id WHERE t.key = X'00ff' LIMIT 3;",
		"SELECT COUNT(*) FROM \"user\" -- c\nWHERE active = TRUE AND 3 <> age",
		"SELECT * FROM team WHERE at < '2024-01-02T03:04:05Z' AND region = 'O''Hara'",
		"SELECT u.* FROM user u JOIN user v ON u.age = v.age WHERE v.age < u.team",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	db := newMemDB(testCatalog)
	at := time.Unix(0, 0)
	u := userRow(1, "a", 1, 1, 0, true, "x")
	tm := teamRow(1, 1, "a", 1, at, 0, []byte{0})
	db.apply(Change{Table: "user", New: u})
	db.apply(Change{Table: "team", New: tm})
	changes := []Change{{Table: "user", New: userRow(2, "b", 1, 1, 0, false)}, {Table: "team", Old: tm, New: tm}}
	f.Fuzz(func(t *testing.T, text string, oneOff bool) {
		opts := Options{OneOff: oneOff, AllowPrivate: oneOff}
		q, err := Compile(testCatalog, text, opts)
		if err != nil {
			var qe *Error
			if !errors.As(err, &qe) || qe.Offset < 0 || qe.Offset > len(text) || qe.Line < 1 || qe.Column < 1 {
				t.Fatalf("%q: %#v", text, err)
			}
			return
		}
		again, err := Compile(testCatalog, q.Text(), opts)
		if err != nil {
			t.Fatalf("%q compiles, its text %q does not: %v", text, q.Text(), err)
		}
		if again.Text() != q.Text() || again.Plan().String() != q.Plan().String() {
			t.Fatalf("%q: text %q plan\n%s\nthen %q plan\n%s", text, q.Text(), q.Plan(), again.Text(), again.Plan())
		}
		runAll(q, db)
		if q.Incremental() {
			q.Delta(changes, db)
		}
	})
}
