package main

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver
)

// SQLite through mattn/go-sqlite3: WAL journal, synchronous=FULL (durable)
// or OFF (no fsync), writes through one connection (SQLite has one writer
// at a time; a pool of writers would only spin on SQLITE_BUSY), write
// transactions BEGIN IMMEDIATE, every statement prepared once. Autoinc is
// INTEGER PRIMARY KEY AUTOINCREMENT with INSERT ... RETURNING.

type sqliteStore struct {
	db                            *sql.DB
	insert, getBal, setBal        *sql.Stmt
	byID, byEmail, scan, loadItem *sql.Stmt
}

func sqliteDSN(dir string, m Mode) string {
	switch m {
	case Durable:
		return "file:" + filepath.Join(dir, "sqlite.db") + "?_journal_mode=WAL&_synchronous=FULL&_txlock=immediate&_busy_timeout=10000"
	case NoSync:
		return "file:" + filepath.Join(dir, "sqlite.db") + "?_journal_mode=WAL&_synchronous=OFF&_txlock=immediate&_busy_timeout=10000"
	default:
		return "file::memory:?_txlock=immediate"
	}
}

func sqliteConfig(m Mode) string {
	c := "journal_mode=WAL, synchronous=FULL"
	switch m {
	case NoSync:
		c = "journal_mode=WAL, synchronous=OFF"
	case Memory:
		c = "in-memory database (:memory:)"
	}
	return c + "; one connection (SetMaxOpenConns(1)), BEGIN IMMEDIATE, prepared statements"
}

const sqliteSchema = `
CREATE TABLE IF NOT EXISTS event (id INTEGER PRIMARY KEY AUTOINCREMENT, payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS account (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE, at INTEGER NOT NULL, payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS item_at ON item(at);`

func openSQLite(dir string, m Mode) (store, error) {
	db, err := sql.Open("sqlite3", sqliteDSN(dir, m))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	if _, err := db.Exec(sqliteSchema); err != nil {
		db.Close()
		return nil, err
	}
	s := &sqliteStore{db: db}
	for _, p := range []struct {
		st **sql.Stmt
		q  string
	}{
		{&s.insert, "INSERT INTO event(payload) VALUES (?) RETURNING id"},
		{&s.getBal, "SELECT balance FROM account WHERE id = ?"},
		{&s.setBal, "UPDATE account SET balance = ? WHERE id = ?"},
		{&s.byID, "SELECT id, email, at, payload FROM item WHERE id = ?"},
		{&s.byEmail, "SELECT id, email, at, payload FROM item WHERE email = ?"},
		{&s.scan, "SELECT id, email, at, payload FROM item WHERE at >= ? AND at < ? ORDER BY at"},
		{&s.loadItem, "INSERT INTO item(email, at, payload) VALUES (?, ?, ?) RETURNING id"},
	} {
		if *p.st, err = db.Prepare(p.q); err != nil {
			db.Close()
			return nil, fmt.Errorf("bench: sqlite: %s: %w", p.q, err)
		}
	}
	return s, nil
}

// SQLiteVersion returns the library's version.
func sqliteVersion() string {
	db, err := sql.Open("sqlite3", "file::memory:")
	if err != nil {
		return "unknown: " + err.Error()
	}
	defer db.Close()
	var v string
	if err := db.QueryRow("SELECT sqlite_version()").Scan(&v); err != nil {
		return "unknown: " + err.Error()
	}
	return v
}

func (s *sqliteStore) Close() error { return s.db.Close() }

func (s *sqliteStore) Insert() error {
	var id int64
	return s.insert.QueryRow(eventPayload).Scan(&id)
}

func (s *sqliteStore) inTx(fn func(tx *sql.Tx) error) error {
	tx, err := s.db.Begin()
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return errors.Join(err, tx.Rollback())
	}
	return tx.Commit()
}

func (s *sqliteStore) LoadEvents(n uint64) error {
	for first := uint64(1); first <= n; first += loadBatch {
		err := s.inTx(func(tx *sql.Tx) error {
			st := tx.Stmt(s.insert)
			var id int64
			for i := first; i < first+min(loadBatch, n-first+1); i++ {
				if err := st.QueryRow(loadPayload(i)).Scan(&id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *sqliteStore) Count() (n int, err error) {
	err = s.db.QueryRow("SELECT count(*) FROM event").Scan(&n)
	return n, err
}

func (s *sqliteStore) LoadAccounts(n uint64) error {
	for first := uint64(1); first <= n; first += loadBatch {
		err := s.inTx(func(tx *sql.Tx) error {
			st, err := tx.Prepare("INSERT INTO account(id, balance) VALUES (?, ?)")
			if err != nil {
				return err
			}
			defer st.Close()
			for id := first; id < first+min(loadBatch, n-first+1); id++ {
				if _, err := st.Exec(id, initialBalance); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *sqliteStore) Transfer(from, to uint64, amount int64) error {
	return s.inTx(func(tx *sql.Tx) error {
		get, set := tx.Stmt(s.getBal), tx.Stmt(s.setBal)
		var fb, tb int64
		if err := get.QueryRow(from).Scan(&fb); err != nil {
			return err
		}
		if err := get.QueryRow(to).Scan(&tb); err != nil {
			return err
		}
		if fb < amount {
			return errInsufficient
		}
		if _, err := set.Exec(fb-amount, from); err != nil {
			return err
		}
		_, err := set.Exec(tb+amount, to)
		return err
	})
}

func (s *sqliteStore) LoadItems(n uint64) error {
	for first := uint64(1); first <= n; first += loadBatch {
		err := s.inTx(func(tx *sql.Tx) error {
			st := tx.Stmt(s.loadItem)
			var id int64
			for i := first; i < first+min(loadBatch, n-first+1); i++ {
				it := itemRow(i)
				if err := st.QueryRow(it.Email, it.At, it.Payload).Scan(&id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *sqliteStore) one(st *sql.Stmt, arg any) (it Item, err error) {
	err = st.QueryRow(arg).Scan(&it.ID, &it.Email, &it.At, &it.Payload)
	if errors.Is(err, sql.ErrNoRows) {
		err = errMissing
	}
	return it, err
}

func (s *sqliteStore) Get(id uint64) (Item, error)        { return s.one(s.byID, int64(id)) }
func (s *sqliteStore) ByEmail(email string) (Item, error) { return s.one(s.byEmail, email) }

func (s *sqliteStore) Scan(lo, hi int64, fn func(*Item)) error {
	rows, err := s.scan.Query(lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var it Item
		if err := rows.Scan(&it.ID, &it.Email, &it.At, &it.Payload); err != nil {
			return err
		}
		fn(&it)
	}
	return rows.Err()
}
