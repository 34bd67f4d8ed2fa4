package table

import (
	"cmp"
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"
)

// neg is a row whose autoinc key is an int16 below zero.
type neg struct {
	ID  int16
	Tag string
}

func negDef(p SeqParams[int16], hash bool) *Def[neg] {
	pk := &Index[neg]{Name: "neg_pk", Columns: []string{"id"}, Unique: true,
		Compare:  func(a, b *neg, n int) int { return cmp.Compare(a.ID, b.ID) },
		Format:   func(r *neg, n int) string { return "id=" + strconv.Itoa(int(r.ID)) },
		Key:      func(r *neg) uint64 { return KeyInt(int64(r.ID)) },
		KeyExact: true}
	if hash {
		pk.Hash = func(r *neg) uint64 { return HashInt(int64(r.ID)) }
	}
	return &Def[neg]{Name: "neg", Primary: pk,
		Columns:   []Column{{Name: "id", Type: "int16"}, {Name: "tag", Type: "string"}},
		Sequences: []AutoInc[neg]{NewAutoInc("neg_id_seq", "id", p, func(r *neg) *int16 { return &r.ID })},
		Encode: func(dst []byte, r *neg) []byte {
			return append(append(dst, byte(r.ID), byte(uint16(r.ID)>>8)), r.Tag...)
		},
		Decode: func(src []byte, r *neg) error {
			if len(src) < 2 {
				return errors.New("short")
			}
			r.ID, r.Tag = int16(uint16(src[0])|uint16(src[1])<<8), string(src[2:])
			return nil
		}}
}

// TestReviewSequenceTableRestart runs a table whose key is a cycling or
// nocycle sequence over a range below zero with a negative increment
// that does not divide it (and explicit values with Advance), through
// committed and rolled-back transactions and restarts from what the
// commits persisted (rows and sequence moves only): a generated key is
// never one that a committed row holds, and a nocycle sequence never
// hands a value out twice, even across restarts.
func TestReviewSequenceTableRestart(t *testing.T) {
	for _, hash := range []bool{false, true} {
		for _, nocycle := range []bool{false, true} {
			for _, advance := range []bool{false, true} {
				p := SeqParams[int16]{Min: -200, Max: -3, HasMin: true, HasMax: true, Increment: -3,
					NoCycle: nocycle, Advance: advance, Batch: 5}
				testSeqTableRestart(t, p, hash)
			}
		}
	}
}

func testSeqTableRestart(t *testing.T, p SeqParams[int16], hash bool) {
	rng := rand.New(rand.NewPCG(21, 4))
	d := negDef(p, hash)
	open := func() *DB {
		db, err := newDB(negDef(p, hash))
		if err != nil {
			t.Fatal(err)
		}
		return db
	}
	db, err := newDB(d)
	if err != nil {
		t.Fatal(err)
	}
	committed := map[int16]string{}
	var moves []SeqMove // every persisted move, in order
	handed := map[int16]bool{}
	for step := range 600 {
		if step%37 == 36 { // restart from the persisted rows and moves
			db = open()
			d = db.tables[0].schema().(*Def[neg])
			tx, _ := db.begin()
			for id, tag := range committed {
				if _, err := Use(tx, d).Insert(neg{ID: id, Tag: tag}); err != nil {
					t.Fatalf("step %d: reload %d: %v", step, id, err)
				}
			}
			tx.commit()
			db.release()
			for _, m := range moves {
				if err := db.restoreSequence(m); err != nil {
					t.Fatalf("step %d: restore %+v: %v", step, m, err)
				}
			}
		}
		tx, _ := db.begin()
		u := Use(tx, d)
		mine := map[int16]string{}
		for range 1 + rng.IntN(6) {
			row := neg{Tag: strconv.Itoa(step)}
			if p.Advance && rng.IntN(5) == 0 {
				row.ID = int16(-3 - rng.IntN(198))
			}
			got, err := u.Insert(row)
			if row.ID != 0 {
				if _, taken := committed[row.ID]; taken || mine[row.ID] != "" {
					if !errors.Is(err, ErrUniqueViolation) {
						t.Fatalf("%+v step %d: explicit %d: %v", p, step, row.ID, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%+v step %d: explicit %d: %v", p, step, row.ID, err)
				}
				mine[got.ID] = got.Tag
				continue
			}
			if err != nil {
				if !errors.Is(err, ErrExhausted) {
					t.Fatalf("%+v step %d: %v", p, step, err)
				}
				continue
			}
			if got.ID < -200 || got.ID > -3 || (got.ID+3)%3 != 0 && !p.Advance {
				t.Fatalf("%+v step %d: generated %d off the range's steps", p, step, got.ID)
			}
			if _, taken := committed[got.ID]; taken {
				t.Fatalf("%+v step %d: generated %d, a committed row's key", p, step, got.ID)
			}
			if p.NoCycle && handed[got.ID] {
				t.Fatalf("%+v step %d: generated %d a second time", p, step, got.ID)
			}
			handed[got.ID] = true
			mine[got.ID] = got.Tag
		}
		if rng.IntN(4) == 0 {
			tx.rollback()
			continue
		}
		c := tx.commit()
		moves = append(moves, c.Seqs...)
		for id, tag := range mine {
			committed[id] = tag
		}
		if err := db.check(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReviewSequenceMovesPerBatch checks that a sequence persists one
// boundary move per batch, no more: 23 generated keys in batches of 5
// over a negative range make 5 moves, the boundaries of the five
// batches, and the moves of a rolled-back transaction go out with the
// next commit.
func TestReviewSequenceMovesPerBatch(t *testing.T) {
	p := SeqParams[int16]{Min: -100, Max: -2, HasMin: true, HasMax: true, Increment: -4, Batch: 5}
	d := negDef(p, true)
	db, err := newDB(d)
	if err != nil {
		t.Fatal(err)
	}
	tx, _ := db.begin()
	for range 3 {
		if _, err := Use(tx, d).Insert(neg{}); err != nil {
			t.Fatal(err)
		}
	}
	tx.rollback() // -2, -6, -10 are not given back; the move to -22 stays pending
	tx, _ = db.begin()
	var got []int16
	for range 20 {
		r, err := Use(tx, d).Insert(neg{})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.ID)
	}
	c := tx.commit()
	if got[0] != -14 || got[19] != -90 {
		t.Fatalf("keys %v, want -14 .. -90", got)
	}
	var next []int16
	for _, m := range c.Seqs {
		next = append(next, int16(m.Next))
	}
	// Batches start at -2, -22, -42, -62, -82; each move names the next.
	want := []int16{-22, -42, -62, -82, -2}
	if len(next) != len(want) {
		t.Fatalf("moves %v, want %v", next, want)
	}
	for i := range want {
		if next[i] != want[i] {
			t.Fatalf("moves %v, want %v", next, want)
		}
	}
}
