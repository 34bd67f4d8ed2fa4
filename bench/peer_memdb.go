package main

import (
	"fmt"

	memdb "github.com/hashicorp/go-memdb"
)

// go-memdb: one table per row type with an "id" index; the item table
// adds a unique "email" index and an "at" index (big-endian, so ordered).
// go-memdb has no autoinc: a counter row is read and replaced in the same
// write transaction as the row. Stored objects are never modified: a
// write inserts a new object.

type counter struct {
	Name string
	N    uint64
}

type memdbStore struct{ db *memdb.MemDB }

func memdbConfig(Mode) string {
	return "in memory only; one write transaction at a time (its own lock)"
}

var memdbSchema = &memdb.DBSchema{Tables: map[string]*memdb.TableSchema{
	"counter": {Name: "counter", Indexes: map[string]*memdb.IndexSchema{
		"id": {Name: "id", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Name"}}}},
	"event": {Name: "event", Indexes: map[string]*memdb.IndexSchema{
		"id": {Name: "id", Unique: true, Indexer: &memdb.UintFieldIndex{Field: "ID"}}}},
	"account": {Name: "account", Indexes: map[string]*memdb.IndexSchema{
		"id": {Name: "id", Unique: true, Indexer: &memdb.UintFieldIndex{Field: "ID"}}}},
	"item": {Name: "item", Indexes: map[string]*memdb.IndexSchema{
		"id":    {Name: "id", Unique: true, Indexer: &memdb.UintFieldIndex{Field: "ID"}},
		"email": {Name: "email", Unique: true, Indexer: &memdb.StringFieldIndex{Field: "Email"}},
		"at":    {Name: "at", Indexer: &memdb.IntFieldIndex{Field: "At"}}}},
}}

func openMemdb(string, Mode) (store, error) {
	db, err := memdb.NewMemDB(memdbSchema)
	if err != nil {
		return nil, err
	}
	return &memdbStore{db: db}, nil
}

func (s *memdbStore) Close() error { return nil }

func memdbNext(txn *memdb.Txn, name string) (uint64, error) {
	raw, err := txn.First("counter", "id", name)
	if err != nil {
		return 0, err
	}
	var n uint64
	if raw != nil {
		n = raw.(*counter).N
	}
	n++
	return n, txn.Insert("counter", &counter{Name: name, N: n})
}

func (s *memdbStore) Insert() error {
	txn := s.db.Txn(true)
	defer txn.Abort()
	id, err := memdbNext(txn, "event")
	if err != nil {
		return err
	}
	if err := txn.Insert("event", &Event{ID: id, Payload: eventPayload}); err != nil {
		return err
	}
	txn.Commit()
	return nil
}

func (s *memdbStore) LoadEvents(n uint64) error {
	for first := uint64(1); first <= n; first += loadBatch {
		txn := s.db.Txn(true)
		for i := first; i < first+min(loadBatch, n-first+1); i++ {
			id, err := memdbNext(txn, "event")
			if err != nil {
				txn.Abort()
				return err
			}
			if err := txn.Insert("event", &Event{ID: id, Payload: loadPayload(i)}); err != nil {
				txn.Abort()
				return err
			}
		}
		txn.Commit()
	}
	return nil
}

func (s *memdbStore) Count() (int, error) {
	txn := s.db.Txn(false)
	it, err := txn.Get("event", "id")
	if err != nil {
		return 0, err
	}
	n := 0
	for o := it.Next(); o != nil; o = it.Next() {
		n++
	}
	return n, nil
}

func (s *memdbStore) LoadAccounts(n uint64) error {
	for first := uint64(1); first <= n; first += loadBatch {
		txn := s.db.Txn(true)
		for id := first; id < first+min(loadBatch, n-first+1); id++ {
			if err := txn.Insert("account", &Account{ID: id, Balance: initialBalance}); err != nil {
				txn.Abort()
				return err
			}
		}
		txn.Commit()
	}
	return nil
}

func (s *memdbStore) Transfer(from, to uint64, amount int64) error {
	txn := s.db.Txn(true)
	defer txn.Abort()
	fr, err := txn.First("account", "id", from)
	if err != nil {
		return err
	}
	tr, err := txn.First("account", "id", to)
	if err != nil {
		return err
	}
	if fr == nil || tr == nil {
		return errMissing
	}
	f, t := *fr.(*Account), *tr.(*Account)
	if f.Balance < amount {
		return errInsufficient
	}
	f.Balance -= amount
	t.Balance += amount
	if err := txn.Insert("account", &f); err != nil {
		return err
	}
	if err := txn.Insert("account", &t); err != nil {
		return err
	}
	txn.Commit()
	return nil
}

func (s *memdbStore) LoadItems(n uint64) error {
	for first := uint64(1); first <= n; first += loadBatch {
		txn := s.db.Txn(true)
		for i := first; i < first+min(loadBatch, n-first+1); i++ {
			id, err := memdbNext(txn, "item")
			if err != nil {
				txn.Abort()
				return err
			}
			it := itemRow(i)
			it.ID = id
			if o, _ := txn.First("item", "email", it.Email); o != nil {
				txn.Abort()
				return fmt.Errorf("bench: go-memdb: email %s taken", it.Email)
			}
			if err := txn.Insert("item", &it); err != nil {
				txn.Abort()
				return err
			}
		}
		txn.Commit()
	}
	return nil
}

func (s *memdbStore) first(index string, arg any) (Item, error) {
	o, err := s.db.Txn(false).First("item", index, arg)
	if err != nil {
		return Item{}, err
	}
	if o == nil {
		return Item{}, errMissing
	}
	return *o.(*Item), nil
}

func (s *memdbStore) Get(id uint64) (Item, error)        { return s.first("id", id) }
func (s *memdbStore) ByEmail(email string) (Item, error) { return s.first("email", email) }

func (s *memdbStore) Scan(lo, hi int64, fn func(*Item)) error {
	it, err := s.db.Txn(false).LowerBound("item", "at", lo)
	if err != nil {
		return err
	}
	for o := it.Next(); o != nil; o = it.Next() {
		item := o.(*Item)
		if item.At >= hi {
			break
		}
		c := *item
		fn(&c)
	}
	return nil
}
