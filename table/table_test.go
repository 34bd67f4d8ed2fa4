package table

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func collect[R any](seq func(func(R) bool)) []R {
	var out []R
	for r := range seq {
		out = append(out, r)
	}
	return out
}

func ids(rows []user) []uint8 {
	out := make([]uint8, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	return out
}

func TestInsertFindUpdateDelete(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{})
	got := f.insert(t, user{Email: "a@x", Team: "red", Name: "ann"}, user{Email: "b@x", Team: "blue", Name: "bob"},
		user{ID: 40, Email: "c@x", Team: "red", Name: "cat"})
	equal(t, ids(got), []uint8{1, 2, 40})

	f.update(t, func(tx *Tx) error {
		u := Use(tx, f.users)
		if r, ok := u.Get(user{ID: 2}); !ok || r.Email != "b@x" {
			t.Fatalf("Get: %+v %v", r, ok)
		}
		if r, ok := u.Reader().Find(f.email, user{Email: "c@x"}); !ok || r.ID != 40 {
			t.Fatalf("Find by email: %+v %v", r, ok)
		}
		if r, ok := u.Reader().Find(f.team, user{Team: "red", Name: "ann"}); !ok || r.ID != 1 {
			t.Fatalf("Find by team,name: %+v %v", r, ok)
		}
		if _, ok := u.Get(user{ID: 3}); ok {
			t.Fatal("found a missing row")
		}
		// Update by primary key; update by unique column keeps the autoinc key.
		if _, err := u.Update(user{ID: 2, Email: "b2@x", Team: "blue", Name: "bob"}); err != nil {
			t.Fatal(err)
		}
		r, err := u.UpdateBy(f.email, user{Email: "a@x", Team: "green", Name: "ann"})
		if err != nil || r.ID != 1 {
			t.Fatalf("UpdateBy: %+v %v", r, err)
		}
		if _, ok := u.Reader().Find(f.email, user{Email: "b@x"}); ok {
			t.Fatal("old email still indexed")
		}
		if got := ids(collect(u.Reader().Lookup(f.team, user{Team: "green"}, 1))); !slices.Equal(got, []uint8{1}) {
			t.Fatalf("team green: %v", got)
		}
		if _, err := u.Update(user{ID: 9}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("update missing: %v", err)
		}
		d, err := u.DeleteBy(f.email, user{Email: "c@x"})
		if err != nil || d.ID != 40 {
			t.Fatalf("DeleteBy: %+v %v", d, err)
		}
		var nf *NotFoundError
		if _, err := u.Delete(user{ID: 40}); !errors.As(err, &nf) || nf.Index != "user_pk" || nf.Value != "id=40" {
			t.Fatalf("delete twice: %v", err)
		}
		if u.Reader().Count() != 2 {
			t.Fatalf("count %d", u.Reader().Count())
		}
		return nil
	})
}

func TestUniqueViolationLeavesIndexes(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{})
	f.insert(t, user{Email: "a@x", Team: "red", Name: "ann"}, user{Email: "b@x", Team: "red", Name: "bob"})
	before := f.dump()
	f.update(t, func(tx *Tx) error {
		u := Use(tx, f.users)
		_, err := u.Insert(user{Email: "a@x", Team: "blue", Name: "zed"})
		var ue *UniqueError
		if !errors.As(err, &ue) || !errors.Is(err, ErrUniqueViolation) || ue.Table != "user" || ue.Index != "user_email" || ue.Value != `email="a@x"` {
			t.Fatalf("duplicate email: %v", err)
		}
		f.same(t, before)
		_, err = u.Insert(user{ID: 1, Email: "new@x"})
		if !errors.As(err, &ue) || ue.Index != "user_pk" || ue.Value != "id=1" {
			t.Fatalf("duplicate id: %v", err)
		}
		f.same(t, before)
		_, err = u.Update(user{ID: 2, Email: "a@x"})
		if !errors.As(err, &ue) || ue.Index != "user_email" {
			t.Fatalf("update onto another row's email: %v", err)
		}
		f.same(t, before)
		_, err = u.UpdateBy(f.email, user{ID: 1, Email: "b@x"})
		if !errors.As(err, &ue) || ue.Index != "user_pk" {
			t.Fatalf("update onto another row's id: %v", err)
		}
		f.same(t, before)
		return nil
	})
}

