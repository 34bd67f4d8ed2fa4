package table

import (
	"cmp"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/keeldb/keel/codec"
)

// doc is the row of the inline-key tests: its string columns come from a
// small set whose members share their first 8 bytes, differ only in
// trailing NULs, or are empty, so inline keys collide all the time and the
// row comparison decides.
type doc struct {
	ID    int64  // primary key
	Name  string // unique
	Group string // non-unique (group, rank)
	Rank  int64
}

type docIndexes struct{ pk, name, group *Index[doc] }

func docDef(keys bool) (*Def[doc], docIndexes) {
	var x docIndexes
	x.pk = &Index[doc]{Name: "doc_pk", Columns: []string{"id"}, Unique: true,
		Compare: func(a, b *doc, n int) int { return cmp.Compare(a.ID, b.ID) },
		Format:  func(r *doc, n int) string { return fmt.Sprintf("id=%d", r.ID) }}
	x.name = &Index[doc]{Name: "doc_name", Columns: []string{"name"}, Unique: true,
		Compare: func(a, b *doc, n int) int { return strings.Compare(a.Name, b.Name) },
		Format:  func(r *doc, n int) string { return fmt.Sprintf("name=%q", r.Name) }}
	x.group = &Index[doc]{Name: "doc_group_rank", Columns: []string{"group", "rank"},
		Compare: func(a, b *doc, n int) int {
			if c := strings.Compare(a.Group, b.Group); c != 0 || n == 1 {
				return c
			}
			return cmp.Compare(a.Rank, b.Rank)
		},
		Format: func(r *doc, n int) string { return fmt.Sprintf("group=%q, rank=%d", r.Group, r.Rank) }}
	if keys {
		x.pk.Key, x.pk.KeyExact = func(r *doc) uint64 { return KeyInt(r.ID) }, true
		x.name.Key = func(r *doc) uint64 { return KeyString(r.Name) }
		x.group.Key = func(r *doc) uint64 { return KeyString(r.Group) }
	}
	d := &Def[doc]{Name: "doc", Primary: x.pk, Indexes: []*Index[doc]{x.name, x.group},
		Columns: []Column{{Name: "id", Type: "int64"}, {Name: "name", Type: "string"}, {Name: "group", Type: "string"}, {Name: "rank", Type: "int64"}},
		Encode: func(dst []byte, r *doc) []byte {
			dst = codec.AppendVarint(dst, r.ID)
			dst = codec.AppendString(dst, r.Name)
			dst = codec.AppendString(dst, r.Group)
			return codec.AppendVarint(dst, r.Rank)
		},
		Decode: func(src []byte, r *doc) error {
			d := codec.NewReader(src)
			r.ID, r.Name, r.Group, r.Rank = d.Varint(), d.Text(), d.Text(), d.Varint()
			return d.Err()
		}}
	return d, x
}

// collide are string values whose inline keys (first 8 bytes) collide.
var collide = []string{"", "\x00", "\x00\x00", "grp", "grp\x00", "groupAAA", "groupAAA\x00", "groupAAAa",
	"groupAAAb", "groupAAA\xff", "groupAAB", "\xff\xff\xff\xff\xff\xff\xff\xff", "\xff\xff\xff\xff\xff\xff\xff\xff\xff"}

func randDoc(r *rand.Rand) doc {
	return doc{ID: int64(r.IntN(40)) - 20, Name: collide[r.IntN(len(collide))] + collide[r.IntN(3)],
		Group: collide[r.IntN(len(collide))], Rank: int64(r.IntN(3)) - 1}
}

// model is the reference: rows by primary key.
type model map[int64]doc

func (m model) sorted(ix *Index[doc], pk *Index[doc]) []doc {
	rows := make([]doc, 0, len(m))
	for _, r := range m {
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(a, b doc) int {
		if c := ix.Compare(&a, &b, len(ix.Columns)); c != 0 {
			return c
		}
		return pk.Compare(&a, &b, 1)
	})
	return rows
}

