package table

import (
	"fmt"
	goruntime "runtime"
	"slices"
	"sync"
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
	if err := t.writable(); err != nil {
		return err
	}
	name := t.s.def.Name
	if t.s.count != 0 {
		return fmt.Errorf("keel: load %s: the table is not empty: %w", name, ErrCorruptState)
	}
	slab := make([]R, len(rows))
	// Rows decode in chunks, and each index sorts and loads on its own,
	// on as many goroutines as there are CPUs when the table is large.
	parallel := len(rows) >= parallelLoad && goruntime.GOMAXPROCS(0) > 1
	chunks := 1
	if parallel {
		chunks = goruntime.GOMAXPROCS(0)
	}
	errs := make([]error, max(chunks, len(t.s.trees)))
	each(chunks, parallel, func(c int) {
		lo, hi := c*len(rows)/chunks, (c+1)*len(rows)/chunks
		for i := lo; i < hi; i++ {
			if err := t.s.def.Decode(rows[i], &slab[i]); err != nil {
				errs[c] = fmt.Errorf("keel: load %s row %d: %w: %w", name, i, ErrCorruptState, err)
				return
			}
		}
	})
	if err := firstErr(errs); err != nil {
		return err
	}
	sorted := make([][]entry[R], len(t.s.trees))
	hashed := make([]*hashIndex[R], len(t.s.trees))
	each(len(t.s.trees), parallel, func(i int) {
		tr, pk := t.s.trees[i], (*Index[R])(nil)
		if i > 0 {
			pk = t.s.def.Primary
		}
		if tr.hi != nil {
			x := newHashIndex(tr.hi.eq, tr.hi.exact)
			for len(x.shards)*shardTarget < len(slab) {
				x.shards = x.fresh(2 * len(x.shards))
			}
			for j := range slab {
				if _, dup := x.set(tr.entry(&slab[j])); dup {
					errs[i] = fmt.Errorf("keel: load %s: %w: %w", name, ErrCorruptState, t.uniqueError(i, &slab[j]))
					return
				}
			}
			hashed[i] = x
			return
		}
		es := make([]entry[R], len(slab))
		for j := range es {
			es[j] = tr.entry(&slab[j])
		}
		sorted[i] = es
		cmp := func(a, b entry[R]) int { return tr.order(a, b, pk) }
		if !slices.IsSortedFunc(es, cmp) {
			slices.SortFunc(es, cmp)
		}
		for j := 1; j < len(es); j++ {
			if cmp(es[j-1], es[j]) == 0 {
				errs[i] = fmt.Errorf("keel: load %s: %w: %w", name, ErrCorruptState, t.uniqueError(i, es[j].row))
				return
			}
		}
	})
	if err := firstErr(errs); err != nil {
		return err
	}
	each(len(t.s.trees), parallel, func(i int) {
		tr := t.s.trees[i]
		if hashed[i] != nil {
			tr.hi = hashed[i]
			return
		}
		for _, e := range sorted[i] {
			tr.bt.Load(e)
		}
	})
	t.s.count = len(rows)
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

func (t *Table[R]) replayInsert(b []byte) error {
	if err := t.writable(); err != nil {
		return err
	}
	p := new(R)
	if err := t.s.def.Decode(b, p); err != nil {
		return fmt.Errorf("keel: replay insert %s: %w: %w", t.s.def.Name, ErrCorruptState, err)
	}
	for i, tr := range t.s.trees {
		if _, replaced := tr.load(tr.entry(p)); replaced {
			return fmt.Errorf("keel: replay insert %s: %w: %w", t.s.def.Name, ErrCorruptState, t.uniqueError(i, p))
		}
	}
	t.s.count++
	return nil
}
