package runtime_test

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/host"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

var (
	modelSeed = flag.Uint64("model.seed", 0, "seed of TestModel (0: from the clock)")
	modelOps  = flag.Int("model.ops", 100_000, "operations TestModel runs")
)

// item has a small autoinc key so that the sequence wraps and collides
// often; key is unique; (group, key) is a non-unique two-column index.
type item struct {
	ID    uint8
	Key   string
	Group uint8
}

// neg has a descending signed sequence and a non-unique tag index.
type neg struct {
	ID  int16
	Tag string
}

const (
	itemMin, itemMax, itemBatch = 1, 60, 7
	negMin, negMax, negInc      = -40, -1, -3
	negBatch                    = 5
)

type modelModule struct {
	items                      *table.Def[item]
	negs                       *table.Def[neg]
	itemPK, itemKey, itemGroup *table.Index[item]
	negPKi, negTagi            *table.Index[neg]
	tables                     []table.Schema
	hash                       bool
	apply_                     *reducer.Func[batch, struct{}]
}

// newModelModule builds the model's module; with hash, item_key and the
// neg table's primary key are hash indexes.
func newModelModule(hash bool) *modelModule {
	m := &modelModule{hash: hash}
	m.itemPK = &table.Index[item]{Name: "item_pk", Columns: []string{"id"}, Unique: true,
		Compare: func(a, b *item, n int) int { return cmp.Compare(a.ID, b.ID) },
		Format:  func(r *item, n int) string { return fmt.Sprint("id=", r.ID) },
		Key:     func(r *item) uint64 { return table.KeyUint(uint64(r.ID)) }, KeyExact: true}
	m.itemKey = &table.Index[item]{Name: "item_key", Columns: []string{"key"}, Unique: true,
		Compare: func(a, b *item, n int) int { return strings.Compare(a.Key, b.Key) },
		Format:  func(r *item, n int) string { return fmt.Sprintf("key=%q", r.Key) },
		Key:     func(r *item) uint64 { return table.KeyString(r.Key) }}
	m.itemGroup = &table.Index[item]{Name: "item_group_key", Columns: []string{"group", "key"},
		Compare: func(a, b *item, n int) int {
			if c := cmp.Compare(a.Group, b.Group); c != 0 || n == 1 {
				return c
			}
			return strings.Compare(a.Key, b.Key)
		},
		Format: func(r *item, n int) string { return fmt.Sprint("group=", r.Group) },
		Key:    func(r *item) uint64 { return table.KeyUint(uint64(r.Group)) }, KeyExact: true}
	if hash {
		m.itemKey.Hash = func(r *item) uint64 { return table.HashString(r.Key) }
	}
	m.items = &table.Def[item]{Name: "item", Primary: m.itemPK, Indexes: []*table.Index[item]{m.itemKey, m.itemGroup},
		Columns: []table.Column{{Name: "id", Type: "uint8"}, {Name: "key", Type: "string"}, {Name: "group", Type: "uint8"}},
		Sequences: []table.AutoInc[item]{table.NewAutoInc("item_id_seq", "id",
			table.SeqParams[uint8]{Min: itemMin, HasMin: true, Max: itemMax, HasMax: true, Batch: itemBatch},
			func(r *item) *uint8 { return &r.ID })},
		Encode: func(dst []byte, r *item) []byte {
			return append(codec.AppendString(append(dst, r.ID), r.Key), r.Group)
		},
		Decode: func(src []byte, r *item) error {
			if len(src) < 2 {
				return codec.ErrShort
			}
			r.ID, r.Group = src[0], src[len(src)-1]
			d := codec.NewReader(src[1 : len(src)-1])
			r.Key = d.Text()
			return d.Err()
		}}
	m.negPKi = &table.Index[neg]{Name: "neg_pk", Columns: []string{"id"}, Unique: true,
		Compare: func(a, b *neg, n int) int { return cmp.Compare(a.ID, b.ID) },
		Format:  func(r *neg, n int) string { return fmt.Sprint("id=", r.ID) },
		Key:     func(r *neg) uint64 { return table.KeyInt(int64(r.ID)) }, KeyExact: true}
	m.negTagi = &table.Index[neg]{Name: "neg_tag", Columns: []string{"tag"},
		Compare: func(a, b *neg, n int) int { return strings.Compare(a.Tag, b.Tag) },
		Format:  func(r *neg, n int) string { return fmt.Sprintf("tag=%q", r.Tag) }} // no inline key: the rows decide

	if hash {
		m.negPKi.Hash = func(r *neg) uint64 { return table.HashInt(int64(r.ID)) }
	}
	m.negs = &table.Def[neg]{Name: "neg", Primary: m.negPKi, Indexes: []*table.Index[neg]{m.negTagi},
		Columns: []table.Column{{Name: "id", Type: "int16"}, {Name: "tag", Type: "string"}},
		Sequences: []table.AutoInc[neg]{table.NewAutoInc("neg_id_seq", "id",
			table.SeqParams[int16]{Min: negMin, HasMin: true, Max: negMax, HasMax: true, Increment: negInc, Batch: negBatch},
			func(r *neg) *int16 { return &r.ID })},
		Encode: func(dst []byte, r *neg) []byte {
			return codec.AppendString(codec.AppendVarint(dst, int64(r.ID)), r.Tag)
		},
		Decode: func(src []byte, r *neg) error {
			d := codec.NewReader(src)
			r.ID, r.Tag = int16(d.Varint()), d.Text()
			return d.Err()
		}}
	m.tables = []table.Schema{m.items, m.negs}
	m.apply_ = reducer.New("Apply", func(c *reducer.Ctx, b batch) (struct{}, error) {
		return struct{}{}, m.apply(c.Tx, b)
	}, reducer.Codec[batch]{}, reducer.Codec[struct{}]{})
	return m
}

