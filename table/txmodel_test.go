package table

import (
	"errors"
	"fmt"
	stdmaps "maps"
	"math/rand/v2"
	"slices"
	"testing"
)

// umodel is the reference state of the user table: rows by id, and the
// reference sequence (the value it tries next; it never goes back).
type umodel struct {
	rows map[uint8]user
	seq  uint8
}

func (m umodel) clone() umodel { return umodel{rows: stdmaps.Clone(m.rows), seq: m.seq} }

func (m umodel) emailTaken(email string, self uint8) bool {
	for _, r := range m.rows {
		if r.Email == email && r.ID != self {
			return true
		}
	}
	return false
}

// generate is what the sequence (1..255, cycling, batch of any size)
// hands out for an insert whose id is 0 and whose email is free: the next
// value not taken, skipping taken ones; ok false when every value is taken.
func (m *umodel) generate() (uint8, bool) {
	for range 255 {
		v := m.seq
		if m.seq++; m.seq == 0 {
			m.seq = 1
		}
		if _, taken := m.rows[v]; !taken {
			return v, true
		}
	}
	return 0, false
}

func (m umodel) sorted() []user {
	return slices.SortedFunc(stdmaps.Values(m.rows), func(a, b user) int { return int(a.ID) - int(b.ID) })
}

// checkUsers compares every read of r with m: count, every row by id and
// by email, the whole primary key (sorted for a hash primary key), and the
// non-unique (team, name) index in its order.
func checkUsers(t *testing.T, at string, f *fixture, r *Reader[user], m umodel, hashPK bool) {
	t.Helper()
	if r.Count() != len(m.rows) {
		t.Fatalf("%s: count %d, model %d", at, r.Count(), len(m.rows))
	}
	for id := range 256 {
		got, ok := r.Get(user{ID: uint8(id)})
		want, wok := m.rows[uint8(id)]
		if ok != wok || got != want {
			t.Fatalf("%s: Get(%d) = %+v %v, want %+v %v", at, id, got, ok, want, wok)
		}
	}
	for _, w := range m.rows {
		if got, ok := r.Find(f.email, user{Email: w.Email}); !ok || got != w {
			t.Fatalf("%s: Find(email %q) = %+v %v, want %+v", at, w.Email, got, ok, w)
		}
	}
	all := collect(r.All())
	if hashPK {
		slices.SortFunc(all, func(a, b user) int { return int(a.ID) - int(b.ID) })
	}
	if want := m.sorted(); !slices.Equal(all, want) {
		t.Fatalf("%s: All = %v, want %v", at, all, want)
	}
	byTeam := m.sorted()
	slices.SortStableFunc(byTeam, func(a, b user) int { return f.team.Compare(&a, &b, 2) })
	if got := collect(r.Scan(f.team, Bound[user]{}, Bound[user]{})); !slices.Equal(got, byTeam) {
		t.Fatalf("%s: team index = %v, want %v", at, got, byTeam)
	}
}

// expectGenerated checks what an insert (or an upsert) of row, whose id
// is 0, returned against next: the id the sequence hands out, or the
// error when the table is full or the email taken. next takes the row
// when it went in.
func expectGenerated(t *testing.T, at string, next *umodel, row, got user, err error) {
	t.Helper()
	want, ok := next.generate()
	switch {
	case !ok:
		if !errors.Is(err, ErrExhausted) {
			t.Fatalf("%s into a full table: %v", at, err)
		}
	case next.emailTaken(row.Email, 0):
		var ue *UniqueError
		if !errors.As(err, &ue) || ue.Table != "user" || ue.Index != "user_email" {
			t.Fatalf("%s %+v: %v, want a unique violation of user_email", at, row, err)
		}
	case err != nil || got.ID != want:
		t.Fatalf("%s %+v = %+v %v, want id %d", at, row, got, err, want)
	default:
		next.rows[got.ID] = got
	}
}