func TestRollbackRestoresEverything(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{Batch: 2})
	f.insert(t, user{Email: "a@x", Team: "red", Name: "ann"}, user{Email: "b@x", Team: "red", Name: "bob"},
		user{Email: "c@x", Team: "blue", Name: "cat"})
	before := f.dump()
	_, err := f.update(t, func(tx *Tx) error {
		u := Use(tx, f.users)
		for _, r := range []user{{Email: "d@x"}, {Email: "e@x", Team: "red"}} {
			if _, err := u.Insert(r); err != nil {
				return err
			}
		}
		if _, err := u.Update(user{ID: 1, Email: "a2@x", Team: "zzz"}); err != nil {
			return err
		}
		if _, err := u.Delete(user{ID: 2}); err != nil {
			return err
		}
		if _, err := u.UpdateBy(f.email, user{Email: "c@x", Team: "x", Name: "y"}); err != nil {
			return err
		}
		if _, err := u.Insert(user{ID: 2, Email: "b@x", Team: "again"}); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("expected the rollback error")
	}
	f.same(t, before)
	// The rolled-back transaction's values are not given back.
	got := f.insert(t, user{Email: "f@x"})
	if got[0].ID != 6 {
		t.Fatalf("after rollback got id %d, want 6", got[0].ID)
	}
}

// TestRollbackKeepsBoundaryMove checks that a boundary move made by a
// rolled-back transaction goes out with the next commit, so every value a
// later commit uses is covered by a reported boundary.
func TestRollbackKeepsBoundaryMove(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{Batch: 3})
	var reported uint64
	note := func(c *Commit) {
		for _, m := range c.Seqs {
			reported = m.Next
		}
	}
	c, _ := f.update(t, func(tx *Tx) error { _, err := Use(tx, f.users).Insert(user{Email: "a"}); return err })
	note(c) // boundary 4: values 1..3
	// Use 2 and 3, then 4 in a transaction that rolls back: it moves the
	// boundary to 7.
	c, _ = f.update(t, func(tx *Tx) error {
		Use(tx, f.users).Insert(user{Email: "b"})
		_, err := Use(tx, f.users).Insert(user{Email: "c"})
		return err
	})
	note(c)
	f.update(t, func(tx *Tx) error {
		Use(tx, f.users).Insert(user{Email: "d"})
		return errors.New("fail")
	})
	var used uint8
	c, _ = f.update(t, func(tx *Tx) error {
		r, err := Use(tx, f.users).Insert(user{Email: "e"})
		used = r.ID
		return err
	})
	note(c)
	if used != 5 || uint64(used) >= reported {
		t.Fatalf("value %d used with reported boundary %d", used, reported)
	}
	if reported != 7 {
		t.Fatalf("reported boundary %d, want 7", reported)
	}
}

// TestCollisionSkips pins the collision rule: a generated value that meets
// an existing key is skipped; an explicit one is an error; a range with no
// free value is exhausted.
func TestCollisionSkips(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{Min: 1, HasMin: true, Max: 5, HasMax: true})
	f.insert(t, user{ID: 2, Email: "two"}, user{ID: 3, Email: "three"})
	got := f.insert(t, user{Email: "a"}, user{Email: "b"}, user{Email: "c"})
	equal(t, ids(got), []uint8{1, 4, 5})
	_, err := f.update(t, func(tx *Tx) error { _, err := Use(tx, f.users).Insert(user{Email: "d"}); return err })
	var ee *ExhaustedError
	if !errors.As(err, &ee) || !ee.NoFree || ee.Sequence != "user_id_seq" {
		t.Fatalf("full range: %v", err)
	}
	f.update(t, func(tx *Tx) error { _, err := Use(tx, f.users).Delete(user{ID: 3}); return err })
	// After the wrap the sequence finds the freed value.
	got = f.insert(t, user{Email: "e"})
	equal(t, ids(got), []uint8{3})
}

