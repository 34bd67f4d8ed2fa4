package table

import (
	"sync"
	"time"
	"unsafe"

	"github.com/keeldb/keel/internal/kerr"
)

// tableState is a table of any row type, as the database holds it.
type tableState interface {
	schema() Schema
	rollback()
	release()
	retain() ChangeSet
	changes() ChangeSet
	view() viewTable
	restoreSeq(m SeqMove) error
	sequences(dst []SeqMove) []SeqMove
	sequenceStates(dst []SequenceState) []SequenceState
	apply(op Op, old, new []byte) error
	replayInsert(row []byte) error
	load(rows [][]byte) error
	check() error
}

// DB is the set of tables of one module, with one writer at a time. A DB
// is made and driven by Keel's runtime and log, which serialize its
// transactions; Views (see View) may be read from other goroutines.
type DB struct {
	tables    []tableState
	byName    map[string]int
	touched   []tableState
	pending   []SeqMove // boundary moves not yet part of a commit
	inTx      bool
	txid      uint64 // the last transaction begun
	committed uint64 // the last transaction committed and not taken back
	tx        Tx
	commit    Commit

	// Replay's state: the table the last replayed change went to, and
	// each table's scratch row (see apply.go), by table id.
	replayName  string
	replayTable tableState
	scratch     []unsafe.Pointer
}