// txEnd is how endTx ended a transaction.
type txEnd int

const (
	txRolledBack     txEnd = iota
	txUndone               // committed, then taken back by undo
	txUndoneRetained       // committed and retained, then taken back by undoRetained
	txCommitted
)

// endTx ends tx at random: it rolls back (2 in 10), commits and undoes
// the transaction (1 in 10) or its retained commit (1 in 10), or commits,
// and then checks the database's invariants. On a commit m becomes next
// and c is the commit; otherwise m keeps its rows and takes next's
// sequence, as values handed out are not given back.
func endTx(t *testing.T, at string, rng *rand.Rand, f *fixture, tx *Tx, m *umodel, next umodel) (end txEnd, c *Commit) {
	t.Helper()
	switch k := rng.IntN(10); {
	case k < 2:
		tx.rollback()
		m.seq, end = next.seq, txRolledBack
	case k < 3:
		tx.commit()
		tx.undo()
		m.seq, end = next.seq, txUndone
	case k < 4:
		tx.commit()
		r := f.db.retain()
		f.db.undoRetained(r)
		recycle(r)
		m.seq, end = next.seq, txUndoneRetained
	default:
		c = tx.commit()
		*m, end = next, txCommitted
	}
	if err := f.db.check(); err != nil {
		t.Fatalf("%s: %v", at, err)
	}
	return end, c
}

// TestTxModel runs seeded random transactions on the user table, with
// B-tree and hash indexes, against a reference model: inserts with
// generated and explicit ids, updates by id and by email that change keys,
// deletes and reinserts of the same keys, writes while ranging; each
// transaction commits, rolls back, or commits and is then taken back
// (undo, undoRetained). Views taken along the way are held across many
// later transactions and must keep showing their commit.
func TestTxModel(t *testing.T) {
	for _, hash := range []bool{false, true} {
		for _, collide := range []bool{false, true} {
			if collide && !hash {
				continue
			}
			t.Run(fmt.Sprintf("hash=%v,collide=%v", hash, collide), func(t *testing.T) {
				var f *fixture
				if hash {
					f = hashFixture(t, collide)
				} else {
					f = newFixture(t, SeqParams[uint8]{Batch: 7})
				}
				testTxModel(t, f, hash)
			})
		}
	}
}

