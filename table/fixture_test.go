package table

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp/cmpopts"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/keeldb/keel/codec"
)

// user is the test row: an autoinc uint8 key (small, to reach the edges),
// a unique email, and a two-column index on (team, name).
type user struct {
	ID    uint8
	Email string
	Team  string
	Name  string
}

func userDef(p SeqParams[uint8]) (*Def[user], *Index[user], *Index[user]) {
	pk := &Index[user]{Name: "user_pk", Columns: []string{"id"}, Unique: true,
		Compare:  func(a, b *user, n int) int { return cmp.Compare(a.ID, b.ID) },
		Format:   func(r *user, n int) string { return fmt.Sprintf("id=%d", r.ID) },
		Key:      func(r *user) uint64 { return KeyUint(uint64(r.ID)) },
		KeyExact: true}
	email := &Index[user]{Name: "user_email", Columns: []string{"email"}, Unique: true,
		Compare: func(a, b *user, n int) int { return strings.Compare(a.Email, b.Email) },
		Format:  func(r *user, n int) string { return fmt.Sprintf("email=%q", r.Email) },
		Key:     func(r *user) uint64 { return KeyString(r.Email) }}
	team := &Index[user]{Name: "user_team_name", Columns: []string{"team", "name"},
		Compare: func(a, b *user, n int) int {
			if c := strings.Compare(a.Team, b.Team); c != 0 || n == 1 {
				return c
			}
			return strings.Compare(a.Name, b.Name)
		},
		Format: func(r *user, n int) string { return fmt.Sprintf("team=%q, name=%q", r.Team, r.Name) },
		Key:    func(r *user) uint64 { return KeyString(r.Team) }}
	d := &Def[user]{
		Name:      "user",
		Columns:   []Column{{Name: "id", Type: "uint8"}, {Name: "email", Type: "string"}, {Name: "team", Type: "string"}, {Name: "name", Type: "string"}},
		Primary:   pk,
		Indexes:   []*Index[user]{email, team},
		Sequences: []AutoInc[user]{NewAutoInc("user_id_seq", "id", p, func(r *user) *uint8 { return &r.ID })},
		Encode: func(dst []byte, r *user) []byte {
			dst = append(dst, r.ID)
			dst = codec.AppendString(dst, r.Email)
			dst = codec.AppendString(dst, r.Team)
			return codec.AppendString(dst, r.Name)
		},
		Decode: func(src []byte, r *user) error {
			if len(src) == 0 {
				return codec.ErrShort
			}
			r.ID = src[0]
			d := codec.NewReader(src[1:])
			r.Email, r.Team, r.Name = d.Text(), d.Text(), d.Text()
			return d.Err()
		},
	}
	return d, email, team
}

// tag is a table without a primary key: a set of rows.
type tag struct{ Name, Value string }

func tagDef() *Def[tag] {
	whole := &Index[tag]{Name: "tag_row", Columns: []string{"name", "value"}, Unique: true,
		Compare: func(a, b *tag, n int) int {
			if c := strings.Compare(a.Name, b.Name); c != 0 || n == 1 {
				return c
			}
			return strings.Compare(a.Value, b.Value)
		},
		Format: func(r *tag, n int) string { return fmt.Sprintf("name=%q, value=%q", r.Name, r.Value) },
		Key:    func(r *tag) uint64 { return KeyString(r.Name) }}
	return &Def[tag]{Name: "tag", Set: true, Primary: whole,
		Columns: []Column{{Name: "name", Type: "string"}, {Name: "value", Type: "string"}},
		Encode: func(dst []byte, r *tag) []byte {
			return codec.AppendString(codec.AppendString(dst, r.Name), r.Value)
		},
		Decode: func(src []byte, r *tag) error {
			d := codec.NewReader(src)
			r.Name, r.Value = d.Text(), d.Text()
			return d.Err()
		}}
}

type fixture struct {
	db          *DB
	users       *Def[user]
	email, team *Index[user]
	tags        *Def[tag]
}

func newFixture(t *testing.T, p SeqParams[uint8]) *fixture {
	t.Helper()
	f := &fixture{}
	f.users, f.email, f.team = userDef(p)
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

// update runs fn in a transaction, committing on nil and rolling back
// otherwise, and returns the commit (nil on rollback).
func (f *fixture) update(t *testing.T, fn func(tx *Tx) error) (*Commit, error) {
	t.Helper()
	tx, err := f.db.begin()
	if err != nil {
		t.Fatal(err)
	}
	if err := fn(tx); err != nil {
		tx.rollback()
		return nil, err
	}
	return tx.commit(), nil
}

// dump returns every index's rows in index order, and the count.
type dump struct {
	Count   int
	Indexes map[string][]user
}

func (f *fixture) dump() dump {
	t := f.db.tables[f.users.id].(*handle).rt.(*Table[user])
	d := dump{Count: t.Reader().Count(), Indexes: map[string][]user{}}
	for _, tr := range t.Reader().s.trees {
		var rows []user
		tr.each(func(e entry) bool { rows = append(rows, *(*user)(e.row)); return true })
		if tr.hi != nil {
			slices.SortFunc(rows, func(a, b user) int { return tr.m.cmp(unsafe.Pointer(&a), unsafe.Pointer(&b), tr.m.full) })
		}
		d.Indexes[tr.m.name] = rows
	}
	return d
}

func (f *fixture) same(t *testing.T, want dump) {
	t.Helper()
	if diff := gocmp.Diff(want, f.dump(), cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("indexes changed (-want +got):\n%s", diff)
	}
}

func (f *fixture) insert(t *testing.T, rows ...user) []user {
	t.Helper()
	var out []user
	if _, err := f.update(t, func(tx *Tx) error {
		for _, r := range rows {
			s, err := Use(tx, f.users).Insert(r)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}