// newDB creates an empty database of the given tables.
func newDB(tables ...Schema) (*DB, error) {
	db := &DB{byName: make(map[string]int, len(tables))}
	for i, s := range tables {
		if s == nil {
			return nil, &SchemaError{Reason: kerr.Sprintf("table %d is nil", i)}
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

// Tx is a transaction: the one writer of its database. A reducer reads
// and writes through it (Use); only the runtime that began it commits or
// rolls it back.
type Tx struct {
	db *DB
	id uint64
}

// begin starts a transaction. Only one may be open at a time.
func (db *DB) begin() (*Tx, error) {
	if db.inTx {
		return nil, kerr.Errorf("keel: begin: %w", ErrTxOpen)
	}
	db.release()
	db.inTx = true
	db.txid++
	db.tx.id = db.txid
	return &db.tx, nil
}

// beginAt starts a transaction that replays the logged transaction id, so
// that transactions begun after a replay go on from the logged ids. id
// must be greater than the id of every transaction begun before.
func (db *DB) beginAt(id uint64) (*Tx, error) {
	if id > db.txid {
		db.txid = id - 1
	}
	return db.begin()
}

// ID returns the transaction's id: 1 for the first transaction of a
// database, counting every transaction begun, committed or not.
func (tx *Tx) ID() uint64 { return tx.id }

// rollback undoes every write of the transaction. Boundary moves of
// sequences are not undone: they stay pending and go out with the next
// commit, so no value handed out is ever given back.
func (tx *Tx) rollback() {
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

// commit ends the transaction and returns its changes. The Commit is owned
// by the database and valid until the next transaction begins (or until
// release or retain): the log encodes it and listeners read it before
// then.
func (tx *Tx) commit() *Commit {
	db := tx.db
	c := &db.commit
	c.TxID, c.prev = tx.id, db.committed
	c.Time, c.Reducer, c.Caller = time.Time{}, "", ""
	c.Tables = c.Tables[:0]
	for _, t := range db.touched {
		c.Tables = append(c.Tables, t.changes())
	}
	c.Seqs = append(c.Seqs[:0], db.pending...)
	db.pending = db.pending[:0]
	db.inTx = false
	db.committed = tx.id
	return c
}

// undo takes back the last commit before it was released or retained,
// when the log could not append it: every row change is rolled back and
// its sequence boundary moves become pending again.
func (tx *Tx) undo() {
	db := tx.db
	db.inTx = true
	db.pending = append(append(db.pending[:0:0], db.commit.Seqs...), db.pending...)
	db.committed = db.commit.prev
	tx.rollback()
}

// release drops the change lists of the last commit, to be reused.
func (db *DB) release() {
	for _, t := range db.touched {
		t.release()
	}
	clear(db.touched)
	db.touched = db.touched[:0]
}

// retain detaches the last commit from the database: the returned Commit
// owns its change lists, which the tables no longer reuse, so it stays
// valid after later transactions. The runtime keeps a commit this way
// until it is durable, to show it to listeners then, or to take it back
// with undoRetained if the log fails, and then gives it back (recycle).
func (db *DB) retain() *Commit {
	c, _ := commitPool.Get().(*Commit)
	if c == nil {
		c = new(Commit)
	}
	tables, seqs := c.Tables[:0], c.Seqs[:0]
	*c = db.commit
	c.Tables = tables
	for _, t := range db.touched {
		c.Tables = append(c.Tables, t.retain())
	}
	c.Seqs = append(seqs, db.commit.Seqs...)
	clear(db.touched)
	db.touched = db.touched[:0]
	return c
}

// commitPool holds retained commits given back, with their slices.
var commitPool sync.Pool

// recycle gives back a retained commit that nothing uses any more: its
// change lists go back to their tables for later transactions.
func recycle(c *Commit) {
	for _, cs := range c.Tables {
		cs.recycle()
	}
	clear(c.Tables)
	c.Tables, c.Seqs = c.Tables[:0], c.Seqs[:0]
	c.Reducer, c.Caller = "", ""
	commitPool.Put(c)
}

// undoRetained takes back a retained commit: its row changes are rolled
// back, newest first. It must be the newest commit not yet taken back,
// with no transaction open. Its sequence boundary moves are not given
// back: the runtime takes no more writes after the log failure that
// calls for this.
func (db *DB) undoRetained(c *Commit) {
	for i := len(c.Tables) - 1; i >= 0; i-- {
		c.Tables[i].undo()
	}
	db.committed = c.prev
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
	prev    uint64 // the transaction committed before this one
}

// Empty reports whether the commit changed nothing at all.
func (c *Commit) Empty() bool { return len(c.Tables) == 0 && len(c.Seqs) == 0 }

// Op is the kind of a row change.
type Op uint8

// The row changes a commit holds.
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
	return kerr.Sprintf("Op(%d)", uint8(o))
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
	undo()
	recycle()
}

// Change is one typed row change.
type Change[R any] struct {
	Op       Op
	Old, New R // Old is zero for an insert, New for a delete
}

// ChangesOf returns the changes of table d in c, or nil if c has none.
func ChangesOf[R any](c *Commit, d *Def[R]) []Change[R] {
	for _, cs := range c.Tables {
		ch, ok := cs.(*changes)
		if !ok || ch.c.def != Schema(d) {
			continue
		}
		out := make([]Change[R], len(ch.ops))
		for i, o := range ch.ops {
			out[i].Op = o.kind
			if o.old != nil {
				out[i].Old = handOut(d, o.old)
			}
			if o.new != nil {
				out[i].New = handOut(d, o.new)
			}
		}
		return out
	}
	return nil
}

// sequences returns every sequence's persisted state: what a snapshot
// stores.
func (db *DB) sequences() []SeqMove {
	var out []SeqMove
	for _, t := range db.tables {
		out = t.sequences(out)
	}
	return out
}

// SequenceStates returns where every sequence stands. It must not be
// called while a transaction runs in another goroutine.
func (db *DB) SequenceStates() []SequenceState {
	var out []SequenceState
	for _, t := range db.tables {
		out = t.sequenceStates(out)
	}
	return out
}

// restoreSequence positions a sequence at a persisted boundary (replay).
func (db *DB) restoreSequence(m SeqMove) error {
	i, ok := db.byName[m.Table]
	if !ok {
		return kerr.Errorf("keel: sequence %s.%s: no such table: %w", m.Table, m.Sequence, ErrCorruptState)
	}
	return db.tables[i].restoreSeq(m)
}

func (db *DB) table(name string) (tableState, error) {
	i, ok := db.byName[name]
	if !ok {
		return nil, kerr.Errorf("keel: no table %s: %w", name, ErrCorruptState)
	}
	return db.tables[i], nil
}

// replay applies one logged row change (recovery, or a follower of a
// replicated log): rows are decoded with the table's codec and stored as
// they were committed, without running sequences (see apply.go); an
// insert goes into each index in one step (an append when its key is the
// largest so far, as autoinc keys in log order are). No change is
// recorded, so a rollback does not undo it: an error leaves the table
// unusable and the caller discards the database. The table is looked up
// once for a run of changes to the same one.
func (tx *Tx) replay(table string, op Op, old, new []byte) error {
	db := tx.db
	t := db.replayTable
	if t == nil || table != db.replayName {
		var err error
		if t, err = db.table(table); err != nil {
			return err
		}
		db.replayName, db.replayTable = table, t
	}
	if op == OpInsert {
		return t.replayInsert(new)
	}
	return t.apply(op, old, new)
}

// check verifies that every index of every table holds exactly the rows of
// the primary key and that counts match; tests call it after each step.
func (db *DB) check() error {
	for _, t := range db.tables {
		if err := t.check(); err != nil {
			return err
		}
	}
	return nil
}
