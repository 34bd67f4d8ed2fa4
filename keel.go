package keel

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/keeldb/keel/internal/engine"
	"github.com/keeldb/keel/internal/kerr"
	"github.com/keeldb/keel/mod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/runtime"
	"github.com/keeldb/keel/table"
	"github.com/keeldb/keel/wal"
)

// The packages a module's build compiles format without fmt (see
// internal/kerr); a panic value of a type of its own, or a %T, is printed
// by fmt, which every program that opens a database links.
func init() {
	kerr.Any = func(v any) string { return fmt.Sprint(v) }
	kerr.TypeName = func(v any) string { return fmt.Sprintf("%T", v) }
}

// tx is package table's transaction lifecycle.
var tx = engine.Table[engine.TableOps[table.DB, table.Tx, table.Commit, table.View, table.Schema, table.SeqMove]]()

// Module is what a database runs: the tables and reducers of one Go
// package. The package's generated code builds it (blog.Module) as a
// mod.Module, the same type.
type Module = mod.Module

// DB is an open database: a module's tables, its executor and, unless it
// was opened in memory, its data directory. It is safe for concurrent
// use.
type DB struct {
	mod       *Module
	rt        *runtime.Runtime
	log       *wal.Log // nil in memory
	dir       string
	closeOnce sync.Once
	closeErr  error
}

