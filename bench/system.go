package main

import "errors"

// Mode is the durability promise a measurement is made under.
type Mode int

const (
	// Durable: a transaction is acknowledged once it is fsynced.
	Durable Mode = iota
	// NoSync: acknowledged once written to the OS; fsync is left to it.
	NoSync
	// Memory: no file at all.
	Memory
)

func (m Mode) String() string {
	switch m {
	case Durable:
		return "durable"
	case NoSync:
		return "no fsync"
	default:
		return "in memory"
	}
}

var errMissing = errors.New("bench: row not found")

// store is one system opened in one mode. Each method does the same
// logical work in every system: the same rows, in transactions of the same
// extent, under the same durability promise.
type store interface {
	// Insert stores one event row with the next autoinc id, in one
	// transaction (W1, W2).
	Insert() error
	// LoadAccounts stores accounts 1..n with initialBalance, loadBatch
	// rows per transaction.
	LoadAccounts(n uint64) error
	// Transfer reads both balances, checks the source's and moves amount,
	// in one transaction (W3).
	Transfer(from, to uint64, amount int64) error
	// LoadItems stores items 1..n (itemRow), loadBatch rows per
	// transaction, with their unique and non-unique indexes.
	LoadItems(n uint64) error
	// Get and ByEmail return an item by primary key and by its unique
	// email, decoded into an Item (W4).
	Get(id uint64) (Item, error)
	ByEmail(email string) (Item, error)
	// Scan calls fn with every item whose At lies in [lo, hi), in At order
	// (W5).
	Scan(lo, hi int64, fn func(*Item)) error
	// LoadEvents stores events 1..n with loadPayload, loadBatch rows per
	// transaction (W7, W8).
	LoadEvents(n uint64) error
	// Count returns the number of event rows.
	Count() (int, error)
	Close() error
}

// system is one database under test.
type system struct {
	name   string
	modes  []Mode
	config func(Mode) string
	open   func(dir string, m Mode) (store, error)
}

func (s *system) has(m Mode) bool {
	for _, x := range s.modes {
		if x == m {
			return true
		}
	}
	return false
}

// systems are Keel first, then the peers.
var systems = []*system{
	{name: "keel", modes: []Mode{Durable, NoSync, Memory}, config: keelConfig, open: openKeel},
	{name: "buntdb", modes: []Mode{Durable, NoSync, Memory}, config: buntConfig, open: openBunt},
	{name: "bbolt", modes: []Mode{Durable, NoSync}, config: boltConfig, open: openBolt},
	{name: "sqlite", modes: []Mode{Durable, NoSync, Memory}, config: sqliteConfig, open: openSQLite},
	{name: "go-memdb", modes: []Mode{Memory}, config: memdbConfig, open: openMemdb},
}

func systemNamed(name string) *system {
	for _, s := range systems {
		if s.name == name {
			return s
		}
	}
	return nil
}