// within reports whether r lies between lo and hi in index ix.
func within(ix *Index[doc], r doc, lo, hi Bound[doc]) bool {
	width := func(b Bound[doc]) int {
		if b.N <= 0 || b.N > len(ix.Columns) {
			return len(ix.Columns)
		}
		return b.N
	}
	if lo.Key != nil {
		if c := ix.Compare(&r, lo.Key, width(lo)); c < 0 || c == 0 && lo.Exclusive {
			return false
		}
	}
	if hi.Key != nil {
		if c := ix.Compare(&r, hi.Key, width(hi)); c > 0 || c == 0 && hi.Exclusive {
			return false
		}
	}
	return true
}

func randBound(r *rand.Rand, ix *Index[doc]) Bound[doc] {
	if r.IntN(5) == 0 {
		return Bound[doc]{}
	}
	k := randDoc(r)
	return Bound[doc]{Key: &k, N: r.IntN(len(ix.Columns) + 1), Exclusive: r.IntN(2) == 0}
}

// TestInlineKeyCollisions runs a seeded random workload over rows whose
// inline keys collide, with and without inline keys, and checks every
// read against a reference model: Get and Find, range scans with random
// inclusive, exclusive and prefix bounds in both directions, unique
// violations, updates that change keys, deletes and rollbacks, and Load
// and Replay into a fresh database.
func TestInlineKeyCollisions(t *testing.T) {
	for _, keys := range []bool{true, false} {
		t.Run(fmt.Sprintf("keys=%v", keys), func(t *testing.T) {
			seed := uint64(len(fmt.Sprint(keys)))
			r := rand.New(rand.NewPCG(seed, 99))
			def, x := docDef(keys)
			db, err := newDB(def)
			if err != nil {
				t.Fatal(err)
			}
			m := model{}
			for step := range 250 {
				tx, _ := db.begin()
				tb := Use(tx, def)
				next := maps(m)
				for range 1 + r.IntN(6) {
					writeOne(t, r, tb, x, next)
				}
				readAll(t, r, tb.Reader(), x, next)
				if r.IntN(4) == 0 {
					tx.rollback()
				} else {
					tx.commit()
					m = next
				}
				if err := db.check(); err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				v, _ := db.view()
				readAll(t, r, Read(v, def), x, m)
			}
			// Load and Replay the final rows into fresh databases.
			v, _ := db.view()
			var rows [][]byte
			v.Rows("doc", func(b []byte) error { rows = append(rows, slices.Clone(b)); return nil })
			for _, how := range []string{"load", "replay"} {
				def2, x2 := docDef(keys)
				db2, _ := newDB(def2)
				tx, _ := db2.begin()
				if how == "load" {
					// Reverse the rows so that Load has to sort them.
					slices.Reverse(rows)
					err = tx.load("doc", rows)
				} else {
					for _, b := range rows {
						if err = tx.replay("doc", OpInsert, nil, b); err != nil {
							break
						}
					}
				}
				if err != nil {
					t.Fatalf("%s: %v", how, err)
				}
				readAll(t, r, Use(tx, def2).Reader(), x2, m)
				tx.commit()
				if err := db2.check(); err != nil {
					t.Fatalf("%s: %v", how, err)
				}
			}
			// Load refuses duplicates whose inline keys collide.
			db3, _ := newDB(def)
			tx, _ := db3.begin()
			a := doc{ID: 1, Name: "groupAAAa"}
			b := doc{ID: 2, Name: "groupAAAa"}
			if err := tx.load("doc", [][]byte{def.Encode(nil, &a), def.Encode(nil, &b)}); !errors.Is(err, ErrUniqueViolation) {
				t.Fatalf("load of a duplicate name: %v", err)
			}
			tx.rollback()
		})
	}
}