// Open opens the data directory dir for module m, creating it when it
// does not exist: it takes the directory's lock, checks the module's
// schema against the stored one, loads the newest good snapshot, replays
// the log after it, repairs a torn tail, and runs the module's init
// reducer when the database is new. When the module's schema differs
// from the stored one, Open migrates the data and reports the plan in
// Recovery().Migration (see wal.Plan and README's "Changing the schema"):
// on its own, added tables and columns, reordered columns, another Go
// type of the same kind, changed defaults, widenings, any index or
// primary key added, changed or dropped (a unique one checked against the
// rows), and sequences added, changed (never back below a value they
// handed out) or dropped; dropped tables and columns and migration
// functions as the module declares them; anything else is a
// *SchemaChangeError that changes nothing.
// Close the DB to release the directory. With Options.ReadOnly it reads
// the directory as it is, changing nothing (a migration happens in
// memory only), and serves views only. A replica node's directory
// (replica.Open's) is refused, read-only too (ErrReplicated).
func Open(dir string, m *Module, opts Options) (*DB, error) {
	if m == nil {
		return nil, kerr.Errorf("keel: open %s: nil module: %w", dir, table.ErrSchema)
	}
	if m.Name == "" {
		return nil, kerr.Errorf("keel: open %s: the module has no name: %w", dir, table.ErrSchema)
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	o := opts.withDefaults()
	wo := o.wal()
	wo.Dropped = append(append([]string(nil), m.Dropped...), o.Drop...)
	wo.Migrations = m.Migrations
	l, err := wal.Open(dir, m.Name, m.Tables, wo)
	if err != nil {
		return nil, err
	}
	cfg := o.host(m, l.DB())
	cfg.Existing = l.Recovery().Existing
	cfg.ReadOnly = o.ReadOnly
	if !o.ReadOnly {
		cfg.Log = l
	}
	rt, err := runtime.New(cfg)
	if err != nil {
		l.Close()
		return nil, err
	}
	l.Start(rt.Capture)
	return &DB{mod: m, rt: rt, log: l, dir: dir}, nil
}

// OpenMemory opens module m in memory only: nothing is written to disk,
// and the database is gone when it is closed. The durability options are
// ignored; Options.ReadOnly, which opens a data directory to inspect it,
// is refused (ErrOptions).
func OpenMemory(m *Module, opts Options) (*DB, error) {
	if m == nil {
		return nil, kerr.Errorf("keel: open: nil module: %w", table.ErrSchema)
	}
	if m.Name == "" {
		return nil, kerr.Errorf("keel: open: the module has no name: %w", table.ErrSchema)
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	if opts.ReadOnly {
		return nil, kerr.Errorf("keel: Options.ReadOnly is true, but a database in memory has no data directory to read: %w", ErrOptions)
	}
	o := opts.withDefaults()
	db, err := tx.NewDB(m.Tables)
	if err != nil {
		return nil, kerr.Errorf("keel: module %s: %w", m.Name, err)
	}
	rt, err := runtime.New(o.host(m, db))
	if err != nil {
		return nil, err
	}
	return &DB{mod: m, rt: rt}, nil
}

// Module returns the module the database runs.
func (db *DB) Module() *Module { return db.mod }

// Dir returns the data directory, or "" in memory.
func (db *DB) Dir() string { return db.dir }

// Do runs c and waits for its outcome: the Conn of generated clients.
func (db *DB) Do(c *Call) error {
	if c.Reducer != nil {
		if err := db.rt.Check(c.Reducer); err != nil {
			return err
		}
	}
	return db.rt.Do(c)
}

// Submit queues c and returns at once: the Conn of generated clients.
func (db *DB) Submit(c *Call) error {
	if c.Reducer != nil {
		if err := db.rt.Check(c.Reducer); err != nil {
			return err
		}
	}
	return db.rt.Submit(c)
}

// SubmitAll queues calls in order with one queue operation: the Conn of a
// keel.Batch. It returns how many were queued; the first that could not
// be and every later one are not.
func (db *DB) SubmitAll(calls []*Call) (int, error) {
	for i, c := range calls {
		if c.Reducer != nil {
			if err := db.rt.Check(c.Reducer); err != nil {
				n, qerr := db.rt.SubmitAll(calls[:i])
				if qerr != nil {
					return n, qerr
				}
				return i, err
			}
		}
	}
	return db.rt.SubmitAll(calls)
}

// Update runs fn as a transaction of no reducer on behalf of caller, for
// tools and tests: it commits when fn returns nil and rolls back when it
// returns an error or panics. The log records it with an empty reducer
// name. A reducer must not call it on its own database (see Transactions
// in the package doc): it would wait for itself.
func (db *DB) Update(ctx context.Context, caller reducer.Identity, fn func(*reducer.Ctx) error) error {
	return db.rt.Update(ctx, caller, fn)
}

// CallEncoded runs the reducer name with encoded arguments and returns
// its encoded result, for callers that hold bytes (tools, the network):
// see reducer.Def.CallEncoded for the layout, and the generated
// Encode...Args and Decode...Result functions.
func (db *DB) CallEncoded(ctx context.Context, caller reducer.Identity, name string, args []byte) ([]byte, error) {
	return db.rt.CallEncoded(ctx, caller, name, args)
}

// View returns a read-only view of the database that holds every
// transaction whose call has returned, and only durable ones; it may be
// read from any number of goroutines while transactions go on. The same
// view is returned until a newer transaction is durable. View waits (up
// to ctx) when transactions ran that are not durable yet.
func (db *DB) View(ctx context.Context) (*table.View, error) { return db.rt.View(ctx) }

// OnCommit registers fn to receive every later commit, in commit order,
// once it is durable and before the calls it covers return. The Commit is
// valid only during the call (copy typed changes out with
// table.ChangesOf); fn must be quick and must not call into the database.
// A panic in fn is logged and ignored. A View may already hold a commit
// whose listeners have not run yet: code that reads a view and then
// follows commits skips those with a TxID up to the view's TxID. The
// other way round, views of a commit are published once its listeners
// ran, so a View taken on hearing of a commit (another goroutine told
// by fn) may not hold it yet: a view holds it once a call that began
// after fn returned has returned.
func (db *DB) OnCommit(fn func(*table.Commit)) { db.rt.OnCommit(fn) }

// Snapshot writes a snapshot of the database now and prunes the log it
// makes unnecessary (see package wal). It fails for a database in memory,
// and with ErrReadOnly for one opened read-only.
func (db *DB) Snapshot() error {
	if db.log == nil {
		return fmt.Errorf("keel: snapshot: the database is in memory")
	}
	err := db.log.Snapshot()
	if errors.Is(err, wal.ErrClosed) && !errors.Is(err, ErrClosed) {
		// The log was closed by Close: the database's ErrClosed, which
		// callers match.
		return kerr.Errorf("keel: snapshot: %w (%w)", ErrClosed, err)
	}
	if errors.Is(err, wal.ErrReadOnly) && !errors.Is(err, ErrReadOnly) {
		// Opened with Options.ReadOnly: the database's ErrReadOnly, as
		// for every other write.
		return kerr.Errorf("keel: snapshot: %w (%w)", ErrReadOnly, err)
	}
	return err
}

// Recovery reports what Open found in the data directory and did; zero
// in memory.
func (db *DB) Recovery() Recovery {
	if db.log == nil {
		return Recovery{}
	}
	return db.log.Recovery()
}

// Failure returns the error that stopped the database taking writes (a
// log failure), or nil.
func (db *DB) Failure() error { return db.rt.Failure() }

// Close stops taking calls, lets every call already submitted finish,
// writes and fsyncs the log and releases the data directory. It returns
// the log's failure, if any.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		db.rt.Close()
		if db.log != nil {
			db.closeErr = db.log.Close()
		}
	})
	return db.closeErr
}

// Check verifies that every index of every table holds exactly the rows
// of its primary key, between two transactions; tests call it, and
// operators may.
func (db *DB) Check() error {
	return db.rt.Capture(func(d *table.DB, _ uint64) error { return tx.Check(d) })
}
