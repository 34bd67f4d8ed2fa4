package table

import (
	"errors"
	"strings"
	"testing"
)

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
