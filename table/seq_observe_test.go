package table

import (
	"slices"
	"testing"
)

// TestSequenceObserveInsideBatch inserts 10,000 rows with explicit keys
// in order into a table whose Advance sequence allocates 4096 values at a
// time, upwards and downwards: the commits persist one boundary per batch
// the keys run through (three), not one per key; a rolled-back
// transaction's explicit key inside the batch moves the sequence past it
// and persists nothing; and after a restart at the persisted boundary the
// sequence generates no key a row holds.
func TestSequenceObserveInsideBatch(t *testing.T) {
	for _, c := range []struct {
		name string
		p    SeqParams[int16]
		key  func(i int) int16 // the i-th explicit key, from 0
		want []int16           // the boundaries the commits persist
	}{
		{"up", SeqParams[int16]{Advance: true, Batch: 4096},
			func(i int) int16 { return int16(1 + i) }, []int16{4098, 8195, 12292}},
		{"down", SeqParams[int16]{Max: -1, HasMax: true, Increment: -1, Advance: true, Batch: 4096},
			func(i int) int16 { return int16(-1 - i) }, []int16{-4098, -8195, -12292}},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := negDef(c.p, false)
			db, err := newDB(d)
			if err != nil {
				t.Fatal(err)
			}
			var moves []int16
			commit := func(tx *Tx) {
				for _, m := range tx.commit().Seqs {
					moves = append(moves, int16(m.Next))
				}
				if err := db.check(); err != nil {
					t.Fatal(err)
				}
			}
			tx, _ := db.begin()
			for i := range 10_000 {
				if _, err := Use(tx, d).Insert(neg{ID: c.key(i)}); err != nil {
					t.Fatal(err)
				}
			}
			commit(tx)
			if !slices.Equal(moves, c.want) {
				t.Fatalf("%d boundaries persisted (%v, ...), want %v", len(moves), moves[:min(len(moves), 5)], c.want)
			}
			// Key 10,001 inside the batch, rolled back: the sequence
			// stays past it and nothing is persisted.
			tx, _ = db.begin()
			if _, err := Use(tx, d).Insert(neg{ID: c.key(10_000)}); err != nil {
				t.Fatal(err)
			}
			tx.rollback()
			tx, _ = db.begin()
			r, err := Use(tx, d).Insert(neg{})
			if err != nil {
				t.Fatal(err)
			}
			commit(tx)
			if r.ID != c.key(10_001) || !slices.Equal(moves, c.want) {
				t.Fatalf("after the rolled-back key: generated %d, boundaries %v; want %d, %v", r.ID, moves, c.key(10_001), c.want)
			}
			// A restart at the last persisted boundary resumes after
			// every stored key.
			snap := db.sequences()
			db2, err := newDB(d)
			if err != nil {
				t.Fatal(err)
			}
			if err := db2.restoreSequence(SeqMove{Table: "neg", Sequence: "neg_id_seq", Next: uint64(int64(moves[len(moves)-1]))}); err != nil {
				t.Fatal(err)
			}
			if b := snap[0]; int16(b.Next) != c.want[len(c.want)-1] {
				t.Fatalf("snapshot boundary %d, want %d", int16(b.Next), c.want[len(c.want)-1])
			}
			tx, _ = db2.begin()
			r, err = Use(tx, d).Insert(neg{})
			if err != nil {
				t.Fatal(err)
			}
			if r.ID != c.want[len(c.want)-1] {
				t.Fatalf("after a restart: generated %d, want %d", r.ID, c.want[len(c.want)-1])
			}
		})
	}
}

// BenchmarkInsertExplicitAdvance inserts rows with explicit keys in order
// into a table whose Advance sequence allocates 4096 values at a time, 100
// rows a transaction, and reports the boundary moves the commits persist
// per row.
func BenchmarkInsertExplicitAdvance(b *testing.B) {
	d := negDef(SeqParams[int16]{Advance: true, Batch: 4096, NoCycle: true}, false)
	var db *DB
	moves, rows := 0, 0
	id := int16(0)
	for b.Loop() {
		if id == 0 || id > 32000 {
			b.StopTimer()
			var err error
			if db, err = newDB(d); err != nil {
				b.Fatal(err)
			}
			id = 1
			b.StartTimer()
		}
		tx, _ := db.begin()
		for range 100 {
			if _, err := Use(tx, d).Insert(neg{ID: id}); err != nil {
				b.Fatal(err)
			}
			id++
		}
		moves += len(tx.commit().Seqs)
		rows += 100
	}
	b.ReportMetric(float64(moves)/float64(rows), "moves/row")
}