func TestWrapAt255(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{Start: 254, HasStart: true})
	got := f.insert(t, user{Email: "a"}, user{Email: "b"}, user{Email: "c"})
	equal(t, ids(got), []uint8{254, 255, 1})
	// Values are exact: after 255 comes 1, never a truncated 0 or 256.
	f.update(t, func(tx *Tx) error {
		if _, ok := Use(tx, f.users).Get(user{ID: 0}); ok {
			t.Fatal("a row with id 0")
		}
		return nil
	})
}

func TestScans(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{})
	for _, r := range []user{{Team: "a", Name: "x"}, {Team: "b", Name: "m"}, {Team: "b", Name: "n"}, {Team: "b", Name: "n"},
		{Team: "c", Name: "a"}, {Team: "d", Name: "z"}} {
		r.Email = r.Team + r.Name + string(rune('0'+f.db.tables[0].(*handle).rt.(*Table[user]).Reader().Count()))
		f.insert(t, r)
	}
	f.update(t, func(tx *Tx) error {
		u := Use(tx, f.users)
		equal(t, ids(collect(u.Reader().All())), []uint8{1, 2, 3, 4, 5, 6})
		equal(t, ids(collect(u.Reader().Backward())), []uint8{6, 5, 4, 3, 2, 1})
		// Primary key ranges with inclusive and exclusive bounds.
		equal(t, ids(collect(u.Reader().Scan(f.users.Primary, Incl(user{ID: 2}, 0), Excl(user{ID: 5}, 0)))), []uint8{2, 3, 4})
		equal(t, ids(collect(u.Reader().Scan(f.users.Primary, Excl(user{ID: 2}, 0), Incl(user{ID: 5}, 0)))), []uint8{3, 4, 5})
		equal(t, ids(collect(u.Reader().ScanBackward(f.users.Primary, Excl(user{ID: 2}, 0), Incl(user{ID: 5}, 0)))), []uint8{5, 4, 3})
		equal(t, ids(collect(u.Reader().Scan(f.users.Primary, Bound[user]{}, Incl(user{ID: 2}, 0)))), []uint8{1, 2})
		equal(t, ids(collect(u.Reader().Scan(f.users.Primary, Incl(user{ID: 5}, 0), Bound[user]{}))), []uint8{5, 6})
		// A prefix of the (team, name) index.
		equal(t, ids(collect(u.Reader().Lookup(f.team, user{Team: "b"}, 1))), []uint8{2, 3, 4})
		equal(t, ids(collect(u.Reader().Lookup(f.team, user{Team: "b", Name: "n"}, 0))), []uint8{3, 4})
		equal(t, ids(collect(u.Reader().Scan(f.team, Excl(user{Team: "a"}, 1), Excl(user{Team: "d"}, 1)))), []uint8{2, 3, 4, 5})
		equal(t, ids(collect(u.Reader().Scan(f.team, Incl(user{Team: "b", Name: "n"}, 2), Incl(user{Team: "c"}, 1)))), []uint8{3, 4, 5})
		equal(t, ids(collect(u.Reader().ScanBackward(f.team, Incl(user{Team: "b"}, 1), Excl(user{Team: "c", Name: "a"}, 2)))), []uint8{4, 3, 2})
		// An iterator stops when the loop breaks and can be ranged again.
		seq := u.Reader().All()
		for range 2 {
			n := 0
			for range seq {
				if n++; n == 2 {
					break
				}
			}
			if n != 2 {
				t.Fatalf("ranged %d rows", n)
			}
		}
		return nil
	})
}

