package table

import (
	"cmp"
	"fmt"
	"slices"
	"testing"

	"github.com/keeldb/keel/codec"
)

// memo is a row with memory a copy of its struct shares: a slice and bytes.
type memo struct {
	ID   uint64
	Tags []string
	Body []byte
}

func memoDef(set bool) *Def[memo] {
	pk := &Index[memo]{Name: "memo_pk", Columns: []string{"id"}, Unique: true,
		Compare: func(a, b *memo, n int) int { return cmp.Compare(a.ID, b.ID) },
		Format:  func(r *memo, n int) string { return fmt.Sprintf("id=%d", r.ID) },
		Key:     func(r *memo) uint64 { return r.ID }, KeyExact: true}
	if set {
		pk.Columns = []string{"id", "tags", "body"}
		pk.Compare = func(a, b *memo, n int) int {
			return cmp.Or(cmp.Compare(a.ID, b.ID), slices.Compare(a.Tags, b.Tags), slices.Compare(a.Body, b.Body))
		}
		pk.KeyExact = false
	}
	return &Def[memo]{Name: "memo", Set: set, Primary: pk,
		Encode: func(dst []byte, r *memo) []byte {
			dst = codec.AppendUvarint(dst, r.ID)
			dst = codec.AppendUvarint(dst, uint64(len(r.Tags)))
			for _, s := range r.Tags {
				dst = codec.AppendString(dst, s)
			}
			return codec.AppendBytes(dst, r.Body)
		},
		Decode: func(src []byte, r *memo) error {
			d := codec.NewReader(src)
			r.ID = d.Uvarint()
			r.Tags = nil
			for range d.Uvarint() {
				r.Tags = append(r.Tags, d.Text())
			}
			r.Body = d.Bytes(false)
			return d.Err()
		},
		Normalize: func(r *memo) { r.Tags, r.Body = codec.NormSlice(r.Tags), codec.NormBytes(r.Body) },
		Clone:     func(r *memo) { r.Tags, r.Body = codec.NormSlice(r.Tags), codec.NormBytes(r.Body) },
	}
}

// spoil changes r's slice and bytes in place, as a reducer might before
// it writes the row back.
func spoil(r memo) {
	if len(r.Tags) > 0 {
		r.Tags[0] = "spoilt"
	}
	if len(r.Body) > 0 {
		r.Body[0] = '!'
	}
}

// TestRowsHandedOutOwnTheirMemory: every row the table hands out (a read
// in a transaction or a view, a scan, the rows Insert, Update and Delete
// return, a commit's changes) can be changed in place without changing
// the stored row, a view of an earlier commit, a commit's changes or what
// a rollback puts back.
func TestRowsHandedOutOwnTheirMemory(t *testing.T) {
	want := memo{ID: 1, Tags: []string{"a", "b"}, Body: []byte("body")}
	for _, path := range []string{"get", "view", "scan", "insert", "update", "update then roll back", "delete", "changes", "set insert"} {
		t.Run(path, func(t *testing.T) {
			d := memoDef(path == "set insert")
			db, err := newDB(d)
			if err != nil {
				t.Fatal(err)
			}
			tx, _ := db.begin()
			inserted, err := Use(tx, d).Insert(memo{ID: 1, Tags: []string{"a", "b"}, Body: []byte("body")})
			if err != nil {
				t.Fatal(err)
			}
			if path == "insert" {
				spoil(inserted)
			}
			tx.commit()
			c := db.retain() // valid after later transactions
			if path == "changes" {
				spoil(ChangesOf(c, d)[0].New)
			}
			v, _ := db.view()
			switch path {
			case "view":
				r, _ := Read(v, d).Get(memo{ID: 1})
				spoil(r)
			case "get", "update", "update then roll back", "delete", "scan", "set insert":
				tx, _ := db.begin()
				tb := Use(tx, d)
				var r memo
				switch path {
				case "get", "update then roll back":
					r, _ = tb.Get(memo{ID: 1})
				case "scan":
					for row := range tb.Reader().All() {
						r = row
					}
				case "update":
					r, err = tb.Update(memo{ID: 1, Tags: []string{"a", "b"}, Body: []byte("body")})
				case "delete":
					r, err = tb.Delete(memo{ID: 1})
				case "set insert":
					// A set's Insert of a row it holds returns the stored one.
					r, err = tb.Insert(memo{ID: 1, Tags: []string{"a", "b"}, Body: []byte("body")})
				}
				if err != nil {
					t.Fatal(err)
				}
				spoil(r)
				if path == "update then roll back" {
					// Write the changed row back, then fail.
					if _, err := tb.Update(r); err != nil {
						t.Fatal(err)
					}
					tx.rollback()
				} else if path == "delete" {
					tx.rollback()
				} else {
					tx.commit()
				}
			}
			if got, _ := Read(v, d).Get(want); !rowEqual(got, want) {
				t.Errorf("a view of the commit before reads %+v, want %+v", got, want)
			}
			if got := ChangesOf(c, d)[0].New; !rowEqual(got, want) {
				t.Errorf("the insert's commit holds %+v, want %+v", got, want)
			}
			tx, _ = db.begin()
			if got, ok := Use(tx, d).Get(want); !ok || !rowEqual(got, want) {
				t.Errorf("the stored row reads %+v (%v), want %+v", got, ok, want)
			}
			tx.rollback()
		})
	}
}

func rowEqual(a, b memo) bool {
	return a.ID == b.ID && slices.Equal(a.Tags, b.Tags) && string(a.Body) == string(b.Body)
}
