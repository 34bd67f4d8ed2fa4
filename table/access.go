package table

import (
	"cmp"
	"iter"
	"strconv"
	"unsafe"
)

// The typed accessors that generated code hands out: each reads or writes
// a table through one index whose key is a value of type K (the type of a
// one-column key; the row type itself for a table without a primary key
// or an index on several columns). Generated code declares one Key per
// index and instantiates these types with it, so that what each index
// offers is written once, here.

// Key binds an index of R to the Go type K of its key, a field of R (or R
// itself): the key row of k is a zero row with k in that field.
type Key[R, K any] struct {
	ix  *Index[R]
	off uintptr // of the key field in R
}

// KeyAt returns the key of index ix, held in the field of R that col
// points to (col may return its argument, for K = R).
func KeyAt[R, K any](ix *Index[R], col func(r *R) *K) *Key[R, K] {
	probe := new(R)
	off := uintptr(unsafe.Pointer(col(probe))) - uintptr(unsafe.Pointer(probe))
	if off+unsafe.Sizeof(*new(K)) > unsafe.Sizeof(*probe) {
		panic("keel: table.KeyAt: the key is not a field of the row")
	}
	return &Key[R, K]{ix: ix, off: off}
}

// keyRow returns the key row of k in x. It writes k into a new zero row
// rather than calling a function of the module, so that it inlines and
// the row stays on the caller's stack unless the caller's use of it
// escapes (an iterator returned); and it returns the row by pointer,
// which the readers and writers pass on, so that no accessor copies the
// row. It is a function, not a method of Key, so that Key has no methods
// to compile for each of a module's keys.
func keyRow[R, K any](x *Key[R, K], k K) *R {
	r := new(R)
	*(*K)(unsafe.Add(unsafe.Pointer(r), x.off)) = k
	return r
}

// The readers and writers are made by functions rather than by methods
// of Key: the methods of a generic type are compiled wherever it is
// instantiated, so a method of Key per kind of reader would make every
// module compile every kind (ByIndex, ByUnique, ByUniqueTx and all their
// methods) for every key type, where a function is compiled only for the
// keys that call it: a key type used only by indexes that are not unique
// instantiates ByIndex alone.
//
// Every accessor (Rows, Writer, SetWriter and the index readers ByIndex,
// ByUnique, ByUniqueTx, ByHash, ByHashTx) is handed out by pointer and its
// methods have pointer receivers, and so do the generated TReader and
// TTable that embed Rows and Writer: a module compiles, for each
// instantiated type, every method of its method set, and a method with a
// value receiver is in two (the value's and the pointer's), each compiled
// with its body inlined, and again in the value and pointer method sets of
// every type that embeds it. The pointer does not escape when an accessor
// is used where it is made (db.Post().BySlug().Find(k)), so it costs no
// allocation.

// RowsOf reads r by k, the primary key.
func RowsOf[R, K any](k *Key[R, K], r *Reader[R]) Rows[R, K] { return Rows[R, K]{r, k} }

// WriterOf writes t by k, the primary key.
func WriterOf[R, K any](k *Key[R, K], t *Table[R]) Writer[R, K] { return Writer[R, K]{t, k} }

// SetOf writes t, a table without a primary key.
func SetOf[R any](t *Table[R]) SetWriter[R] { return SetWriter[R]{t} }

// IndexOf reads r by k, a B-tree index that is not unique.
func IndexOf[R, K any](k *Key[R, K], r *Reader[R]) *ByIndex[R, K] { return &ByIndex[R, K]{r, k} }

// UniqueOf reads r by k, a unique B-tree index (or the primary key).
func UniqueOf[R, K any](k *Key[R, K], r *Reader[R]) *ByUnique[R, K] {
	return &ByUnique[R, K]{r, k}
}

// UniqueTxOf reads and writes t by k, a unique B-tree index (or the
// primary key).
func UniqueTxOf[R, K any](k *Key[R, K], t *Table[R]) *ByUniqueTx[R, K] {
	return &ByUniqueTx[R, K]{ByUnique[R, K]{&t.r, k}, t}
}

