package table

import (
	"cmp"
	"errors"
	"fmt"
	"testing"

	"github.com/keeldb/keel/codec"
)

// ticket has two autoinc columns, each with a unique index of its own:
// an id (the primary key) and a code from a small range.
type ticket struct {
	ID   uint8
	Code uint8
}

func ticketDef(code SeqParams[uint8]) *Def[ticket] {
	pk := &Index[ticket]{Name: "ticket_pk", Columns: []string{"id"}, Unique: true,
		Compare: func(a, b *ticket, n int) int { return cmp.Compare(a.ID, b.ID) },
		Format:  func(r *ticket, n int) string { return fmt.Sprintf("id=%d", r.ID) }}
	byCode := &Index[ticket]{Name: "ticket_code", Columns: []string{"code"}, Unique: true,
		Compare: func(a, b *ticket, n int) int { return cmp.Compare(a.Code, b.Code) },
		Format:  func(r *ticket, n int) string { return fmt.Sprintf("code=%d", r.Code) }}
	return &Def[ticket]{
		Name:    "ticket",
		Columns: []Column{{Name: "id", Type: "uint8"}, {Name: "code", Type: "uint8"}},
		Primary: pk,
		Indexes: []*Index[ticket]{byCode},
		Sequences: []AutoInc[ticket]{
			NewAutoInc("ticket_id_seq", "id", SeqParams[uint8]{}, func(r *ticket) *uint8 { return &r.ID }),
			NewAutoInc("ticket_code_seq", "code", code, func(r *ticket) *uint8 { return &r.Code }),
		},
		Encode: func(dst []byte, r *ticket) []byte { return append(dst, r.ID, r.Code) },
		Decode: func(src []byte, r *ticket) error {
			if len(src) != 2 {
				return codec.ErrShort
			}
			r.ID, r.Code = src[0], src[1]
			return nil
		},
	}
}

