package table

import (
	"errors"
	"fmt"
	stdmaps "maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestReviewTxModelRestart extends the transaction model (TestTxModel)
// where it is blind: restarts and Upsert. Along seeded random
// transactions (committed, rolled back, or taken back by undo and
// undoRetained) it keeps what the runtime persists: a snapshot (the rows
// of a view and every sequence's boundary) and the commits since, with
// their sequence moves. A restart builds a fresh database from them; it
// must hold exactly the model's rows, and its sequence must resume at or
// beyond the value the model's sequence tries next, by at most one batch:
// no committed value is handed out again, and little is skipped.
func TestReviewTxModelRestart(t *testing.T) {
	for _, hash := range []bool{false, true} {
		for _, advance := range []bool{false, true} {
			t.Run(fmt.Sprintf("hash=%v,advance=%v", hash, advance), func(t *testing.T) {
				mk := func() *fixture {
					if hash {
						f := hashFixture(t, false)
						if advance {
							// hashFixture's description with an Advance sequence.
							f.users.Sequences = []AutoInc[user]{NewAutoInc("user_id_seq", "id",
								SeqParams[uint8]{Advance: true}, func(r *user) *uint8 { return &r.ID })}
							db, err := newDB(f.users, f.tags)
							if err != nil {
								t.Fatal(err)
							}
							f.db = db
						}
						return f
					}
					return newFixture(t, SeqParams[uint8]{Batch: 7, Advance: advance})
				}
				testTxModelRestart(t, mk, hash, advance)
			})
		}
	}
}

// observe is what an Advance sequence does with an explicit id v: it
// moves past v when v lies ahead of it.
func (m *umodel) observe(v uint8) {
	if v >= m.seq {
		if m.seq = v + 1; m.seq == 0 {
			m.seq = 1
		}
	}
}

func testTxModelRestart(t *testing.T, mk func() *fixture, hash, advance bool) {
	rng := rand.New(rand.NewPCG(3, 5))
	f := mk()
	batch := f.users.Info().Sequences[0].Batch
	m := umodel{rows: map[uint8]user{}, seq: 1}
	var snapRows [][]byte
	var snapSeqs []SeqMove
	var log []logged
	var logSeqs []SeqMove
	var atCommit uint8 = 1 // the model's next value at the last commit
	snapshot := func() {
		v, err := f.db.view()
		if err != nil {
			t.Fatal(err)
		}
		snapRows = snapRows[:0]
		if err := v.Rows("user", func(row []byte) error {
			snapRows = append(snapRows, append([]byte(nil), row...))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		snapSeqs = f.db.sequences()
		log, logSeqs = log[:0], logSeqs[:0]
	}
	restart := func(step int) {
		g := mk()
		tx, err := g.db.begin()
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.load("user", snapRows); err != nil {
			t.Fatalf("step %d: load: %v", step, err)
		}
		for _, e := range log {
			if err := tx.replay(e.table, e.op, e.old, e.new); err != nil {
				t.Fatalf("step %d: replay: %v", step, err)
			}
		}
		tx.commit()
		for _, s := range append(slices.Clone(snapSeqs), logSeqs...) {
			if err := g.db.restoreSequence(s); err != nil {
				t.Fatalf("step %d: restore %+v: %v", step, s, err)
			}
		}
		tx, _ = g.db.begin()
		checkUsers(t, fmt.Sprintf("step %d after restart", step), g, Use(tx, g.users).Reader(), m, hash)
		tx.rollback()
		st := g.db.SequenceStates()[0]
		next := uint8(st.Next)
		// Steps on 1..255 from the value the sequence tried next at the
		// last commit to the restored one, and to the one it tries next
		// now: values of transactions that did not commit may come again.
		d := (int(next) - int(atCommit) + 255) % 255
		live := (int(m.seq) - int(atCommit) + 255) % 255
		if st.Exhausted || uint64(d) > uint64(live)+batch {
			t.Fatalf("step %d: restart resumes at %d (exhausted %v); the sequence was at %d at the last commit, at %d now, batch %d",
				step, next, st.Exhausted, atCommit, m.seq, batch)
		}
		atCommit = next
		m.seq = next
		f = g
		snapshot()
	}
	email := func() string { return fmt.Sprintf("e%d@x", rng.IntN(300)) }
	for step := range 600 {
		tx, err := f.db.begin()
		if err != nil {
			t.Fatal(err)
		}
		u := Use(tx, f.users)
		next := m.clone()
		for range 1 + rng.IntN(10) {
			row := user{Email: email(), Team: fmt.Sprint("t", rng.IntN(3)), Name: "n"}
			switch k := rng.IntN(10); {
			case k < 4: // insert with a generated id
				got, err := u.Insert(row)
				expectGenerated(t, fmt.Sprintf("step %d: insert", step), &next, row, got, err)
			case k < 7: // upsert: an explicit id, taken or not, or 0
				if rng.IntN(4) > 0 {
					row.ID = uint8(1 + rng.IntN(255))
				}
				got, inserted, err := u.Upsert(row)
				cur, exists := next.rows[row.ID]
				if row.ID == 0 {
					if err == nil && !inserted {
						t.Fatalf("step %d: upsert %+v = %+v, an update", step, row, got)
					}
					expectGenerated(t, fmt.Sprintf("step %d: upsert", step), &next, row, got, err)
					continue
				}
				if next.emailTaken(row.Email, row.ID) {
					if !errors.Is(err, ErrUniqueViolation) {
						t.Fatalf("step %d: upsert %+v: %v, want a unique violation", step, row, err)
					}
					continue
				}
				if err != nil || got != row || inserted == exists {
					t.Fatalf("step %d: upsert %+v (stored %+v %v) = %+v %v %v", step, row, cur, exists, got, inserted, err)
				}
				if advance && !exists {
					next.observe(row.ID) // an insert, once stored
				}
				next.rows[row.ID] = row
			case k < 8: // update by email, moving the id
				ids := slices.Sorted(stdmaps.Keys(next.rows))
				if len(ids) == 0 {
					continue
				}
				cur := next.rows[ids[rng.IntN(len(ids))]]
				row.Email, row.ID = cur.Email, uint8(1+rng.IntN(255))
				got, err := u.UpdateBy(f.email, row)
				if _, taken := next.rows[row.ID]; taken && row.ID != cur.ID {
					if !errors.Is(err, ErrUniqueViolation) {
						t.Fatalf("step %d: update by email %+v onto a taken id: %v", step, row, err)
					}
					continue
				}
				if err != nil || got != row {
					t.Fatalf("step %d: update by email %+v = %+v %v", step, row, got, err)
				}
				if advance && row.ID != cur.ID {
					next.observe(row.ID)
				}
				delete(next.rows, cur.ID)
				next.rows[row.ID] = row
			default: // delete by id or by email
				ids := slices.Sorted(stdmaps.Keys(next.rows))
				if len(ids) == 0 {
					continue
				}
				cur := next.rows[ids[rng.IntN(len(ids))]]
				var got user
				if rng.IntN(2) == 0 {
					got, err = u.Delete(user{ID: cur.ID})
				} else {
					got, err = u.DeleteBy(f.email, user{Email: cur.Email})
				}
				if err != nil || got != cur {
					t.Fatalf("step %d: delete %+v = %+v %v", step, cur, got, err)
				}
				delete(next.rows, cur.ID)
			}
		}
		switch end, c := endTx(t, fmt.Sprintf("step %d", step), rng, f, tx, &m, next); end {
		case txUndoneRetained:
			// Its boundary moves were never persisted; the runtime writes
			// nothing more after such a failure, and a later open starts
			// from a snapshot of what is live.
			snapshot()
			atCommit = m.seq
		case txCommitted:
			log = append(log, logOf(c)...)
			logSeqs = append(logSeqs, c.Seqs...)
			atCommit = m.seq
		}
		switch rng.IntN(25) {
		case 0:
			snapshot()
		case 1, 2:
			restart(step)
		}
	}
}