// HashOf reads r by k, a hash index.
func HashOf[R, K any](k *Key[R, K], r *Reader[R]) *ByHash[R, K] { return &ByHash[R, K]{r, k} }

// HashTxOf reads and writes t by k, a hash index.
func HashTxOf[R, K any](k *Key[R, K], t *Table[R]) *ByHashTx[R, K] {
	return &ByHashTx[R, K]{ByHash[R, K]{&t.r, k}, t}
}

// Rows reads a table: inside a transaction it sees the transaction's own
// writes; in a view it sees that commit. Its iterators may be ranged over
// many times, each time afresh; a transaction may write while ranging, and
// the range goes on over the rows as they were when it began.
type Rows[R, K any] struct {
	r  *Reader[R]
	pk *Key[R, K]
}

// Reader returns the table's reader.
func (x *Rows[R, K]) Reader() *Reader[R] { return x.r }

// Count returns the number of rows.
func (x *Rows[R, K]) Count() int { return x.r.Count() }

// All yields every row in primary-key order (a hash primary key: in no
// particular order; a table without a primary key: in row order).
func (x *Rows[R, K]) All() iter.Seq[R] { return x.r.All() }

// Backward yields every row in reverse primary-key order (a hash primary
// key: All's order reversed, no particular order).
func (x *Rows[R, K]) Backward() iter.Seq[R] { return x.r.Backward() }

// Find returns the row with primary key k.
func (x *Rows[R, K]) Find(k K) (R, bool) { return find(x.r, x.pk.ix, keyRow(x.pk, k)) }

// Has reports whether a row has primary key k; for a table without a
// primary key, whether the table holds row k.
func (x *Rows[R, K]) Has(k K) bool {
	_, ok := find(x.r, x.pk.ix, keyRow(x.pk, k))
	return ok
}

// Writer writes a table that has a primary key. Writes that fail change
// nothing; the whole transaction rolls back when its reducer returns an
// error.
type Writer[R, K any] struct {
	t  *Table[R]
	pk *Key[R, K]
}

// Table returns the table.
func (x *Writer[R, K]) Table() *Table[R] { return x.t }

// Insert stores row only if no row has its primary key (or another
// unique key) and returns it as stored: every autoinc column that is 0
// gets its sequence's next value; a non-zero value is stored as given. A
// taken key is a *UniqueError.
func (x *Writer[R, K]) Insert(row R) (R, error) { return x.t.Insert(row) }

// Update replaces the row with row's primary key, only if it is present
// (otherwise a *NotFoundError). Autoinc columns that are 0 in row keep
// their stored values.
func (x *Writer[R, K]) Update(row R) (R, error) { return x.t.Update(row) }

// Upsert inserts row, or replaces the row with its primary key: inserted
// reports which.
func (x *Writer[R, K]) Upsert(row R) (stored R, inserted bool, err error) { return x.t.Upsert(row) }

// Delete removes the row with primary key k and returns it, or a
// *NotFoundError.
func (x *Writer[R, K]) Delete(k K) (R, error) { return deleteBy(x.t, x.pk.ix, keyRow(x.pk, k)) }

// SetWriter writes a table without a primary key: a set of rows, each
// stored once.
type SetWriter[R any] struct{ t *Table[R] }

// Table returns the table.
func (x *SetWriter[R]) Table() *Table[R] { return x.t }

// Insert stores row and returns it as stored. A row identical to a stored
// one is stored once: inserting it again returns the stored row and
// changes nothing. Only a unique secondary index whose key another row
// holds makes it fail, with a *UniqueError.
func (x *SetWriter[R]) Insert(row R) (R, error) { return x.t.Insert(row) }

// Delete removes row and returns it, or a *NotFoundError.
func (x *SetWriter[R]) Delete(row R) (R, error) { return x.t.Delete(row) }

// filterSeq yields the rows of r whose key in k's index is key, and
// betweenSeq those whose key lies in [lo, hi), in key order. Their
// iterators hold the keys, not key rows; each range builds the rows on
// its stack in scanKey or scanBetween, which do not inline, so that the
// code every module compiles for each accessor is a closure and a call.
func filterSeq[R, K any](r *Reader[R], k *Key[R, K], key K) iter.Seq[R] {
	return func(yield func(R) bool) { scanKey(r, k, key, yield) }
}

