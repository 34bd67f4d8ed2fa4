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

// item is a row whose primary key is a hash index keyed by its exact
// inline key, with a unique hash index on a string (not exact: its
// lookups compare rows) and a non-unique B-tree index: the indexes that
// replay changes in place or moves between.
type item struct {
	ID    uint64
	Code  string
	Group string
	N     int64
}

func itemDef() *Def[item] {
	return &Def[item]{Name: "item",
		Primary: &Index[item]{Name: "item_pk", Columns: []string{"id"}, Unique: true,
			Compare:  func(a, b *item, _ int) int { return cmp.Compare(a.ID, b.ID) },
			Format:   func(r *item, _ int) string { return fmt.Sprint("id=", r.ID) },
			Key:      func(r *item) uint64 { return KeyUint(r.ID) },
			KeyExact: true,
			Hash:     func(r *item) uint64 { return HashUint(r.ID) }},
		Indexes: []*Index[item]{
			{Name: "item_code", Columns: []string{"code"}, Unique: true,
				Compare: func(a, b *item, _ int) int { return strings.Compare(a.Code, b.Code) },
				Format:  func(r *item, _ int) string { return fmt.Sprintf("code=%q", r.Code) },
				Hash:    func(r *item) uint64 { return HashString(r.Code) }},
			{Name: "item_group", Columns: []string{"group"},
				Compare: func(a, b *item, _ int) int { return strings.Compare(a.Group, b.Group) },
				Format:  func(r *item, _ int) string { return fmt.Sprintf("group=%q", r.Group) },
				Key:     func(r *item) uint64 { return KeyString(r.Group) }},
		},
		Columns: []Column{{Name: "id", Type: "uint64"}, {Name: "code", Type: "string"},
			{Name: "group", Type: "string"}, {Name: "n", Type: "int64"}},
		Encode: func(dst []byte, r *item) []byte {
			dst = codec.AppendUvarint(dst, r.ID)
			dst = codec.AppendString(dst, r.Code)
			dst = codec.AppendString(dst, r.Group)
			return codec.AppendVarint(dst, r.N)
		},
		Decode: func(src []byte, r *item) error {
			d := codec.NewReader(src)
			r.ID, r.Code, r.Group, r.N = d.Uvarint(), d.Text(), d.Text(), d.Varint()
			return d.Err()
		}}
}

// logged is one row change as the log carries it.
type logged struct {
	table    string
	op       Op
	old, new []byte
}

func logOf(c *Commit) []logged {
	var out []logged
	for _, cs := range c.Tables {
		for i := range cs.Len() {
			out = append(out, logged{cs.TableName(), cs.Op(i), cs.AppendOld(nil, i), cs.AppendNew(nil, i)})
		}
	}
	return out
}

// itemRows returns every row of r by each index, in a canonical order.
func itemRows(r *Reader[item]) []item {
	var rows []item
	for it := range r.All() {
		rows = append(rows, it)
	}
	slices.SortFunc(rows, func(a, b item) int { return cmp.Compare(a.ID, b.ID) })
	return rows
}

