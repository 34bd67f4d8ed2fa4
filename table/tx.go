package table

import (
	"fmt"
	"time"
)

// tableState is a table of any row type, as the database holds it.
type tableState interface {
	schema() Schema
	ChangeSet
	rollback()
	reset()
	view() viewTable
	restoreSeq(m SeqMove) error
	sequences(dst []SeqMove) []SeqMove
	apply(op Op, old, new []byte) error
	check() error
}

// DB is the set of tables of one module, with one writer at a time. It is
// not safe for concurrent writers: the runtime serializes transactions.
// Views (see View) may be taken and read from other goroutines.
type DB struct {
	tables  []tableState
	byName  map[string]int
	touched []tableState
	pending []SeqMove // boundary moves not yet part of a commit
	inTx    bool
	txid    uint64
	tx      Tx
	commit  Commit
}

// NewDB creates an empty database of the given tables.
func NewDB(tables ...Schema) (*DB, error) {
	db := &DB{byName: make(map[string]int, len(tables))}
	for i, s := range tables {
		if s == nil {
			return nil, &SchemaError{Reason: fmt.Sprintf("table %d is nil", i)}
		}
		if err := s.validate(i); err != nil {
			return nil, err
		}
		if _, dup := db.byName[s.TableName()]; dup {
			return nil, &SchemaError{Table: s.TableName(), Reason: "two tables have this name"}
		}
		db.byName[s.TableName()] = i
		db.tables = append(db.tables, s.newTable(db))
	}
	db.tx.db = db
	return db, nil
}

// Schemas returns the tables' descriptions in module order.
func (db *DB) Schemas() []Schema {
	out := make([]Schema, len(db.tables))
	for i, t := range db.tables {
		out[i] = t.schema()
	}
	return out
}

// Tx is a transaction: the one writer of its database until Commit or
// Rollback.
type Tx struct {
	db *DB
	id uint64
}

// Begin starts a transaction. Only one may be open at a time.
func (db *DB) Begin() (*Tx, error) {
	if db.inTx {
		return nil, fmt.Errorf("keel: a transaction is already open: %w", ErrTxDone)
	}
	db.Release()
	db.inTx = true
	db.txid++
	db.tx.id = db.txid
	return &db.tx, nil
}

// ID returns the transaction's id: 1 for the first transaction of a
// database, counting every transaction begun, committed or not.
func (tx *Tx) ID() uint64 { return tx.id }

// DB returns the transaction's database.
func (tx *Tx) DB() *DB { return tx.db }

// Rollback undoes every write of the transaction. Boundary moves of
// sequences are not undone: they stay pending and go out with the next
// commit, so no value handed out is ever given back.
func (tx *Tx) Rollback() {
	db := tx.db
	if !db.inTx {
		return
	}
	for _, t := range db.touched {
		t.rollback()
	}
	clear(db.touched)
	db.touched = db.touched[:0]
	db.inTx = false
}

// Commit ends the transaction and returns its changes. The Commit is owned
// by the database and valid until the next transaction begins: the log
// encodes it and listeners read it before then.
func (tx *Tx) Commit() *Commit {
	db := tx.db
	c := &db.commit
	c.TxID = tx.id
	c.Tables = c.Tables[:0]
	for _, t := range db.touched {
		c.Tables = append(c.Tables, t)
	}
	c.Seqs = append(c.Seqs[:0], db.pending...)
	db.pending = db.pending[:0]
	db.inTx = false
	return c
}

// Undo takes back the last commit before it was released, when the log
// could not append it: every row change is rolled back and its sequence
// boundary moves become pending again.
func (tx *Tx) Undo() {
	db := tx.db
	db.inTx = true
	db.pending = append(append(db.pending[:0:0], db.commit.Seqs...), db.pending...)
	tx.Rollback()
}

// Release drops the change lists of the last commit; the runtime calls it
// once the log and listeners are done with the Commit.
func (db *DB) Release() {
	for _, t := range db.touched {
		t.reset()
	}
	clear(db.touched)
	db.touched = db.touched[:0]
}

// Commit is what one transaction changed: its row changes per table, in
// the order the tables were first written, and the sequence boundary moves
// that must be persisted with it (including moves made by transactions
// that rolled back since the last commit).
type Commit struct {
	TxID    uint64
	Time    time.Time // set by the runtime
	Reducer string    // set by the runtime
	Caller  string    // set by the runtime
	Tables  []ChangeSet
	Seqs    []SeqMove
}

// Empty reports whether the commit changed nothing at all.
func (c *Commit) Empty() bool { return len(c.Tables) == 0 && len(c.Seqs) == 0 }

// Op is the kind of a row change.
type Op uint8

const (
	OpInsert Op = 1 + iota
	OpDelete
	OpUpdate
)

