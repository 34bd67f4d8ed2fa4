package table

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/keeldb/keel/codec"
)

// ledger is the row of the large-load tests: a primary key, a unique name
// and a non-unique group.
type ledger struct {
	ID    uint64
	Name  string
	Group int64
}

func ledgerDef() *Def[ledger] {
	return &Def[ledger]{Name: "ledger",
		Columns: []Column{{Name: "id", Type: "uint64"}, {Name: "name", Type: "string"}, {Name: "group", Type: "int64"}},
		Primary: &Index[ledger]{Name: "ledger_pk", Columns: []string{"id"}, Unique: true,
			Compare: func(a, b *ledger, n int) int { return cmp.Compare(a.ID, b.ID) },
			Format:  func(r *ledger, n int) string { return fmt.Sprint("id=", r.ID) },
			Key:     func(r *ledger) uint64 { return KeyUint(r.ID) }, KeyExact: true},
		Indexes: []*Index[ledger]{
			{Name: "ledger_name", Columns: []string{"name"}, Unique: true,
				Compare: func(a, b *ledger, n int) int { return strings.Compare(a.Name, b.Name) },
				Format:  func(r *ledger, n int) string { return fmt.Sprintf("name=%q", r.Name) },
				Key:     func(r *ledger) uint64 { return KeyString(r.Name) }},
			{Name: "ledger_group", Columns: []string{"group"},
				Compare: func(a, b *ledger, n int) int { return cmp.Compare(a.Group, b.Group) },
				Format:  func(r *ledger, n int) string { return fmt.Sprint("group=", r.Group) }},
		},
		Encode: func(dst []byte, r *ledger) []byte {
			return codec.AppendVarint(codec.AppendString(codec.AppendUvarint(dst, r.ID), r.Name), r.Group)
		},
		Decode: func(src []byte, r *ledger) error {
			d := codec.NewReader(src)
			r.ID, r.Name, r.Group = d.Uvarint(), d.Text(), d.Varint()
			return d.Err()
		}}
}

// ledgerRows encodes n accounts in a shuffled order, names sharing their
// first 8 bytes so that the inline keys collide.
func ledgerRows(def *Def[ledger], n int) [][]byte {
	rows := make([][]byte, n)
	perm := rand.New(rand.NewPCG(1, 2)).Perm(n)
	for i, j := range perm {
		r := ledger{ID: uint64(j + 1), Name: fmt.Sprintf("account-%07d", j), Group: int64(j % 17)}
		rows[i] = def.Encode(nil, &r)
	}
	return rows
}

// TestLoadLarge loads a table large enough for Load to decode and build
// its indexes on several goroutines: every index holds every row, and a
// bad row or a duplicate anywhere leaves the table empty with an error
// naming it.
func TestLoadLarge(t *testing.T) {
	const n = 3*parallelLoad + 5
	def := ledgerDef()
	db, err := newDB(def)
	if err != nil {
		t.Fatal(err)
	}
	tx, _ := db.begin()
	if err := tx.load("ledger", ledgerRows(def, n)); err != nil {
		t.Fatal(err)
	}
	tx.commit()
	if err := db.check(); err != nil {
		t.Fatal(err)
	}
	v, _ := db.view()
	r := Read(v, def)
	if c := r.Count(); c != n {
		t.Fatalf("count %d, want %d", c, n)
	}
	byName := def.Indexes[0]
	for _, j := range []int{0, 1, n / 2, n - 1} {
		got, ok := r.Find(byName, ledger{Name: fmt.Sprintf("account-%07d", j)})
		if !ok || got.ID != uint64(j+1) {
			t.Fatalf("find name of %d: %+v %v", j, got, ok)
		}
	}
	var ids []uint64
	for a := range r.Lookup(def.Indexes[1], ledger{Group: 3}, 0) {
		ids = append(ids, a.ID)
	}
	if want := (n - 3 + 16) / 17; len(ids) != want || !slices.IsSorted(ids) {
		t.Fatalf("group 3: %d rows (sorted %v), want %d in primary-key order", len(ids), slices.IsSorted(ids), want)
	}

	t.Run("bad row", func(t *testing.T) {
		rows := ledgerRows(def, n)
		rows[n-7] = rows[n-7][:2]
		own := ledgerDef()
		db, _ := newDB(own)
		tx, _ := db.begin()
		err := tx.load("ledger", rows)
		if !errors.Is(err, ErrCorruptState) || !strings.Contains(err.Error(), fmt.Sprintf("row %d", n-7)) {
			t.Fatalf("load: %v, want a corrupt-state error naming row %d", err, n-7)
		}
		if c := Use(tx, own).Reader().Count(); c != 0 {
			t.Fatalf("count %d after a failed load", c)
		}
	})
	t.Run("duplicate", func(t *testing.T) {
		def := ledgerDef()
		rows := ledgerRows(def, n)
		dup := ledger{ID: n + 1, Name: "account-0000042"}
		rows = append(rows, def.Encode(nil, &dup))
		db, _ := newDB(def)
		tx, _ := db.begin()
		err := tx.load("ledger", rows)
		var ue *UniqueError
		if !errors.As(err, &ue) || ue.Index != "ledger_name" || !strings.Contains(ue.Value, "account-0000042") {
			t.Fatalf("load: %v, want a unique error on ledger_name", err)
		}
		if c := Use(tx, def).Reader().Count(); c != 0 {
			t.Fatalf("count %d after a failed load", c)
		}
		tx.rollback()
		if err := db.check(); err != nil {
			t.Fatal(err)
		}
	})
}