func TestWriteWhileIterating(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{})
	f.insert(t, user{Email: "a"}, user{Email: "b"}, user{Email: "c"})
	f.update(t, func(tx *Tx) error {
		u := Use(tx, f.users)
		var seen []uint8
		for r := range u.Reader().All() {
			seen = append(seen, r.ID)
			// Delete the next row and insert new ones: the running range
			// does not see either.
			if _, err := u.Insert(user{Email: r.Email + "+"}); err != nil {
				t.Fatal(err)
			}
			if r.ID == 1 {
				if _, err := u.Delete(user{ID: 2}); err != nil {
					t.Fatal(err)
				}
			}
		}
		equal(t, seen, []uint8{1, 2, 3})
		equal(t, ids(collect(u.Reader().All())), []uint8{1, 3, 4, 5, 6})
		return nil
	})
}

func TestSetTable(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{})
	c, _ := f.update(t, func(tx *Tx) error {
		g := Use(tx, f.tags)
		g.Insert(tag{"color", "red"})
		g.Insert(tag{"color", "red"})
		g.Insert(tag{"color", "blue"})
		if g.Reader().Count() != 2 {
			t.Fatalf("count %d", g.Reader().Count())
		}
		return nil
	})
	if ch := ChangesOf(c, f.tags); len(ch) != 2 {
		t.Fatalf("an identical insert was recorded: %+v", ch)
	}
}

func TestUpsert(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{})
	f.update(t, func(tx *Tx) error {
		u := Use(tx, f.users)
		r, ins, err := u.Upsert(user{Email: "a"})
		if err != nil || !ins || r.ID != 1 {
			t.Fatalf("upsert new: %+v %v %v", r, ins, err)
		}
		r, ins, err = u.Upsert(user{ID: 1, Email: "a2"})
		if err != nil || ins || r.Email != "a2" || u.Reader().Count() != 1 {
			t.Fatalf("upsert existing: %+v %v %v", r, ins, err)
		}
		return nil
	})
}

// TestUpsertSetIdentical checks that Upsert of a row a set already holds
// reports inserted=false, as it stores nothing.
func TestUpsertSetIdentical(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{})
	f.update(t, func(tx *Tx) error {
		g := Use(tx, f.tags)
		if _, ins, err := g.Upsert(tag{"color", "red"}); err != nil || !ins {
			t.Fatalf("upsert of a new row: inserted %v, %v", ins, err)
		}
		if _, ins, err := g.Upsert(tag{"color", "red"}); err != nil || ins || g.Reader().Count() != 1 {
			t.Fatalf("upsert of a held row: inserted %v, count %d, %v", ins, g.Reader().Count(), err)
		}
		return nil
	})
}