func testTxModel(t *testing.T, f *fixture, hash bool) {
	rng := rand.New(rand.NewPCG(7, 11))
	m := umodel{rows: map[uint8]user{}, seq: 1}
	type held struct {
		v    *View
		m    umodel
		txid uint64
	}
	var views []held
	email := func() string { return fmt.Sprintf("e%d@x", rng.IntN(300)) }
	for step := range 450 {
		tx, err := f.db.begin()
		if err != nil {
			t.Fatal(err)
		}
		u := Use(tx, f.users)
		next := m.clone()
		for range 1 + rng.IntN(12) {
			k := rng.IntN(20)
			// Phases of mostly inserts and of mostly deletes: the table
			// grows (the hash indexes double while views hold their old
			// slots) and shrinks again.
			if step/150%2 == 1 && k < 8 && rng.IntN(4) > 0 {
				k = 12 + rng.IntN(5)
			}
			switch {
			case k < 8: // insert, mostly generated ids
				row := user{Email: email(), Team: fmt.Sprint("t", rng.IntN(4)), Name: fmt.Sprint("n", rng.IntN(3))}
				if rng.IntN(4) == 0 {
					row.ID = uint8(1 + rng.IntN(255))
				}
				got, err := u.Insert(row)
				_, idTaken := next.rows[row.ID]
				if row.ID == 0 {
					expectGenerated(t, fmt.Sprintf("step %d: insert", step), &next, row, got, err)
					continue
				}
				if idTaken || next.emailTaken(row.Email, 0) {
					if !errors.Is(err, ErrUniqueViolation) {
						t.Fatalf("step %d: insert %+v: %v, want a unique violation", step, row, err)
					}
					continue
				}
				if err != nil || got != row {
					t.Fatalf("step %d: insert %+v = %+v %v", step, row, got, err)
				}
				next.rows[row.ID] = row
			case k < 12: // update by id or by email, changing keys
				ids := slices.Sorted(stdmaps.Keys(next.rows))
				if len(ids) == 0 {
					continue
				}
				cur := next.rows[ids[rng.IntN(len(ids))]]
				row := cur
				row.Team, row.Name = fmt.Sprint("t", rng.IntN(4)), fmt.Sprint("n", rng.IntN(3))
				var err error
				if rng.IntN(2) == 0 {
					row.Email = email()
					_, err = u.Update(row)
					if next.emailTaken(row.Email, row.ID) {
						if !errors.Is(err, ErrUniqueViolation) {
							t.Fatalf("step %d: update %+v onto a taken email: %v", step, row, err)
						}
						continue
					}
				} else {
					// By email: the id may move.
					row.ID = uint8(1 + rng.IntN(255))
					_, err = u.UpdateBy(f.email, row)
					if _, taken := next.rows[row.ID]; taken && row.ID != cur.ID {
						if !errors.Is(err, ErrUniqueViolation) {
							t.Fatalf("step %d: update by email %+v onto a taken id: %v", step, row, err)
						}
						continue
					}
					delete(next.rows, cur.ID)
				}
				if err != nil {
					t.Fatalf("step %d: update %+v: %v", step, row, err)
				}
				next.rows[row.ID] = row
			case k < 17: // delete by id or by email, sometimes reinserting
				id := uint8(1 + rng.IntN(255))
				cur, ok := next.rows[id]
				var err error
				if rng.IntN(2) == 0 || !ok {
					_, err = u.Delete(user{ID: id})
				} else {
					_, err = u.DeleteBy(f.email, user{Email: cur.Email})
				}
				if !ok {
					if !errors.Is(err, ErrNotFound) {
						t.Fatalf("step %d: delete of missing %d: %v", step, id, err)
					}
					continue
				}
				if err != nil {
					t.Fatalf("step %d: delete %d: %v", step, id, err)
				}
				delete(next.rows, id)
				if rng.IntN(2) == 0 {
					if _, err := u.Insert(cur); err != nil {
						t.Fatalf("step %d: reinsert %+v: %v", step, cur, err)
					}
					next.rows[id] = cur
				}
			default: // write while ranging: the range sees the rows as they were
				before := next.sorted()
				var seen []user
				for r := range u.Reader().All() {
					seen = append(seen, r)
					if len(seen) < 3 {
						if _, err := u.Delete(user{ID: r.ID}); err != nil {
							t.Fatalf("step %d: delete during range: %v", step, err)
						}
						if _, err := u.Insert(r); err != nil {
							t.Fatalf("step %d: reinsert during range: %v", step, err)
						}
					}
				}
				if hash {
					slices.SortFunc(seen, func(a, b user) int { return int(a.ID) - int(b.ID) })
				}
				if !slices.Equal(seen, before) {
					t.Fatalf("step %d: range during writes saw %v, want %v", step, seen, before)
				}
			}
		}
		checkUsers(t, fmt.Sprintf("step %d in tx", step), f, u.Reader(), next, hash)
		endTx(t, fmt.Sprintf("step %d", step), rng, f, tx, &m, next)
		if rng.IntN(3) == 0 {
			v, err := f.db.view()
			if err != nil {
				t.Fatal(err)
			}
			views = append(views, held{v, m.clone(), v.TxID})
			if len(views) > 12 {
				views = slices.Delete(views, 0, 1)
			}
		}
		if step%5 != 0 {
			continue
		}
		for i, h := range views {
			checkUsers(t, fmt.Sprintf("step %d view %d (tx %d)", step, i, h.txid), f, Read(h.v, f.users), h.m, hash)
		}
	}
}
