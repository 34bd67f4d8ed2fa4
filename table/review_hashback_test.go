package table

import (
	"fmt"
	"slices"
	"testing"
)

// TestReviewHashBackward checks what Backward promises for a hash primary
// key: All's order reversed, inside a transaction and in a view, and over
// the rows as they were when the range began while writes during it grow
// the index.
func TestReviewHashBackward(t *testing.T) {
	f := hashFixture(t, false)
	var rows []user
	for i := range 120 {
		rows = append(rows, user{Email: fmt.Sprint("b", i)})
	}
	f.insert(t, rows...)
	tx, err := f.db.begin()
	if err != nil {
		t.Fatal(err)
	}
	r := Use(tx, f.users).Reader()
	all, back := collect(r.All()), collect(r.Backward())
	slices.Reverse(back)
	if !slices.Equal(all, back) {
		t.Errorf("in a transaction, Backward is not All reversed:\nAll      %v\nBackward %v", all, back)
	}
	// Writes while ranging backward: the range goes on over the rows as
	// they were when it began.
	u := Use(tx, f.users)
	var seen []user
	for row := range r.Backward() {
		seen = append(seen, row)
		if len(seen)%3 == 0 {
			if _, err := u.Delete(row); err != nil {
				t.Fatal(err)
			}
			for i := range 2 { // the index grows past one chunk: new chunks
				if _, err := u.Insert(user{Email: fmt.Sprint("w", len(seen), "-", i)}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if slices.Reverse(seen); !slices.Equal(seen, all) {
		t.Errorf("Backward during writes saw %d rows, not the %d rows it began with", len(seen), len(all))
	}
	tx.rollback()
	v, err := f.db.view()
	if err != nil {
		t.Fatal(err)
	}
	vr := Read(v, f.users)
	all, back = collect(vr.All()), collect(vr.Backward())
	slices.Reverse(back)
	if !slices.Equal(all, back) {
		t.Errorf("in a view, Backward is not All reversed:\nAll      %v\nBackward %v", all, back)
	}
}