// TestUpdateAdvancesSequence checks that an update setting an autoinc
// column to a value ahead of its sequence moves an Advance sequence past
// it, with the boundary move in the commit, and leaves any other sequence,
// or the Advance one on an update that keeps the value, alone.
func TestUpdateAdvancesSequence(t *testing.T) {
	for _, advance := range []bool{false, true} {
		f := newFixture(t, SeqParams[uint8]{Advance: advance, Batch: 4})
		f.insert(t, user{Email: "a"}, user{Email: "b"})
		c, err := f.update(t, func(tx *Tx) error {
			u := Use(tx, f.users)
			// Through the unique email, the primary key (the autoinc
			// column) moves to 50.
			_, err := u.UpdateBy(f.email, user{ID: 50, Email: "a"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var seqs []uint64
		for _, m := range c.Seqs {
			seqs = append(seqs, m.Next)
		}
		want, wantSeqs := uint8(3), []uint64(nil)
		if advance {
			want, wantSeqs = 51, []uint64{55}
		}
		if !slices.Equal(seqs, wantSeqs) {
			t.Errorf("advance=%v: the update's boundary moves %v, want %v", advance, seqs, wantSeqs)
		}
		// An update that keeps the value (0, or the same value) moves
		// nothing, even where the row's value lies ahead of the sequence.
		c, err = f.update(t, func(tx *Tx) error {
			u := Use(tx, f.users)
			if _, err := u.UpdateBy(f.email, user{Email: "a", Team: "t"}); err != nil {
				return err
			}
			_, err := u.Update(user{ID: 50, Email: "a", Team: "u"})
			return err
		})
		if err != nil || len(c.Seqs) != 0 {
			t.Fatalf("advance=%v: an update keeping the value moved %+v, %v", advance, c.Seqs, err)
		}
		if got := f.insert(t, user{Email: "c"})[0].ID; got != want {
			t.Errorf("advance=%v: the insert after the update got id %d, want %d", advance, got, want)
		}
	}
}

func TestCommitChanges(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{Batch: 10})
	f.insert(t, user{Email: "a"})
	c, _ := f.update(t, func(tx *Tx) error {
		u := Use(tx, f.users)
		u.Insert(user{Email: "b"})
		u.Update(user{ID: 1, Email: "a2"})
		u.Delete(user{ID: 2})
		Use(tx, f.tags).Insert(tag{"k", "v"})
		return nil
	})
	ch := ChangesOf(c, f.users)
	if len(ch) != 3 || ch[0].Op != OpInsert || ch[0].New.ID != 2 || ch[1].Op != OpUpdate || ch[1].Old.Email != "a" ||
		ch[1].New.Email != "a2" || ch[2].Op != OpDelete || ch[2].Old.ID != 2 {
		t.Fatalf("changes: %+v", ch)
	}
	if len(c.Tables) != 2 || c.Tables[0].TableName() != "user" || c.Tables[1].TableName() != "tag" {
		t.Fatalf("tables in commit: %d", len(c.Tables))
	}
	// Encoded changes decode to the same rows.
	var r user
	if err := f.users.Decode(c.Tables[0].AppendNew(nil, 0), &r); err != nil || r != ch[0].New {
		t.Fatalf("encoded insert: %+v %v", r, err)
	}
	if len(c.Seqs) != 0 {
		t.Fatalf("no boundary move expected: %+v", c.Seqs)
	}
}

func TestReplayApply(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{Batch: 4})
	var log []struct {
		table    string
		op       Op
		old, new []byte
	}
	var seqs []SeqMove
	record := func(c *Commit) {
		for _, cs := range c.Tables {
			for i := range cs.Len() {
				log = append(log, struct {
					table    string
					op       Op
					old, new []byte
				}{cs.TableName(), cs.Op(i), cs.AppendOld(nil, i), cs.AppendNew(nil, i)})
			}
		}
		seqs = append(seqs, c.Seqs...)
	}
	for i := range 6 {
		c, _ := f.update(t, func(tx *Tx) error {
			u := Use(tx, f.users)
			u.Insert(user{Email: string(rune('a' + i))})
			if i%2 == 1 {
				u.Update(user{ID: uint8(i), Email: "u" + string(rune('a'+i))})
			}
			if i == 4 {
				u.Delete(user{ID: 1})
			}
			return nil
		})
		record(c)
	}
	g := newFixture(t, SeqParams[uint8]{Batch: 4})
	tx, _ := g.db.begin()
	for _, e := range log {
		if err := tx.replay(e.table, e.op, e.old, e.new); err != nil {
			t.Fatal(err)
		}
	}
	tx.commit()
	for _, m := range seqs {
		if err := g.db.restoreSequence(m); err != nil {
			t.Fatal(err)
		}
	}
	g.same(t, f.dump())
	next := g.insert(t, user{Email: "z"})
	if next[0].ID != 9 {
		t.Fatalf("after replay the sequence gave %d, want 9 (the boundary)", next[0].ID)
	}
	tx, _ = g.db.begin()
	if err := tx.replay("user", OpInsert, nil, []byte{}); !errors.Is(err, ErrCorruptState) {
		t.Fatalf("bad row: %v", err)
	}
	if err := tx.replay("nope", OpInsert, nil, nil); !errors.Is(err, ErrCorruptState) {
		t.Fatalf("bad table: %v", err)
	}
	tx.rollback()
}

func TestViewIsolation(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{})
	f.insert(t, user{Email: "a"}, user{Email: "b"})
	v, err := f.db.view()
	if err != nil {
		t.Fatal(err)
	}
	f.insert(t, user{Email: "c"})
	f.update(t, func(tx *Tx) error { _, err := Use(tx, f.users).Delete(user{ID: 1}); return err })
	r := Read(v, f.users)
	if r.Count() != 2 {
		t.Fatalf("view count %d", r.Count())
	}
	equal(t, ids(collect(r.All())), []uint8{1, 2})
	if _, ok := r.Find(f.email, user{Email: "c"}); ok {
		t.Fatal("view sees a later insert")
	}
	var n int
	v.Rows("user", func([]byte) error { n++; return nil })
	if n != 2 {
		t.Fatalf("Rows saw %d", n)
	}
}

func TestSchemaErrors(t *testing.T) {
	d1, _, _ := userDef(SeqParams[uint8]{})
	d2, _, _ := userDef(SeqParams[uint8]{})
	if _, err := newDB(d1, d2); !errors.Is(err, ErrSchema) {
		t.Fatalf("duplicate table: %v", err)
	}
	d3, email, _ := userDef(SeqParams[uint8]{})
	d3.Indexes = append(d3.Indexes, email)
	if _, err := newDB(d3); !errors.Is(err, ErrSchema) {
		t.Fatalf("duplicate index: %v", err)
	}
	d4, _, _ := userDef(SeqParams[uint8]{Min: 0, HasMin: true})
	var pe *SeqParamError
	if _, err := newDB(d4); !errors.As(err, &pe) || pe.Table != "user" || pe.Sequence != "user_id_seq" {
		t.Fatalf("bad sequence: %v", err)
	}
	d5, _, _ := userDef(SeqParams[uint8]{})
	d5.Encode = nil
	if _, err := newDB(d5); !errors.Is(err, ErrSchema) {
		t.Fatalf("no codec: %v", err)
	}
	d6, email6, _ := userDef(SeqParams[uint8]{})
	email6.Key, email6.KeyExact = nil, true
	if _, err := newDB(d6); !errors.Is(err, ErrSchema) {
		t.Fatalf("KeyExact without Key: %v", err)
	}
	d7, _, _ := userDef(SeqParams[uint8]{})
	d7.Sequences = append(d7.Sequences, AutoInc[user]{})
	if _, err := newDB(d7); !errors.Is(err, ErrSchema) {
		t.Fatalf("an AutoInc not made by NewAutoInc: %v", err)
	}
	d8, _, _ := userDef(SeqParams[uint8]{})
	for i := len(d8.Sequences); i <= maxSequences; i++ {
		d8.Sequences = append(d8.Sequences, NewAutoInc(fmt.Sprintf("user_s%d_seq", i), "id", SeqParams[uint8]{},
			func(u *user) *uint8 { return &u.ID }))
	}
	if _, err := newDB(d8); !errors.Is(err, ErrSchema) || !strings.Contains(err.Error(), "65 autoinc columns") {
		t.Fatalf("65 autoinc columns: %v", err)
	}
}

func TestTxDone(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{})
	tx, _ := f.db.begin()
	u := Use(tx, f.users)
	if _, err := f.db.begin(); err == nil {
		t.Fatal("two open transactions")
	}
	tx.commit()
	if _, err := u.Insert(user{Email: "late"}); !errors.Is(err, ErrTxDone) {
		t.Fatalf("write after commit: %v", err)
	}
}

// TestUseOtherDef: Use and Read with a Def of another database, even one
// of the same row type at the same position, panic naming the table,
// instead of handing out this database's table.
func TestUseOtherDef(t *testing.T) {
	mine, theirs := ledgerDef(), ledgerDef()
	db, err := newDB(mine)
	if err != nil {
		t.Fatal(err)
	}
	tx, _ := db.begin()
	defer func() {
		v := recover()
		err, _ := v.(error)
		if err == nil || !strings.Contains(err.Error(), "table ledger is not a table of this database") {
			t.Fatalf("Use with another database's Def: %v", v)
		}
	}()
	Use(tx, mine) // its own: fine
	Use(tx, theirs)
	t.Fatal("Use with another database's Def returned")
}
