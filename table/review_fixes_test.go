package table

import (
	"errors"
	"strings"
	"testing"
)

// TestUpsertZeroKeyInserts: Upsert of a row whose autoinc primary key is
// 0 inserts it with a generated key, also where a stored row has key 0
// (a migration function's rows are stored as they are).
func TestUpsertZeroKeyInserts(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{})
	if _, err := f.update(t, func(tx *Tx) error {
		return tx.load("user", [][]byte{f.users.Encode(nil, &user{ID: 0, Email: "migrated"})})
	}); err != nil {
		t.Fatal(err)
	}
	var got user
	var inserted bool
	if _, err := f.update(t, func(tx *Tx) error {
		var err error
		got, inserted, err = Use(tx, f.users).Upsert(user{Email: "new"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if !inserted || got.ID != 1 || got.Email != "new" {
		t.Fatalf("Upsert with id 0: %+v, inserted %v; want id 1, inserted", got, inserted)
	}
	f.same(t, dump{Count: 2, Indexes: map[string][]user{
		"user_pk":        {{ID: 0, Email: "migrated"}, {ID: 1, Email: "new"}},
		"user_email":     {{ID: 0, Email: "migrated"}, {ID: 1, Email: "new"}},
		"user_team_name": {{ID: 0, Email: "migrated"}, {ID: 1, Email: "new"}},
	}})
}

// TestUpsertExplicitKeyUpdates: an Upsert whose autoinc primary key is
// set replaces the stored row, keeping Upsert's other half.
func TestUpsertExplicitKeyUpdates(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{})
	f.insert(t, user{Email: "a"})
	var inserted bool
	if _, err := f.update(t, func(tx *Tx) error {
		var err error
		_, inserted, err = Use(tx, f.users).Upsert(user{ID: 1, Email: "b"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if inserted {
		t.Fatal("Upsert of a stored id inserted")
	}
	if r, _ := f.db.tables[f.users.id].(*handle).rt.(*Table[user]).Get(user{ID: 1}); r.Email != "b" {
		t.Fatalf("row 1 after Upsert: %+v", r)
	}
}

// TestFailedInsertLeavesAdvanceSequence: with Advance, an explicit value
// moves the sequence only when its row is stored, as in Update: a failed
// insert neither moves the sequence past its value nor logs a boundary.
func TestFailedInsertLeavesAdvanceSequence(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{Advance: true})
	f.insert(t, user{Email: "a"})
	tx, err := f.db.begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Use(tx, f.users).Insert(user{ID: 100, Email: "a"}); !errors.Is(err, ErrUniqueViolation) {
		t.Fatalf("insert of a taken email: %v, want ErrUniqueViolation", err)
	}
	c := tx.commit()
	if len(c.Seqs) != 0 {
		t.Fatalf("a failed insert moved the boundary: %+v", c.Seqs)
	}
	if got := f.insert(t, user{Email: "b"}); got[0].ID != 2 {
		t.Fatalf("id after a failed insert of 100: %d, want 2", got[0].ID)
	}
}

// TestStoredInsertAdvancesSequence: the explicit value of an insert that
// is stored still moves an Advance sequence past it, with a boundary
// move when the batch does not hold it.
func TestStoredInsertAdvancesSequence(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{Advance: true})
	c, err := f.update(t, func(tx *Tx) error {
		_, err := Use(tx, f.users).Insert(user{ID: 100, Email: "a"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Seqs) != 1 {
		t.Fatalf("insert of 100 moved %+v, want one boundary move", c.Seqs)
	}
	if got := f.insert(t, user{Email: "b"}); got[0].ID != 101 {
		t.Fatalf("id after 100: %d, want 101", got[0].ID)
	}
}

// TestTxErrors: a write after its transaction ended names the table and
// matches ErrTxDone; a begin or a view while a transaction is open matches
// ErrTxOpen and not ErrTxDone.
func TestTxErrors(t *testing.T) {
	f := newFixture(t, SeqParams[uint8]{})
	tx, err := f.db.begin()
	if err != nil {
		t.Fatal(err)
	}
	u := Use(tx, f.users)
	_, errBegin := f.db.begin()
	_, errView := f.db.view()
	for name, err := range map[string]error{"begin": errBegin, "view": errView} {
		if !errors.Is(err, ErrTxOpen) || errors.Is(err, ErrTxDone) {
			t.Errorf("%s in an open transaction: %v, want ErrTxOpen alone", name, err)
		}
	}
	tx.commit()
	_, errIns := u.Insert(user{Email: "late"})
	_, errUpd := u.Update(user{ID: 1})
	_, errDel := u.Delete(user{ID: 1})
	_, _, errUps := u.Upsert(user{Email: "late"})
	for name, err := range map[string]error{"insert": errIns, "update": errUpd, "delete": errDel, "upsert": errUps} {
		if !errors.Is(err, ErrTxDone) || !strings.Contains(err.Error(), "table user") {
			t.Errorf("%s after commit: %v, want ErrTxDone naming table user", name, err)
		}
	}
}