type opKind int

const (
	opInsert      opKind = iota // ID 0: generated
	opUpdate                    // by primary key
	opUpdateByKey               // by the unique key: new group
	opDelete                    // by primary key
	opDeleteByKey
	opNegInsert
	opNegDelete
	opNegRetag
)

type op struct {
	kind  opKind
	id    int
	key   string
	group uint8
	tag   string
}

// batch is one transaction: its operations, whether each error aborts it,
// and how it ends.
type batch struct {
	ops     []op
	abortOn []bool // an error of op i aborts (rolls back) the transaction
	end     int    // 0 commit, 1 return an error after the ops, 2 panic halfway
}

var errEnd = errors.New("model: failing on purpose")

func (m *modelModule) apply(tx *table.Tx, b batch) error {
	items, negs := table.Use(tx, m.items), table.Use(tx, m.negs)
	for i, o := range b.ops {
		if b.end == 2 && i == len(b.ops)/2 {
			panic("model: panicking halfway")
		}
		var err error
		switch o.kind {
		case opInsert:
			_, err = items.Insert(item{ID: uint8(o.id), Key: o.key, Group: o.group})
		case opUpdate:
			_, err = items.Update(item{ID: uint8(o.id), Key: o.key, Group: o.group})
		case opUpdateByKey:
			_, err = items.UpdateBy(m.itemKey, item{Key: o.key, Group: o.group})
		case opDelete:
			_, err = items.Delete(item{ID: uint8(o.id)})
		case opDeleteByKey:
			_, err = items.DeleteBy(m.itemKey, item{Key: o.key})
		case opNegInsert:
			_, err = negs.Insert(neg{ID: int16(o.id), Tag: o.tag})
		case opNegDelete:
			_, err = negs.Delete(neg{ID: int16(o.id)})
		case opNegRetag:
			_, err = negs.Update(neg{ID: int16(o.id), Tag: o.tag})
		}
		if err != nil && b.abortOn[i] {
			return err
		}
	}
	if b.end == 1 {
		return errEnd
	}
	return nil
}

// refSeq is the reference sequence: one step at a time, no batches.
type refSeq struct {
	min, max, inc, next int
}

