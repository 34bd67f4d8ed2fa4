package table

import (
	goruntime "runtime"
	"slices"
	"sync"
	"unsafe"

	"github.com/keeldb/keel/internal/kerr"
)

// load fills the named empty table with rows, given as encodings (a
// snapshot's content, usually in primary-key order): the rows are decoded
// into one allocation and every index is bulk-loaded in its key order.
// Everything is checked (decoding, uniqueness) before any index changes,
// so an error leaves the table empty. The rows are not part of the
// transaction's changes: a rollback does not remove them. The one
// allocation is the trade-off: it stays alive while any row loaded from it
// does, so deleting most loaded rows frees their memory only at the next
// snapshot load (the next open). A large table is decoded in chunks and
// its indexes are built at the same time, on as many goroutines as
// GOMAXPROCS: the Def's Decode, Compare and Key functions must be safe to
// call concurrently, as generated ones are (they touch only their
// arguments).
func (tx *Tx) load(table string, rows [][]byte) error {
	t, err := tx.db.table(table)
	if err != nil {
		return err
	}
	return t.load(rows)
}

func (t *Table[R]) load(rows [][]byte) error {
	c := t.c
	if err := c.writable(); err != nil {
		return err
	}
	if c.s.count != 0 {
		return kerr.Errorf("keel: load %s: the table is not empty: %w", c.name, ErrCorruptState)
	}
	slab := make([]R, len(rows))
	// Rows decode in chunks, and each index sorts and loads on its own,
	// on as many goroutines as there are CPUs when the table is large.
	parallel := len(rows) >= parallelLoad && goruntime.GOMAXPROCS(0) > 1
	chunks := 1
	if parallel {
		chunks = goruntime.GOMAXPROCS(0)
	}
	errs := make([]error, chunks)
	ptrs := make([]unsafe.Pointer, len(rows))
	each(chunks, parallel, func(k int) {
		lo, hi := k*len(rows)/chunks, (k+1)*len(rows)/chunks
		for i := lo; i < hi; i++ {
			if err := t.r.def.Decode(rows[i], &slab[i]); err != nil {
				errs[k] = kerr.Errorf("keel: load %s row %d: %w: %w", c.name, i, ErrCorruptState, err)
				return
			}
			ptrs[i] = unsafe.Pointer(&slab[i])
		}
	})
	if err := firstErr(errs); err != nil {
		return err
	}
	return c.loadRows(ptrs, parallel)
}

// loadRows fills the empty table's indexes with rows, checking every
// unique key before any index changes.
func (c *core) loadRows(rows []unsafe.Pointer, parallel bool) error {
	errs := make([]error, len(c.s.trees))
	sorted := make([][]entry, len(c.s.trees))
	hashed := make([]*hashIndex, len(c.s.trees))
	each(len(c.s.trees), parallel, func(i int) {
		tr := c.s.trees[i]
		if tr.hi != nil {
			x := newHashIndex(tr.hi.eq, tr.hi.exact)
			x.reserve(len(rows))
			for _, p := range rows {
				if _, dup := x.set(tr.entry(p)); dup {
					errs[i] = kerr.Errorf("keel: load %s: %w: %w", c.name, ErrCorruptState, c.uniqueError(i, p))
					return
				}
			}
			hashed[i] = x
			return
		}
		es := make([]entry, len(rows))
		for j, p := range rows {
			es[j] = tr.entry(p)
		}
		sorted[i] = es
		if !slices.IsSortedFunc(es, tr.order) {
			slices.SortFunc(es, tr.order)
		}
		for j := 1; j < len(es); j++ {
			if tr.order(es[j-1], es[j]) == 0 {
				errs[i] = kerr.Errorf("keel: load %s: %w: %w", c.name, ErrCorruptState, c.uniqueError(i, es[j].row))
				return
			}
		}
	})
	if err := firstErr(errs); err != nil {
		return err
	}
	each(len(c.s.trees), parallel, func(i int) {
		tr := c.s.trees[i]
		if hashed[i] != nil {
			tr.hi = hashed[i]
			return
		}
		for _, e := range sorted[i] {
			btOf(tr).Load(e)
		}
	})
	c.s.count = len(rows)
	return nil
}

// parallelLoad is the table size from which Load spreads its work over
// goroutines.
const parallelLoad = 16 << 10

// each calls fn(0) .. fn(n-1), on n goroutines when parallel is set.
func each(n int, parallel bool, fn func(i int)) {
	if !parallel || n == 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}

// firstErr returns the first non-nil error of errs.
func firstErr(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