func maps(m model) model {
	c := make(model, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// writeOne applies one random write to tb and to m, checking that the
// table and the model agree on its outcome.
func writeOne(t *testing.T, r *rand.Rand, tb *Table[doc], x docIndexes, m model) {
	t.Helper()
	d := randDoc(r)
	nameTaken := func(name string, self int64) bool {
		for _, o := range m {
			if o.Name == name && o.ID != self {
				return true
			}
		}
		return false
	}
	switch r.IntN(4) {
	case 0, 1: // insert
		_, err := tb.Insert(d)
		_, idTaken := m[d.ID]
		switch {
		case idTaken || nameTaken(d.Name, d.ID):
			if !errors.Is(err, ErrUniqueViolation) {
				t.Fatalf("insert %+v over %v: %v", d, m, err)
			}
		case err != nil:
			t.Fatalf("insert %+v: %v", d, err)
		default:
			m[d.ID] = d
		}
	case 2: // update by primary key or by name; either may change keys
		byName := r.IntN(2) == 0
		var ok bool
		if byName {
			d.ID = 0
			for _, o := range m {
				if o.Name == d.Name {
					d.ID, ok = o.ID, true
				}
			}
		} else {
			_, ok = m[d.ID]
		}
		var err error
		if byName {
			_, err = tb.UpdateBy(x.name, d)
		} else {
			_, err = tb.Update(d)
		}
		switch {
		case !ok:
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("update of a missing %+v: %v", d, err)
			}
		case nameTaken(d.Name, d.ID):
			if !errors.Is(err, ErrUniqueViolation) {
				t.Fatalf("update %+v to a taken name: %v", d, err)
			}
		case err != nil:
			t.Fatalf("update %+v: %v", d, err)
		default:
			m[d.ID] = d
		}
	case 3: // delete by primary key or by name
		var err error
		var want doc
		var ok bool
		if r.IntN(2) == 0 {
			want, ok = m[d.ID]
			_, err = tb.Delete(d)
		} else {
			for _, o := range m {
				if o.Name == d.Name {
					want, ok = o, true
				}
			}
			_, err = tb.DeleteBy(x.name, d)
		}
		switch {
		case !ok:
			if !errors.Is(err, ErrNotFound) {
				t.Fatalf("delete of a missing %+v: %v", d, err)
			}
		case err != nil:
			t.Fatalf("delete %+v: %v", d, err)
		default:
			delete(m, want.ID)
		}
	}
}

// readAll checks every way of reading rd against m.
func readAll(t *testing.T, r *rand.Rand, rd *Reader[doc], x docIndexes, m model) {
	t.Helper()
	if rd.Count() != len(m) {
		t.Fatalf("count %d, model %d", rd.Count(), len(m))
	}
	for range 20 {
		d := randDoc(r)
		got, ok := rd.Get(d)
		want, wok := m[d.ID]
		if ok != wok || ok && got != want {
			t.Fatalf("Get(%d) = %+v %v, want %+v %v", d.ID, got, ok, want, wok)
		}
		got, ok = rd.Find(x.name, d)
		wok = false
		for _, o := range m {
			if o.Name == d.Name {
				want, wok = o, true
			}
		}
		if ok != wok || ok && got != want {
			t.Fatalf("Find(name %q) = %+v %v, want %+v %v", d.Name, got, ok, want, wok)
		}
	}
	for _, ix := range []*Index[doc]{x.pk, x.name, x.group} {
		all := m.sorted(ix, x.pk)
		for range 15 {
			lo, hi := randBound(r, ix), randBound(r, ix)
			if r.IntN(4) == 0 && lo.Key != nil {
				lo, hi = Prefix(*lo.Key, lo.N)
			}
			var want []doc
			for _, row := range all {
				if within(ix, row, lo, hi) {
					want = append(want, row)
				}
			}
			if diff := gocmp.Diff(want, collect(rd.Scan(ix, lo, hi))); diff != "" {
				t.Fatalf("Scan %s %+v %+v (-want +got):\n%s", ix.Name, boundString(lo), boundString(hi), diff)
			}
			slices.Reverse(want)
			if diff := gocmp.Diff(want, collect(rd.ScanBackward(ix, lo, hi))); diff != "" {
				t.Fatalf("ScanBackward %s %+v %+v (-want +got):\n%s", ix.Name, boundString(lo), boundString(hi), diff)
			}
		}
	}
}

func boundString(b Bound[doc]) string {
	if b.Key == nil {
		return "open"
	}
	return fmt.Sprintf("{%+v n=%d excl=%v}", *b.Key, b.N, b.Exclusive)
}