func (s *refSeq) take() int {
	v := s.next
	s.next += s.inc
	if s.next > s.max {
		s.next = s.min
	} else if s.next < s.min {
		s.next = s.max
	}
	return v
}

// steps counts the steps from a to b going the sequence's way.
func (s *refSeq) steps(a, b int) int {
	c := *s
	c.next = a
	for n := 0; n <= s.max-s.min+1; n++ {
		if c.next == b {
			return n
		}
		c.take()
	}
	return -1
}

// ref is the reference model: maps and sorted slices.
type ref struct {
	items   map[uint8]item
	negs    map[int16]neg
	itemSeq refSeq
	negSeq  refSeq
}

func (r *ref) clone() *ref {
	c := *r
	c.items = make(map[uint8]item, len(r.items))
	for k, v := range r.items {
		c.items[k] = v
	}
	c.negs = make(map[int16]neg, len(r.negs))
	for k, v := range r.negs {
		c.negs[k] = v
	}
	return &c
}

func (r *ref) byKey(k string) (item, bool) {
	for _, it := range r.items {
		if it.Key == k {
			return it, true
		}
	}
	return item{}, false
}

// do applies one op to the model and reports whether it failed. The
// sequences are shared with the caller's model: values are never given
// back.
func (r *ref) do(o op) bool {
	switch o.kind {
	case opInsert:
		id := uint8(o.id)
		if id == 0 {
			n := 0
			for {
				id = uint8(r.itemSeq.take())
				if _, taken := r.items[id]; !taken {
					break
				}
				if n++; n >= itemMax-itemMin+1 {
					return true
				}
			}
		} else if _, taken := r.items[id]; taken {
			return true
		}
		if _, taken := r.byKey(o.key); taken {
			return true
		}
		r.items[id] = item{ID: id, Key: o.key, Group: o.group}
	case opUpdate:
		old, ok := r.items[uint8(o.id)]
		if !ok {
			return true
		}
		if other, taken := r.byKey(o.key); taken && other.ID != old.ID {
			return true
		}
		r.items[old.ID] = item{ID: old.ID, Key: o.key, Group: o.group}
	case opUpdateByKey:
		old, ok := r.byKey(o.key)
		if !ok {
			return true
		}
		old.Group = o.group
		r.items[old.ID] = old
	case opDelete:
		if _, ok := r.items[uint8(o.id)]; !ok {
			return true
		}
		delete(r.items, uint8(o.id))
	case opDeleteByKey:
		old, ok := r.byKey(o.key)
		if !ok {
			return true
		}
		delete(r.items, old.ID)
	case opNegInsert:
		var id int16
		for n := 0; ; n++ {
			if n >= (negMax-negMin)/-negInc+1 {
				return true
			}
			id = int16(r.negSeq.take())
			if _, taken := r.negs[id]; !taken {
				break
			}
		}
		r.negs[id] = neg{ID: id, Tag: o.tag}
	case opNegDelete:
		if _, ok := r.negs[int16(o.id)]; !ok {
			return true
		}
		delete(r.negs, int16(o.id))
	case opNegRetag:
		if _, ok := r.negs[int16(o.id)]; !ok {
			return true
		}
		r.negs[int16(o.id)] = neg{ID: int16(o.id), Tag: o.tag}
	}
	return false
}