// TestCollisionTriesPerSequence checks that the values one sequence skips
// do not count against another: a sequence is exhausted (NoFree) only
// when it has tried every value of its own range.
func TestCollisionTriesPerSequence(t *testing.T) {
	d := ticketDef(SeqParams[uint8]{Min: 1, HasMin: true, Max: 5, HasMax: true})
	db, err := newDB(d)
	if err != nil {
		t.Fatal(err)
	}
	run := func(fn func(u *Table[ticket]) error) error {
		tx, err := db.begin()
		if err != nil {
			t.Fatal(err)
		}
		if err := fn(Use(tx, d)); err != nil {
			tx.rollback()
			return err
		}
		tx.commit()
		return nil
	}
	// Ids 1..5 are taken (codes outside the code sequence's range), and
	// code 1 is taken; codes 2..5 are free.
	if err := run(func(u *Table[ticket]) error {
		for _, r := range []ticket{{1, 101}, {2, 102}, {3, 103}, {4, 104}, {5, 105}, {200, 1}} {
			if _, err := u.Insert(r); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	var got ticket
	if err := run(func(u *Table[ticket]) error {
		got, err = u.Insert(ticket{})
		return err
	}); err != nil {
		t.Fatalf("insert with free codes 2..5: %v", err)
	}
	if got != (ticket{6, 2}) {
		t.Fatalf("inserted %+v, want id 6, code 2", got)
	}
	if err := db.check(); err != nil {
		t.Fatal(err)
	}
}

// mark is a set (no primary key) with an autoinc column.
type mark struct {
	Name string
	N    uint8
}

func markDef() *Def[mark] {
	whole := &Index[mark]{Name: "mark_row", Columns: []string{"name", "n"}, Unique: true,
		Compare: func(a, b *mark, n int) int {
			if c := cmp.Compare(a.Name, b.Name); c != 0 || n == 1 {
				return c
			}
			return cmp.Compare(a.N, b.N)
		},
		Format: func(r *mark, n int) string { return fmt.Sprintf("name=%q, n=%d", r.Name, r.N) }}
	return &Def[mark]{Name: "mark", Set: true, Primary: whole,
		Columns:   []Column{{Name: "name", Type: "string"}, {Name: "n", Type: "uint8"}},
		Sequences: []AutoInc[mark]{NewAutoInc("mark_n_seq", "n", SeqParams[uint8]{}, func(r *mark) *uint8 { return &r.N })},
		Encode:    func(dst []byte, r *mark) []byte { return append(codec.AppendString(dst, r.Name), r.N) },
		Decode: func(src []byte, r *mark) error {
			d := codec.NewReader(src)
			r.Name, r.N = d.Text(), d.Byte()
			return d.Err()
		}}
}

// TestSetGeneratedValueCollides checks the collision rule in a set: a
// row whose generated value makes it equal to a stored row is a
// collision of that value, which the sequence skips; the insert stores a
// new row instead of returning the stored one.
func TestSetGeneratedValueCollides(t *testing.T) {
	d := markDef()
	db, err := newDB(d)
	if err != nil {
		t.Fatal(err)
	}
	insert := func(r mark) mark {
		t.Helper()
		tx, err := db.begin()
		if err != nil {
			t.Fatal(err)
		}
		got, err := Use(tx, d).Insert(r)
		if err != nil {
			t.Fatal(err)
		}
		tx.commit()
		return got
	}
	insert(mark{Name: "a", N: 1}) // explicit, where the sequence starts
	if got := insert(mark{Name: "a"}); got != (mark{"a", 2}) {
		t.Fatalf("insert with n 0 gave %+v, want a new row with n 2", got)
	}
	tx, _ := db.begin()
	if n := Use(tx, d).Reader().Count(); n != 2 {
		t.Fatalf("the set holds %d rows, want 2", n)
	}
	tx.commit()
	// An explicit row equal to a stored one still returns the stored row.
	if got := insert(mark{Name: "a", N: 2}); got != (mark{"a", 2}) {
		t.Fatalf("explicit duplicate: %+v", got)
	}
	if err := db.check(); err != nil {
		t.Fatal(err)
	}
}

// TestCollisionTriesOffStep checks the collision rule for a sequence whose
// first pass lies off the steps of the passes after a wrap (a start that
// is not min plus a multiple of the increment): the free value of a later
// pass is found, and NoFree comes only once every value of both kinds of
// pass has been tried.
func TestCollisionTriesOffStep(t *testing.T) {
	for _, tc := range []struct {
		name  string
		p     SeqParams[uint8]
		taken []uint8
		want  uint8
	}{
		// 2, 5, 8, then 1, 4, 7, 10 after each wrap.
		{"up", SeqParams[uint8]{Min: 1, HasMin: true, Max: 10, HasMax: true, Increment: 3, Start: 2, HasStart: true},
			[]uint8{2, 5, 8, 1}, 4},
		// 9, 6, 3, then 10, 7, 4, 1 after each wrap.
		{"down", SeqParams[uint8]{Min: 1, HasMin: true, Max: 10, HasMax: true, Increment: -3, Start: 9, HasStart: true},
			[]uint8{9, 6, 3, 10}, 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := ticketDef(tc.p)
			db, err := newDB(d)
			if err != nil {
				t.Fatal(err)
			}
			tx, _ := db.begin()
			u := Use(tx, d)
			for _, code := range tc.taken {
				if _, err := u.Insert(ticket{Code: code}); err != nil {
					t.Fatal(err)
				}
			}
			got, err := u.Insert(ticket{})
			if err != nil || got.Code != tc.want {
				t.Fatalf("insert with codes %v taken: %+v %v, want code %d", tc.taken, got, err, tc.want)
			}
			// Every value taken: NoFree, after trying them all.
			for code := uint8(1); code <= 10; code++ {
				u.Insert(ticket{Code: code})
			}
			var ee *ExhaustedError
			if _, err := u.Insert(ticket{}); !errors.As(err, &ee) || !ee.NoFree {
				t.Fatalf("insert with every code taken: %v", err)
			}
			tx.commit()
			if err := db.check(); err != nil {
				t.Fatal(err)
			}
		})
	}
}