func betweenSeq[R, K any](r *Reader[R], k *Key[R, K], lo, hi K) iter.Seq[R] {
	return func(yield func(R) bool) { scanBetween(r, k, lo, hi, yield) }
}

//go:noinline
func scanKey[R, K any](r *Reader[R], k *Key[R, K], key K, yield func(R) bool) {
	b := Bound[R]{Key: keyRow(k, key)}
	scan(r, k.ix, b, b, false, yield)
}

//go:noinline
func scanBetween[R, K any](r *Reader[R], k *Key[R, K], lo, hi K, yield func(R) bool) {
	scan(r, k.ix, Bound[R]{Key: keyRow(k, lo)}, Bound[R]{Key: keyRow(k, hi), Exclusive: true}, false, yield)
}

// ByIndex reads a table by one B-tree index.
type ByIndex[R, K any] struct {
	r *Reader[R]
	k *Key[R, K]
}

// Filter yields the rows with key k, in primary-key order.
func (x *ByIndex[R, K]) Filter(k K) iter.Seq[R] {
	return filterSeq(x.r, x.k, k)
}

// Between yields, in key order, the rows whose key lies in [lo, hi).
func (x *ByIndex[R, K]) Between(lo, hi K) iter.Seq[R] {
	return betweenSeq(x.r, x.k, lo, hi)
}

// Range yields the rows between two bounds (see Incl, Excl, Prefix; a zero
// Bound leaves its end open) in key order.
func (x *ByIndex[R, K]) Range(lo, hi Bound[R]) iter.Seq[R] { return x.r.Scan(x.k.ix, lo, hi) }

// RangeBackward yields the rows between two bounds in reverse key order.
func (x *ByIndex[R, K]) RangeBackward(lo, hi Bound[R]) iter.Seq[R] {
	return x.r.ScanBackward(x.k.ix, lo, hi)
}

// ByUnique reads a table by a unique B-tree index. It has ByIndex's
// methods and Find, as its own methods rather than by embedding ByIndex:
// an embedded ByIndex would be one more instantiated type, with all its
// methods, that every module compiles for every unique key type.
type ByUnique[R, K any] struct {
	r *Reader[R]
	k *Key[R, K]
}

// Filter yields the row with key k, if there is one: the row Find
// returns.
func (x *ByUnique[R, K]) Filter(k K) iter.Seq[R] {
	return filterSeq(x.r, x.k, k)
}

// Between yields, in key order, the rows whose key lies in [lo, hi).
func (x *ByUnique[R, K]) Between(lo, hi K) iter.Seq[R] {
	return betweenSeq(x.r, x.k, lo, hi)
}

// Range yields the rows between two bounds (see Incl, Excl, Prefix; a zero
// Bound leaves its end open) in key order.
func (x *ByUnique[R, K]) Range(lo, hi Bound[R]) iter.Seq[R] { return x.r.Scan(x.k.ix, lo, hi) }

// RangeBackward yields the rows between two bounds in reverse key order.
func (x *ByUnique[R, K]) RangeBackward(lo, hi Bound[R]) iter.Seq[R] {
	return x.r.ScanBackward(x.k.ix, lo, hi)
}

// Find returns the row with key k.
func (x *ByUnique[R, K]) Find(k K) (R, bool) { return find(x.r, x.k.ix, keyRow(x.k, k)) }

// ByUniqueTx reads and writes a table by a unique B-tree index.
type ByUniqueTx[R, K any] struct {
	ByUnique[R, K]
	t *Table[R]
}

// Update replaces the row whose key equals row's, only if it is present
// (otherwise a *NotFoundError). Autoinc columns that are 0 in row keep
// their stored values.
func (x *ByUniqueTx[R, K]) Update(row R) (R, error) { return x.t.UpdateBy(x.k.ix, row) }

// Delete removes the row with key k and returns it, or a *NotFoundError.
func (x *ByUniqueTx[R, K]) Delete(k K) (R, error) { return deleteBy(x.t, x.k.ix, keyRow(x.k, k)) }