// indexes renders every index of the model in index order.
func (r *ref) indexes() map[string]any {
	its := make([]item, 0, len(r.items))
	for _, it := range r.items {
		its = append(its, it)
	}
	ngs := make([]neg, 0, len(r.negs))
	for _, n := range r.negs {
		ngs = append(ngs, n)
	}
	byID := slices.Clone(its)
	slices.SortFunc(byID, func(a, b item) int { return cmp.Compare(a.ID, b.ID) })
	byKey := slices.Clone(its)
	slices.SortFunc(byKey, func(a, b item) int { return strings.Compare(a.Key, b.Key) })
	byGroup := slices.Clone(its)
	slices.SortFunc(byGroup, func(a, b item) int {
		return cmp.Or(cmp.Compare(a.Group, b.Group), strings.Compare(a.Key, b.Key), cmp.Compare(a.ID, b.ID))
	})
	negByID := slices.Clone(ngs)
	slices.SortFunc(negByID, func(a, b neg) int { return cmp.Compare(a.ID, b.ID) })
	negByTag := slices.Clone(ngs)
	slices.SortFunc(negByTag, func(a, b neg) int { return cmp.Or(strings.Compare(a.Tag, b.Tag), cmp.Compare(a.ID, b.ID)) })
	return map[string]any{"item_pk": byID, "item_key": byKey, "item_group_key": byGroup,
		"item_count": len(its), "neg_pk": negByID, "neg_tag": negByTag, "neg_count": len(ngs)}
}

func (m *modelModule) indexes(v *table.View) map[string]any {
	items, negs := table.Read(v, m.items), table.Read(v, m.negs)
	all := func(ix *table.Index[item]) []item {
		out := []item{}
		for it := range items.Scan(ix, table.Bound[item]{}, table.Bound[item]{}) {
			out = append(out, it)
		}
		if ix.Hash != nil {
			// No order: sort as the model does, and find every row
			// through the index.
			slices.SortFunc(out, func(a, b item) int { return ix.Compare(&a, &b, len(ix.Columns)) })
			for _, it := range out {
				if got, ok := items.Find(ix, item{Key: it.Key}); !ok || got != it {
					return nil
				}
			}
		}
		return out
	}
	nall := func(ix *table.Index[neg]) []neg {
		out := []neg{}
		for n := range negs.Scan(ix, table.Bound[neg]{}, table.Bound[neg]{}) {
			out = append(out, n)
		}
		if ix.Hash != nil {
			slices.SortFunc(out, func(a, b neg) int { return ix.Compare(&a, &b, len(ix.Columns)) })
			for _, n := range out {
				if got, ok := negs.Get(neg{ID: n.ID}); !ok || got != n {
					return nil
				}
			}
		}
		return out
	}
	return map[string]any{"item_pk": all(m.itemPK), "item_key": all(m.itemKey), "item_group_key": all(m.itemGroup),
		"item_count": items.Count(), "neg_pk": nall(m.negPKi), "neg_tag": nall(m.negTagi), "neg_count": negs.Count()}
}

// sameIndexes compares the two renderings without go-cmp, which is too
// slow to run after each of many thousands of transactions.
func sameIndexes(a, b map[string]any) bool {
	for k, va := range a {
		switch x := va.(type) {
		case []item:
			if !slices.Equal(x, b[k].([]item)) {
				return false
			}
		case []neg:
			if !slices.Equal(x, b[k].([]neg)) {
				return false
			}
		default:
			if va != b[k] {
				return false
			}
		}
	}
	return len(a) == len(b)
}

// TestModel runs random transactions against Keel and against the
// reference model and compares every table, index and sequence after each
// one: with B-tree indexes, and with a hash unique index and a hash
// primary key.
func TestModel(t *testing.T) {
	for _, hash := range []bool{false, true} {
		t.Run(fmt.Sprint("hash=", hash), func(t *testing.T) { testModel(t, hash) })
	}
}

