package query

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/keeldb/keel/codec"
)

// TestParseDepth: NOT and parentheses nest up to maxDepth; deeper is an
// error at the token that goes too deep, not a stack overflow of the
// process (a query nested a million deep took a gigabyte of stack).
func TestParseDepth(t *testing.T) {
	const prefix = "SELECT * FROM user WHERE "
	for _, open := range []string{"(", "NOT "} {
		q := func(n int) string {
			s := prefix + strings.Repeat(open, n) + "id = 1"
			if open == "(" {
				s += strings.Repeat(")", n)
			}
			return s
		}
		if _, err := Compile(testCatalog, q(maxDepth), Options{}); err != nil {
			t.Errorf("%q nested %d deep: %v", open, maxDepth, err)
		}
		_, err := Compile(testCatalog, q(maxDepth+1), Options{})
		var qe *Error
		if !errors.As(err, &qe) || qe.Offset != len(prefix)+maxDepth*len(open) ||
			!strings.Contains(qe.Msg, "nest more than 1000 deep") {
			t.Errorf("%q nested %d deep: %v, want an *Error at offset %d", open, maxDepth+1, err, len(prefix)+maxDepth*len(open))
		}
	}
}

// TestCompileLongChains: a WHERE of many ORs or ANDs compiles in memory
// linear in its length (flattening it into negation normal form once
// copied the terms of every prefix of the chain, and of every level of
// nesting), to the same terms and text, and a Set indexes an OR of many
// values by each of them.
func TestCompileLongChains(t *testing.T) {
	const n = 20000
	var or, and strings.Builder
	or.WriteString("SELECT * FROM user WHERE id = 0")
	and.WriteString("SELECT * FROM user WHERE NOT (age != 0")
	for i := 1; i < n; i++ {
		or.WriteString(" OR id = " + strconv.Itoa(i))
		and.WriteString(" AND age != 0")
	}
	and.WriteString(")")
	// An OR of n terms nested in 999 more: flattening copied the terms at
	// every level.
	nested := "SELECT * FROM user WHERE " + strings.Repeat("(", maxDepth-1) + strings.TrimPrefix(or.String(), "SELECT * FROM user WHERE ") +
		strings.Repeat(" OR id = 0)", maxDepth-1)
	for _, text := range []string{or.String(), and.String(), nested} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		q, err := Compile(testCatalog, text, Options{})
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		// Linear is about 1 KB a term; the quadratic flattening took 1.6 GB.
		if got := after.TotalAlloc - before.TotalAlloc; got > 100<<20 {
			t.Errorf("compiling %d terms allocated %d MB", n, got>>20)
		}
		want := n
		if text == nested {
			want += maxDepth - 1
		}
		if q.where.kind != pOr || len(q.where.xs) != want {
			t.Errorf("WHERE in negation normal form: kind %d with %d terms, want an OR of %d", q.where.kind, len(q.where.xs), want)
		}
		if text != nested && q.Text() != text {
			t.Errorf("the canonical text differs from the query (%d and %d bytes)", len(q.Text()), len(text))
		}
	}
	var s Set[int]
	q, err := s.Add(1, mustCompile(t, or.String(), Options{}))
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := s.queries[q.text].keys
	if ts := s.byTable["user"]; len(keys) != n || len(ts.eq) != 1 || len(ts.eq[0].vals) != n {
		t.Errorf("the OR of %d ids is indexed by %d keys", n, len(keys))
	}
}

// TestIntegerLiteralForFloat: an integer compared with a float column
// by = or != must be one the column's kind holds exactly; rounded, it
// would equal rows whose value it is not (16777217 for a float32 column
// would match 16777216). A range compares exactly whatever the integer.
func TestIntegerLiteralForFloat(t *testing.T) {
	cat := Tables{userTable, &Table{Name: "m", Public: true, Columns: []Column{{"f", codec.KindFloat32}}}}
	cases := []struct{ in, err string }{
		{"SELECT * FROM m WHERE f = 16777216", ""},
		{"SELECT * FROM m WHERE f = -16777216", ""},
		{"SELECT * FROM m WHERE f = -0", ""},
		{"SELECT * FROM m WHERE f = 18446744073709551615", `keel: query: 1:27: integer 18446744073709551615 has no exact float32 value for column f: the nearest are 18446742974197923840 and 1.8446744073709552e+19`},
		{"SELECT * FROM m WHERE f = 16777217", `keel: query: 1:27: integer 16777217 has no exact float32 value for column f: the nearest are 16777216 and 16777218`},
		{"SELECT * FROM m WHERE f != -16777217", `keel: query: 1:28: integer -16777217 has no exact float32 value for column f: the nearest are -16777218 and -16777216`},
		{"SELECT * FROM m WHERE NOT 16777217 = f", `keel: query: 1:27: integer 16777217 has no exact float32 value for column f: the nearest are 16777216 and 16777218`},
		{"SELECT * FROM m WHERE 16777217 < f", ""},
		{"SELECT * FROM m WHERE f <= 18446744073709551615", ""},
		{"SELECT * FROM m WHERE f = 16777217.0", `keel: query: 1:27: float 1.6777217e+07 has no exact float32 value for column f: the nearest are 16777216 and 16777218`},
		{"SELECT * FROM m WHERE f = 16777218.0", ""},
		{"SELECT * FROM user WHERE score = 9007199254740992", ""},
		{"SELECT * FROM user WHERE score = -9223372036854775808", ""},
		{"SELECT * FROM user WHERE score = 9223372036854775808", ""},
		{"SELECT * FROM user WHERE score > -10000000000000000000", ""},
		{"SELECT * FROM user WHERE score > -10000000000000000001", ""},
		{"SELECT * FROM user WHERE score = 9007199254740993", `keel: query: 1:34: integer 9007199254740993 has no exact float64 value for column score: the nearest are 9007199254740992 and 9007199254740994`},
		{"SELECT * FROM user WHERE score <> -9223372036854775807", `keel: query: 1:35: integer -9223372036854775807 has no exact float64 value for column score: the nearest are -9223372036854775808 and -9223372036854774784`},
		{"SELECT * FROM user WHERE score >= 0xffffffffffffffff", ""},
	}
	for _, c := range cases {
		_, err := Compile(cat, c.in, Options{})
		var qe *Error
		switch {
		case c.err == "" && err != nil:
			t.Errorf("Compile(%q): %v", c.in, err)
		case c.err != "" && (!errors.As(err, &qe) || err.Error() != c.err):
			t.Errorf("Compile(%q): %v, want %s", c.in, err, c.err)
		}
	}
}