// ByHash reads a table by a hash index, which finds rows by their whole
// key and has no order.
type ByHash[R, K any] struct {
	r *Reader[R]
	k *Key[R, K]
}

// Find returns the row with key k.
func (x *ByHash[R, K]) Find(k K) (R, bool) { return find(x.r, x.k.ix, keyRow(x.k, k)) }

// Filter yields the row with key k, if there is one.
func (x *ByHash[R, K]) Filter(k K) iter.Seq[R] {
	return filterSeq(x.r, x.k, k)
}

// ByHashTx reads and writes a table by a hash index.
type ByHashTx[R, K any] struct {
	ByHash[R, K]
	t *Table[R]
}

// Update replaces the row whose key equals row's, only if it is present
// (otherwise a *NotFoundError). Autoinc columns that are 0 in row keep
// their stored values.
func (x *ByHashTx[R, K]) Update(row R) (R, error) { return x.t.UpdateBy(x.k.ix, row) }

// Delete removes the row with key k and returns it, or a *NotFoundError.
func (x *ByHashTx[R, K]) Delete(k K) (R, error) { return deleteBy(x.t, x.k.ix, keyRow(x.k, k)) }

// StringIndex returns a B-tree index named name on one column of a string
// type, the field col points to, and its key: what generated code declares
// for such an index. compare, the generated comparator, orders rows by the
// field (a comparator built here from col is slower: searches call it on
// every inline-key tie); the format and inline key read the field at its
// offset.
func StringIndex[R any, T ~string](name, column string, unique bool, col func(r *R) *T, compare func(a, b *R, n int) int) (*Index[R], *Key[R, T]) {
	k := KeyAt(nil, col)
	off := k.off
	at := func(r *R) string { return string(*(*T)(unsafe.Add(unsafe.Pointer(r), off))) }
	k.ix = &Index[R]{Name: name, Columns: []string{column}, Unique: unique,
		Compare: compare,
		Format:  func(r *R, _ int) string { return column + "=" + strconv.Quote(at(r)) },
		Key:     func(r *R) uint64 { return KeyString(at(r)) },
	}
	return k.ix, k
}

// UintIndex returns a B-tree index named name on one column of an
// unsigned integer type, the field col points to, and its key.
func UintIndex[R any, T ~uint | ~uint8 | ~uint16 | ~uint32 | ~uint64 | ~uintptr](name, column string, unique bool, col func(r *R) *T) (*Index[R], *Key[R, T]) {
	k := KeyAt(nil, col)
	off := k.off
	at := func(r *R) T { return *(*T)(unsafe.Add(unsafe.Pointer(r), off)) }
	k.ix = &Index[R]{Name: name, Columns: []string{column}, Unique: unique,
		Compare:  func(a, b *R, _ int) int { return cmp.Compare(at(a), at(b)) },
		Format:   func(r *R, _ int) string { return column + "=" + strconv.FormatUint(uint64(at(r)), 10) },
		Key:      func(r *R) uint64 { return KeyUint(uint64(at(r))) },
		KeyExact: true,
	}
	return k.ix, k
}

// IntIndex returns a B-tree index named name on one column of a signed
// integer type, the field col points to, and its key.
func IntIndex[R any, T ~int | ~int8 | ~int16 | ~int32 | ~int64](name, column string, unique bool, col func(r *R) *T) (*Index[R], *Key[R, T]) {
	k := KeyAt(nil, col)
	off := k.off
	at := func(r *R) T { return *(*T)(unsafe.Add(unsafe.Pointer(r), off)) }
	k.ix = &Index[R]{Name: name, Columns: []string{column}, Unique: unique,
		Compare:  func(a, b *R, _ int) int { return cmp.Compare(at(a), at(b)) },
		Format:   func(r *R, _ int) string { return column + "=" + strconv.FormatInt(int64(at(r)), 10) },
		Key:      func(r *R) uint64 { return KeyInt(int64(at(r))) },
		KeyExact: true,
	}
	return k.ix, k
}