func testModel(t *testing.T, hash bool) {
	seed := *modelSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	// Logged first, so that a panic in the workload names it too.
	t.Logf("seed %d (reproduce with: go test ./runtime -run TestModel -model.seed=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0x6b65656c))
	m := newModelModule(hash)
	bl := newMemLog(false)
	db, err := tx.NewDB(m.tables)
	if err != nil {
		t.Fatal(err)
	}
	rt := start(t, host.Config{Module: "model", Reducers: []*reducer.Def{&m.apply_.Def}, DB: db, Log: bl})
	model := &ref{items: map[uint8]item{}, negs: map[int16]neg{},
		itemSeq: refSeq{min: itemMin, max: itemMax, inc: 1, next: itemMin},
		negSeq:  refSeq{min: negMin, max: negMax, inc: negInc, next: negMax}}
	keys := func() string { return fmt.Sprint("k", rng.IntN(80)) }
	randID := func() int { return rng.IntN(itemMax + 5) } // 0 (generate) and ids past the range too
	var txs, commits, rollbacks, panics, failedOps int
	for ops := 0; ops < *modelOps; txs++ {
		b := batch{end: 0}
		n := 1 + rng.IntN(6)
		for range n {
			o := op{kind: opKind(rng.IntN(8)), key: keys(), group: uint8(rng.IntN(4)), tag: fmt.Sprint("t", rng.IntN(5))}
			switch o.kind {
			case opInsert:
				if rng.IntN(4) == 0 {
					o.id = 1 + rng.IntN(itemMax+5)
				}
			case opUpdate, opDelete:
				o.id = randID()
			case opNegDelete, opNegRetag:
				o.id = negMin + rng.IntN(negMax-negMin+1)
			}
			b.ops = append(b.ops, o)
			b.abortOn = append(b.abortOn, rng.IntN(5) == 0)
		}
		ops += n
		switch r := rng.IntN(20); {
		case r == 0:
			b.end = 1
		case r == 1:
			b.end = 2
		}
		// Run the model on a copy; keep it only if the transaction commits.
		next := model.clone()
		willCommit, panicked := true, false
		for i, o := range b.ops {
			if b.end == 2 && i == len(b.ops)/2 {
				willCommit, panicked = false, true
				break
			}
			if failed := next.do(o); failed {
				failedOps++
				if b.abortOn[i] {
					willCommit = false
					break
				}
			}
		}
		if b.end == 1 {
			willCommit = false
		}
		_, err := call(t.Context(), rt, m.apply_, b)
		switch {
		case willCommit && err != nil:
			t.Fatalf("tx %d: Keel failed where the model commits: %v\nops %+v", txs, err, b)
		case !willCommit && err == nil:
			t.Fatalf("tx %d: Keel committed where the model rolls back\nops %+v", txs, b)
		case panicked && !errors.Is(err, reducer.ErrPanic):
			t.Fatalf("tx %d: a panicking reducer returned %v", txs, err)
		case !willCommit && !panicked && b.end != 1 && !errors.Is(err, table.ErrUniqueViolation) &&
			!errors.Is(err, table.ErrNotFound) && !errors.Is(err, table.ErrExhausted):
			t.Fatalf("tx %d: unexpected error %v", txs, err)
		}
		// Sequences are never given back, committed or not.
		model.itemSeq, model.negSeq = next.itemSeq, next.negSeq
		if willCommit {
			model = next
			commits++
		} else if panicked {
			panics++
		} else {
			rollbacks++
		}
		v, err := rt.View(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if want, got := model.indexes(), m.indexes(v); !sameIndexes(want, got) {
			diff := gocmp.Diff(want, got)
			t.Fatalf("tx %d: Keel differs from the model (-model +keel):\n%s\nops %+v", txs, diff, b)
		}
		if willCommit {
			// Every value handed out so far lies before the last reported
			// boundary: the sequence's next value is at most one batch
			// before it.
			for _, s := range []struct {
				name  string
				seq   *refSeq
				batch int
			}{{"item_id_seq", &model.itemSeq, itemBatch}, {"neg_id_seq", &model.negSeq, negBatch}} {
				next, ok := bl.seqs[s.name]
				if !ok {
					continue
				}
				b := int(int64(next))
				if d := s.seq.steps(s.seq.next, b); d < 0 || d > s.batch {
					t.Fatalf("tx %d: sequence %s is at %d, %d steps before its reported boundary %d", txs, s.name, s.seq.next, d, b)
				}
			}
		}
	}
	if err := rt.Capture(func(db *table.DB, _ uint64) error { return tx.Check(db) }); err != nil {
		t.Fatal(err)
	}
	t.Logf("seed %d: %d transactions (%d committed, %d rolled back, %d panicked), %d failed operations",
		seed, txs, commits, rollbacks, panics, failedOps)
}