func (o Op) String() string {
	switch o {
	case OpInsert:
		return "insert"
	case OpDelete:
		return "delete"
	case OpUpdate:
		return "update"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// ChangeSet is the row changes of one table in one commit, in order.
type ChangeSet interface {
	TableName() string
	Len() int
	Op(i int) Op
	// AppendOld and AppendNew append the encoding of change i's row
	// before (delete, update) and after (insert, update).
	AppendOld(dst []byte, i int) []byte
	AppendNew(dst []byte, i int) []byte
}

// Change is one typed row change.
type Change[R any] struct {
	Op       Op
	Old, New R // Old is zero for an insert, New for a delete
}

// ChangesOf returns the changes of table d in c, or nil if c has none.
func ChangesOf[R any](c *Commit, d *Def[R]) []Change[R] {
	for _, cs := range c.Tables {
		t, ok := cs.(*Table[R])
		if !ok || t.s.def != d {
			continue
		}
		out := make([]Change[R], len(t.ops))
		for i, o := range t.ops {
			out[i].Op = o.kind
			if o.old != nil {
				out[i].Old = *o.old
			}
			if o.new != nil {
				out[i].New = *o.new
			}
		}
		return out
	}
	return nil
}

func (t *Table[R]) schema() Schema    { return t.s.def }
func (t *Table[R]) TableName() string { return t.s.def.Name }
func (t *Table[R]) Len() int          { return len(t.ops) }
func (t *Table[R]) Op(i int) Op       { return t.ops[i].kind }
func (t *Table[R]) AppendOld(dst []byte, i int) []byte {
	if o := t.ops[i].old; o != nil {
		return t.s.def.Encode(dst, o)
	}
	return dst
}
func (t *Table[R]) AppendNew(dst []byte, i int) []byte {
	if n := t.ops[i].new; n != nil {
		return t.s.def.Encode(dst, n)
	}
	return dst
}

// Sequences returns every sequence's persisted state: what a snapshot
// stores.
func (db *DB) Sequences() []SeqMove {
	var out []SeqMove
	for _, t := range db.tables {
		out = t.sequences(out)
	}
	return out
}

// RestoreSequence positions a sequence at a persisted boundary (replay).
func (db *DB) RestoreSequence(m SeqMove) error {
	i, ok := db.byName[m.Table]
	if !ok {
		return fmt.Errorf("keel: sequence %s.%s: no such table: %w", m.Table, m.Sequence, ErrCorruptState)
	}
	return db.tables[i].restoreSeq(m)
}

// Apply replays one logged row change inside tx, without running
// sequences: rows are decoded with the table's codec and stored as they
// were committed.
func (tx *Tx) Apply(table string, op Op, old, new []byte) error {
	i, ok := tx.db.byName[table]
	if !ok {
		return fmt.Errorf("keel: replay: no table %s: %w", table, ErrCorruptState)
	}
	return tx.db.tables[i].apply(op, old, new)
}

// Check verifies that every index of every table holds exactly the rows of
// the primary key and that counts match; tests call it after each step.
func (db *DB) Check() error {
	for _, t := range db.tables {
		if err := t.check(); err != nil {
			return err
		}
	}
	return nil
}

func (t *Table[R]) sequences(dst []SeqMove) []SeqMove {
	for _, s := range t.seqs {
		dst = append(dst, s.boundary())
	}
	return dst
}

func (t *Table[R]) restoreSeq(m SeqMove) error {
	for _, s := range t.seqs {
		if s.name() == m.Sequence {
			return s.restore(m.Next, m.Exhausted)
		}
	}
	return fmt.Errorf("keel: table %s has no sequence %s: %w", m.Table, m.Sequence, ErrCorruptState)
}

func (t *Table[R]) apply(op Op, old, new []byte) error {
	if err := t.writable(); err != nil {
		return err
	}
	name := t.s.def.Name
	var o, n *R
	if op == OpDelete || op == OpUpdate {
		o = new2[R]()
		if err := t.s.def.Decode(old, o); err != nil {
			return fmt.Errorf("keel: replay %s %s: %w: %w", op, name, ErrCorruptState, err)
		}
		stored, ok := t.s.trees[0].get(o)
		if !ok {
			return fmt.Errorf("keel: replay %s %s: %w: %w", op, name, ErrCorruptState, t.notFound(t.s.def.Primary, o))
		}
		o = stored
	}
	if op == OpInsert || op == OpUpdate {
		n = new2[R]()
		if err := t.s.def.Decode(new, n); err != nil {
			return fmt.Errorf("keel: replay %s %s: %w: %w", op, name, ErrCorruptState, err)
		}
		if i, _ := t.conflict(n, o); i >= 0 {
			return fmt.Errorf("keel: replay %s %s: %w: %w", op, name, ErrCorruptState, t.uniqueError(i, n))
		}
	}
	switch op {
	case OpInsert:
		t.add(n)
		t.s.count++
	case OpDelete:
		t.remove(o)
		t.s.count--
	case OpUpdate:
		t.remove(o)
		t.add(n)
	default:
		return fmt.Errorf("keel: replay %s: unknown op %d: %w", name, op, ErrCorruptState)
	}
	t.record(op, o, n)
	return nil
}

func new2[R any]() *R { return new(R) }

func (t *Table[R]) check() error {
	name := t.s.def.Name
	if n := t.s.trees[0].bt.Len(); n != t.s.count {
		return fmt.Errorf("keel: table %s: count %d, primary key holds %d rows", name, t.s.count, n)
	}
	for i, tr := range t.s.trees {
		if n := tr.bt.Len(); n != t.s.count {
			return fmt.Errorf("keel: table %s: index %s holds %d rows, table %d", name, tr.def.Name, n, t.s.count)
		}
		var err error
		var prev *R
		tr.bt.Scan(func(e entry[R]) bool {
			switch {
			case e.key != tr.entry(e.row).key:
				err = fmt.Errorf("keel: table %s: index %s holds a stale inline key", name, tr.def.Name)
			case prev != nil && tr.def.Compare(prev, e.row, tr.full) > 0:
				// An inline key whose order disagrees with Compare.
				err = fmt.Errorf("keel: table %s: index %s is out of order", name, tr.def.Name)
			case i > 0:
				if p, ok := t.s.trees[0].get(e.row); !ok || p != e.row {
					err = fmt.Errorf("keel: table %s: index %s holds a row the primary key does not", name, tr.def.Name)
				}
			}
			prev = e.row
			return err == nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
