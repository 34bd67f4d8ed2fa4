package table

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"

	"github.com/keeldb/keel/codec"
)

// acct is the benchmark row: an integer primary key, a unique name whose
// first 8 bytes tell rows apart (hex of a hash), and a unique email whose
// first 8 bytes are shared by a thousand rows each ("user0001..."), the
// case where the inline key falls back to comparing rows.
type acct struct {
	ID      uint64
	Name    string
	Email   string
	Balance int64
}

type acctIndexes struct{ pk, name, email *Index[acct] }

func acctDef(keys bool) (*Def[acct], acctIndexes) {
	var x acctIndexes
	x.pk = &Index[acct]{Name: "acct_pk", Columns: []string{"id"}, Unique: true,
		Compare: func(a, b *acct, _ int) int { return cmp.Compare(a.ID, b.ID) },
		Format:  func(r *acct, _ int) string { return fmt.Sprintf("id=%d", r.ID) }}
	x.name = &Index[acct]{Name: "acct_name", Columns: []string{"name"}, Unique: true,
		Compare: func(a, b *acct, _ int) int { return strings.Compare(a.Name, b.Name) },
		Format:  func(r *acct, _ int) string { return fmt.Sprintf("name=%q", r.Name) }}
	x.email = &Index[acct]{Name: "acct_email", Columns: []string{"email"}, Unique: true,
		Compare: func(a, b *acct, _ int) int { return strings.Compare(a.Email, b.Email) },
		Format:  func(r *acct, _ int) string { return fmt.Sprintf("email=%q", r.Email) }}
	if keys {
		x.pk.Key, x.pk.KeyExact = func(r *acct) uint64 { return KeyUint(r.ID) }, true
		x.name.Key = func(r *acct) uint64 { return KeyString(r.Name) }
		x.email.Key = func(r *acct) uint64 { return KeyString(r.Email) }
	}
	return &Def[acct]{Name: "acct", Primary: x.pk, Indexes: []*Index[acct]{x.name, x.email},
		Columns: []Column{{Name: "id", Type: "uint64"}, {Name: "name", Type: "string"}, {Name: "email", Type: "string"}, {Name: "balance", Type: "int64"}},
		Encode: func(dst []byte, r *acct) []byte {
			dst = codec.AppendUvarint(dst, r.ID)
			dst = codec.AppendString(dst, r.Name)
			dst = codec.AppendString(dst, r.Email)
			return codec.AppendVarint(dst, r.Balance)
		},
		Decode: func(src []byte, r *acct) error {
			d := codec.NewReader(src)
			r.ID, r.Name, r.Email, r.Balance = d.Uvarint(), d.Text(), d.Text(), d.Varint()
			return d.Err()
		}}, x
}

// mix is a bijection on uint64 (splitmix64's finalizer): distinct ids give
// distinct names.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

func acctRow(id uint64) acct {
	return acct{ID: id, Name: fmt.Sprintf("%016x", mix(id)), Email: fmt.Sprintf("user%07d@example.com", id), Balance: int64(id)}
}

// acctDB loads rows 1..n into a new database.
func acctDB(tb testing.TB, n int, keys bool) (*DB, *Def[acct], acctIndexes) {
	tb.Helper()
	def, x := acctDef(keys)
	db, err := newDB(def)
	if err != nil {
		tb.Fatal(err)
	}
	rows := make([][]byte, n)
	for i := range rows {
		r := acctRow(uint64(i + 1))
		rows[i] = def.Encode(nil, &r)
	}
	tx, _ := db.begin()
	if err := tx.load("acct", rows); err != nil {
		tb.Fatal(err)
	}
	tx.commit()
	return db, def, x
}

func onOff(keys bool) string {
	if keys {
		return "on"
	}
	return "off"
}

// BenchmarkLookup finds rows in random order by the integer primary key,
// by a unique string whose inline keys are distinct, and by one whose
// inline keys are shared by 1,000 rows each, in tables of 100,000 and
// 1,000,000 rows, with inline keys off and on over the same data. Each
// comparison runs off and on back to back; compare within one run.
func BenchmarkLookup(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		var dbs [2]struct {
			r *Reader[acct]
			x acctIndexes
		}
		for i, keys := range []bool{false, true} {
			db, def, x := acctDB(b, n, keys)
			v, _ := db.view()
			dbs[i].r, dbs[i].x = Read(v, def), x
		}
		const m = 1 << 16
		probes := make([]acct, m)
		r := rand.New(rand.NewPCG(uint64(n), 1))
		for i := range probes {
			probes[i] = acctRow(1 + r.Uint64N(uint64(n)))
		}
		runtime.GC()
		for _, by := range []string{"pk", "name", "email"} {
			for i, keys := range []bool{false, true} {
				rd, x := dbs[i].r, dbs[i].x
				ix := map[string]*Index[acct]{"pk": x.pk, "name": x.name, "email": x.email}[by]
				b.Run(fmt.Sprintf("rows=%d/by=%s/key=%s", n, by, onOff(keys)), func(b *testing.B) {
					j := 0
					for b.Loop() {
						if _, ok := rd.Find(ix, probes[j&(m-1)]); !ok {
							b.Fatal("missing row")
						}
						j++
					}
				})
			}
		}
	}
}

// BenchmarkInsertDelete inserts a new row into a table of 1,000,000 rows
// and deletes it again, in one transaction per iteration: three index
// inserts and three index deletes.
func BenchmarkInsertDelete(b *testing.B) {
	const n = 1_000_000
	var dbs [2]*DB
	var defs [2]*Def[acct]
	for i, keys := range []bool{false, true} {
		dbs[i], defs[i], _ = acctDB(b, n, keys)
	}
	fresh := make([]acct, 1<<12)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range fresh {
		// Ids past the loaded ones, at random places in the name order.
		fresh[i] = acctRow(n + 1 + r.Uint64N(n))
	}
	runtime.GC()
	for i, keys := range []bool{false, true} {
		db, def := dbs[i], defs[i]
		b.Run(fmt.Sprintf("rows=%d/key=%s", n, onOff(keys)), func(b *testing.B) {
			j := 0
			for b.Loop() {
				tx, _ := db.begin()
				t := Use(tx, def)
				row := fresh[j&(len(fresh)-1)]
				if _, err := t.Insert(row); err != nil {
					b.Fatal(err)
				}
				if _, err := t.Delete(row); err != nil {
					b.Fatal(err)
				}
				tx.commit()
				j++
			}
		})
	}
}

// BenchmarkRowBytes reports the heap a table of 1,000,000 rows takes per
// row (rows, strings and three indexes), with inline keys off and on. Its
// ns/op means nothing.
func BenchmarkRowBytes(b *testing.B) {
	const n = 1_000_000
	for _, keys := range []bool{false, true} {
		b.Run(fmt.Sprintf("rows=%d/key=%s", n, onOff(keys)), func(b *testing.B) {
			var ms runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&ms)
			before := ms.HeapAlloc
			db, _, _ := acctDB(b, n, keys)
			runtime.GC()
			runtime.ReadMemStats(&ms)
			perRow := float64(ms.HeapAlloc-before) / n
			runtime.KeepAlive(db)
			for b.Loop() {
			}
			b.ReportMetric(perRow, "B/row")
		})
	}
}
