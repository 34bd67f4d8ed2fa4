package table

import (
	"errors"
	"fmt"
	"testing"
)

// hashFixture is the user table with its unique email index as a hash
// index, and the primary key one too. With collide, the email index's hash
// takes two values only, so that its entries of equal hash form long
// clusters of slots, told apart by their rows, which deletions move back
// (the primary key's exact inline key places its entries itself, so its
// Hash is not used).
func hashFixture(t *testing.T, collide bool) *fixture {
	t.Helper()
	f := &fixture{}
	f.users, f.email, f.team = userDef(SeqParams[uint8]{})
	f.email.Hash = func(r *user) uint64 { return HashString(r.Email) }
	f.users.Primary.Hash = func(r *user) uint64 { return HashUint(uint64(r.ID)) }
	if collide {
		f.email.Hash = func(r *user) uint64 { return uint64(len(r.Email) % 2) }
	}
	f.tags = tagDef()
	db, err := newDB(f.users, f.tags)
	if err != nil {
		t.Fatal(err)
	}
	f.db = db
	t.Cleanup(func() {
		if err := db.check(); err != nil {
			t.Errorf("consistency check: %v", err)
		}
	})
	return f
}

func TestHashIndex(t *testing.T) {
	for _, collide := range []bool{false, true} {
		t.Run(fmt.Sprint("collide=", collide), func(t *testing.T) { testHashIndex(t, hashFixture(t, collide)) })
	}
}

func testHashIndex(t *testing.T, f *fixture) {
	var rows []user
	for i := range 200 {
		rows = append(rows, user{Email: fmt.Sprintf("u%03d@x", i), Team: fmt.Sprint("t", i%3), Name: fmt.Sprint("n", i)})
	}
	stored := f.insert(t, rows...)
	v, err := f.db.view()
	if err != nil {
		t.Fatal(err)
	}
	before := f.dump()
	// Point lookups through both hash indexes, inside a transaction and
	// through a view.
	r := Read(v, f.users)
	for _, s := range stored {
		if got, ok := r.Find(f.email, user{Email: s.Email}); !ok || got != s {
			t.Fatalf("find by email %s: %+v %v", s.Email, got, ok)
		}
		if got, ok := r.Get(user{ID: s.ID}); !ok || got != s {
			t.Fatalf("get %d: %+v %v", s.ID, got, ok)
		}
		n := 0
		for range r.Lookup(f.email, user{Email: s.Email}, 0) {
			n++
		}
		if n != 1 {
			t.Fatalf("point lookup of %s yields %d rows", s.Email, n)
		}
	}
	if _, ok := r.Find(f.email, user{Email: "nobody"}); ok {
		t.Fatal("found a missing email")
	}
	// A duplicate key is a UniqueError naming the hash index, and leaves
	// every index as it was.
	_, err = f.update(t, func(tx *Tx) error {
		_, err := Use(tx, f.users).Insert(user{Email: stored[5].Email})
		return err
	})
	var ue *UniqueError
	if !errors.As(err, &ue) || ue.Index != "user_email" {
		t.Fatalf("duplicate email: %v", err)
	}
	f.same(t, before)
	// Updates, deletes and a rollback; the view keeps its state.
	_, err = f.update(t, func(tx *Tx) error {
		u := Use(tx, f.users)
		for _, s := range stored[:50] {
			s.Email = "new-" + s.Email
			if _, err := u.Update(s); err != nil {
				return err
			}
		}
		for _, s := range stored[50:100] {
			if _, err := u.Delete(user{ID: s.ID}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Find(f.email, user{Email: stored[0].Email}); !ok {
		t.Fatal("the view lost a row that a later transaction changed")
	}
	if n := r.Count(); n != 200 {
		t.Fatalf("view count %d", n)
	}
	after := f.dump()
	f.update(t, func(tx *Tx) error {
		u := Use(tx, f.users)
		u.Insert(user{Email: "late@x"})
		u.Delete(user{ID: stored[150].ID})
		return errors.New("roll back")
	})
	f.same(t, after)
	// Iterating while writing sees the rows as they were.
	f.update(t, func(tx *Tx) error {
		u := Use(tx, f.users)
		n := 0
		for row := range u.Reader().Scan(f.email, Bound[user]{}, Bound[user]{}) {
			n++
			u.Insert(user{Email: "during-" + row.Email})
		}
		if n != 150 {
			t.Errorf("scan during writes saw %d rows, want 150", n)
		}
		return errors.New("roll back")
	})
	f.same(t, after)
	// A range on a hash index is refused.
	defer func() {
		if recover() == nil {
			t.Error("a range scan of a hash index did not panic")
		}
	}()
	for range r.Scan(f.email, Incl(user{Email: "a"}, 0), Excl(user{Email: "b"}, 0)) {
	}
}

func TestHashIndexLoad(t *testing.T) {
	for _, collide := range []bool{false, true} {
		t.Run(fmt.Sprint("collide=", collide), func(t *testing.T) { testHashIndexLoad(t, collide) })
	}
}

func testHashIndexLoad(t *testing.T, collide bool) {
	f := hashFixture(t, collide)
	var rows [][]byte
	for i := range 250 { // the uint8 primary key's rows, past one chunk of slots
		u := user{ID: uint8(i + 1), Email: fmt.Sprintf("u%05d@x", i)}
		rows = append(rows, f.users.Encode(nil, &u))
	}
	tx, _ := f.db.begin()
	if err := tx.load("user", rows); err != nil {
		t.Fatal(err)
	}
	tx.commit()
	v, _ := f.db.view()
	r := Read(v, f.users)
	for i := range 250 {
		if _, ok := r.Find(f.email, user{Email: fmt.Sprintf("u%05d@x", i)}); !ok {
			t.Fatalf("loaded row %d not found", i)
		}
	}
	// A duplicate key in a snapshot is refused and leaves the table empty.
	g := hashFixture(t, collide)
	dup := append(append([][]byte(nil), rows[:3]...), g.users.Encode(nil, &user{ID: 200, Email: "u00001@x"}))
	tx2, _ := g.db.begin()
	if err := tx2.load("user", dup); !errors.Is(err, ErrCorruptState) || !errors.Is(err, ErrUniqueViolation) {
		t.Fatalf("load with a duplicate email: %v", err)
	}
	tx2.rollback()
}

// BenchmarkHashLookup finds rows by primary key in 100,000 rows inside a
// transaction, through the B-tree (with its inline key) and through a
// hash primary key.
func BenchmarkHashLookup(b *testing.B) {
	for _, hash := range []bool{false, true} {
		b.Run(fmt.Sprint("hash=", hash), func(b *testing.B) {
			d, x := acctDef(true)
			if hash {
				x.pk.Hash = func(r *acct) uint64 { return HashUint(r.ID) }
			}
			db, err := newDB(d)
			if err != nil {
				b.Fatal(err)
			}
			tx, _ := db.begin()
			tb := Use(tx, d)
			const n = 100_000
			for i := range uint64(n) {
				if _, err := tb.Insert(acctRow(i + 1)); err != nil {
					b.Fatal(err)
				}
			}
			tx.commit()
			tx, _ = db.begin()
			tb = Use(tx, d)
			var id uint64
			for b.Loop() {
				id = id*7 + 13
				if _, ok := tb.Reader().Get(acct{ID: id%n + 1}); !ok {
					b.Fatal("missing")
				}
			}
		})
	}
}