// TestReplayInPlace replays random transactions (inserts, updates that
// keep the primary key and change the other keys or not, updates by the
// unique code that move the primary key, deletes) into a second database,
// a transaction at a time, taking a view after each: every view holds
// exactly the state after its transaction, later replays changing
// nothing it shows, and the indexes stay consistent.
func TestReplayInPlace(t *testing.T) {
	def, def2 := itemDef(), itemDef()
	src, err := newDB(def)
	if err != nil {
		t.Fatal(err)
	}
	dst, err := newDB(def2)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	code := func() string { return fmt.Sprint("c", rng.IntN(60)) }
	group := func() string { return fmt.Sprint("g", rng.IntN(5)) }
	type seen struct {
		v    *View
		want []item
	}
	var views []seen
	for range 300 {
		tx, _ := src.begin()
		u := Use(tx, def)
		for range 1 + rng.IntN(4) {
			id := uint64(1 + rng.IntN(40))
			cur, ok := u.Reader().Get(item{ID: id})
			switch k := rng.IntN(10); {
			case !ok:
				u.Insert(item{ID: id, Code: code(), Group: group(), N: 1})
			case k < 4:
				cur.N++
				u.Update(cur)
			case k < 6:
				cur.Code, cur.Group = code(), group()
				u.Update(cur)
			case k < 8:
				cur.ID = uint64(1 + rng.IntN(60))
				u.UpdateBy(def.Indexes[0], cur)
			default:
				u.Delete(item{ID: id})
			}
		}
		c := tx.commit()
		entries := logOf(c)
		want := itemRows(Read(must(src.view()), def))
		src.release()
		rt, _ := dst.begin()
		for _, e := range entries {
			if err := rt.replay(e.table, e.op, e.old, e.new); err != nil {
				t.Fatal(err)
			}
		}
		rt.commit()
		if err := dst.check(); err != nil {
			t.Fatal(err)
		}
		views = append(views, seen{must(dst.view()), want})
	}
	for i, s := range views {
		r := Read(s.v, def2)
		if got := itemRows(r); !slices.Equal(got, s.want) {
			t.Fatalf("view %d: %v, want %v", i, got, s.want)
		}
		for _, w := range s.want {
			if got, ok := r.Find(def2.Indexes[0], item{Code: w.Code}); !ok || got != w {
				t.Fatalf("view %d: by code %q: %v %v, want %v", i, w.Code, got, ok, w)
			}
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestReplayMisfit checks that a replayed change that does not fit the
// state fails with ErrCorruptState and says which row.
func TestReplayMisfit(t *testing.T) {
	def := itemDef()
	enc := func(r item) []byte { return def.Encode(nil, &r) }
	a, b := item{ID: 1, Code: "a", Group: "x"}, item{ID: 2, Code: "b", Group: "x"}
	for _, tc := range []struct {
		name     string
		op       Op
		old, new item
		target   error
		says     string
	}{
		{"update of a missing row", OpUpdate, item{ID: 9, Code: "z"}, item{ID: 9, Code: "z"}, ErrNotFound, "id=9"},
		{"delete of a missing row", OpDelete, item{ID: 9}, item{}, ErrNotFound, "id=9"},
		{"update onto a held unique key", OpUpdate, a, item{ID: 1, Code: "b", Group: "x"}, ErrUniqueViolation, `code="b"`},
		{"update of a row logged with another unique key", OpUpdate, item{ID: 1, Code: "q", Group: "x"},
			item{ID: 1, Code: "q", Group: "y"}, nil, "index item_code does not hold the row with id=1"},
		{"moving update onto a held key", OpUpdate, a, item{ID: 2, Code: "a"}, ErrUniqueViolation, "id=2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, err := newDB(def)
			if err != nil {
				t.Fatal(err)
			}
			tx, _ := db.begin()
			for _, r := range []item{a, b} {
				if err := tx.replay("item", OpInsert, nil, enc(r)); err != nil {
					t.Fatal(err)
				}
			}
			tx.commit()
			tx, _ = db.begin()
			var nb []byte
			if tc.op == OpUpdate {
				nb = enc(tc.new)
			}
			err = tx.replay("item", tc.op, enc(tc.old), nb)
			if !errors.Is(err, ErrCorruptState) || (tc.target != nil && !errors.Is(err, tc.target)) ||
				!strings.Contains(err.Error(), tc.says) || !strings.Contains(err.Error(), "item") {
				t.Fatalf("got %v, want %v saying %q", err, tc.target, tc.says)
			}
			onePrefix(t, err)
		})
	}
}

// onePrefix fails t unless err's message says "keel: " once, at the front.
func onePrefix(t *testing.T, err error) {
	t.Helper()
	if msg := err.Error(); !strings.HasPrefix(msg, "keel: ") || strings.Count(msg, "keel:") != 1 {
		t.Errorf("%q: want one keel: prefix, at the front", msg)
	}
}

// TestReplayErrorsOnePrefix checks the messages of replayed inserts and
// rows that do not fit: one "keel: " prefix, the table and the cause.
func TestReplayErrorsOnePrefix(t *testing.T) {
	def := itemDef()
	db, err := newDB(def)
	if err != nil {
		t.Fatal(err)
	}
	tx, _ := db.begin()
	defer tx.rollback()
	a := item{ID: 1, Code: "a"}
	if err := tx.replay("item", OpInsert, nil, def.Encode(nil, &a)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name     string
		op       Op
		old, new []byte
		target   error
		says     string
	}{
		{"duplicate insert", OpInsert, nil, def.Encode(nil, &a), ErrUniqueViolation, "item_pk already holds id=1"},
		{"insert that does not decode", OpInsert, nil, []byte{0xff}, ErrCorruptState, "item"},
		{"update that does not decode", OpUpdate, []byte{0xff}, nil, ErrCorruptState, "item"},
		{"unknown op", Op(9), nil, nil, ErrCorruptState, "unknown op 9"},
	} {
		err := tx.replay("item", tc.op, tc.old, tc.new)
		if !errors.Is(err, ErrCorruptState) || !errors.Is(err, tc.target) || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("%s: got %v, want %v saying %q", tc.name, err, tc.target, tc.says)
			continue
		}
		onePrefix(t, err)
	}
}
