package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// The Keel module of the benchmarks, described by hand the way generated
// code describes one: three tables and the reducers the workloads call.

var (
	eventPK = &table.Index[Event]{Name: "event_pk", Columns: []string{"id"}, Unique: true,
		Compare: func(a, b *Event, n int) int { return cmp.Compare(a.ID, b.ID) },
		Format:  func(r *Event, n int) string { return fmt.Sprint("id=", r.ID) },
		Key:     func(r *Event) uint64 { return table.KeyUint(r.ID) }, KeyExact: true}
	accountPK = &table.Index[Account]{Name: "account_pk", Columns: []string{"id"}, Unique: true,
		Compare: func(a, b *Account, n int) int { return cmp.Compare(a.ID, b.ID) },
		Format:  func(r *Account, n int) string { return fmt.Sprint("id=", r.ID) },
		Key:     func(r *Account) uint64 { return table.KeyUint(r.ID) }, KeyExact: true}
	itemPK = &table.Index[Item]{Name: "item_pk", Columns: []string{"id"}, Unique: true,
		Compare: func(a, b *Item, n int) int { return cmp.Compare(a.ID, b.ID) },
		Format:  func(r *Item, n int) string { return fmt.Sprint("id=", r.ID) },
		Key:     func(r *Item) uint64 { return table.KeyUint(r.ID) }, KeyExact: true}
	itemEmailIx = &table.Index[Item]{Name: "item_email", Columns: []string{"email"}, Unique: true,
		Compare: func(a, b *Item, n int) int { return strings.Compare(a.Email, b.Email) },
		Format:  func(r *Item, n int) string { return fmt.Sprintf("email=%q", r.Email) },
		Key:     func(r *Item) uint64 { return table.KeyString(r.Email) }}
	itemAtIx = &table.Index[Item]{Name: "item_at", Columns: []string{"at"},
		Compare: func(a, b *Item, n int) int { return cmp.Compare(a.At, b.At) },
		Format:  func(r *Item, n int) string { return fmt.Sprint("at=", r.At) },
		Key:     func(r *Item) uint64 { return table.KeyInt(r.At) }, KeyExact: true}
)

// errInsufficient is a transfer's failed balance check.
var errInsufficient = errors.New("bench: insufficient balance")

// TransferArgs are the Transfer reducer's arguments.
type TransferArgs struct {
	From, To uint64
	Amount   int64
}

// LoadArgs are the arguments of the reducers that load a data set: rows
// First .. First+N-1.
type LoadArgs struct{ First, N uint64 }

type keelModule struct {
	events   *table.Def[Event]
	accounts *table.Def[Account]
	items    *table.Def[Item]
	*keel.Module

	addEvent                              *reducer.Func[string, uint64]
	transfer                              *reducer.Func[TransferArgs, struct{}]
	loadAccounts, loadEvents, loadItemsFn *reducer.Func[LoadArgs, struct{}]
}

func newKeelModule() *keelModule {
	k := &keelModule{}
	k.events = &table.Def[Event]{Name: "event", Primary: eventPK,
		Columns:   []table.Column{{Name: "id", Type: "uint64"}, {Name: "payload", Type: "string"}},
		Sequences: []table.AutoInc[Event]{table.NewAutoInc("event_id_seq", "id", table.SeqParams[uint64]{}, func(r *Event) *uint64 { return &r.ID })},
		Encode: func(dst []byte, r *Event) []byte {
			return codec.AppendString(codec.AppendUvarint(dst, r.ID), r.Payload)
		},
		Decode: func(src []byte, r *Event) error {
			d := codec.NewReader(src)
			r.ID, r.Payload = d.Uvarint(), d.Text()
			return d.Err()
		}}
	k.accounts = &table.Def[Account]{Name: "account", Primary: accountPK,
		Columns: []table.Column{{Name: "id", Type: "uint64"}, {Name: "balance", Type: "int64"}},
		Encode: func(dst []byte, r *Account) []byte {
			return codec.AppendVarint(codec.AppendUvarint(dst, r.ID), r.Balance)
		},
		Decode: func(src []byte, r *Account) error {
			d := codec.NewReader(src)
			r.ID, r.Balance = d.Uvarint(), d.Varint()
			return d.Err()
		}}
	k.items = &table.Def[Item]{Name: "item", Primary: itemPK, Indexes: []*table.Index[Item]{itemEmailIx, itemAtIx},
		Columns: []table.Column{{Name: "id", Type: "uint64"}, {Name: "email", Type: "string"},
			{Name: "at", Type: "int64"}, {Name: "payload", Type: "string"}},
		Sequences: []table.AutoInc[Item]{table.NewAutoInc("item_id_seq", "id", table.SeqParams[uint64]{}, func(r *Item) *uint64 { return &r.ID })},
		Encode: func(dst []byte, r *Item) []byte {
			dst = codec.AppendString(codec.AppendUvarint(dst, r.ID), r.Email)
			return codec.AppendString(codec.AppendVarint(dst, r.At), r.Payload)
		},
		Decode: func(src []byte, r *Item) error {
			d := codec.NewReader(src)
			r.ID, r.Email, r.At, r.Payload = d.Uvarint(), d.Text(), d.Varint(), d.Text()
			return d.Err()
		}}
	events, accounts, items := k.events, k.accounts, k.items
	k.addEvent = reducer.New("AddEvent", func(c *reducer.Ctx, payload string) (uint64, error) {
		e, err := table.Use(c.Tx, events).Insert(Event{Payload: payload})
		return e.ID, err
	}, reducer.Codec[string]{}, reducer.Codec[uint64]{})
	k.transfer = reducer.New("Transfer", func(c *reducer.Ctx, a TransferArgs) (struct{}, error) {
		t := table.Use(c.Tx, accounts)
		from, ok1 := t.Get(Account{ID: a.From})
		to, ok2 := t.Get(Account{ID: a.To})
		if !ok1 || !ok2 {
			return struct{}{}, fmt.Errorf("bench: transfer %d -> %d: %w", a.From, a.To, table.ErrNotFound)
		}
		if from.Balance < a.Amount {
			return struct{}{}, errInsufficient
		}
		from.Balance -= a.Amount
		to.Balance += a.Amount
		if _, err := t.Update(from); err != nil {
			return struct{}{}, err
		}
		_, err := t.Update(to)
		return struct{}{}, err
	}, reducer.Codec[TransferArgs]{}, reducer.Codec[struct{}]{})
	k.loadAccounts = reducer.New("LoadAccounts", func(c *reducer.Ctx, a LoadArgs) (struct{}, error) {
		t := table.Use(c.Tx, accounts)
		for id := a.First; id < a.First+a.N; id++ {
			if _, err := t.Insert(Account{ID: id, Balance: initialBalance}); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	}, reducer.Codec[LoadArgs]{}, reducer.Codec[struct{}]{})
	k.loadEvents = reducer.New("LoadEvents", func(c *reducer.Ctx, a LoadArgs) (struct{}, error) {
		t := table.Use(c.Tx, events)
		for id := a.First; id < a.First+a.N; id++ {
			if _, err := t.Insert(Event{Payload: loadPayload(id)}); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	}, reducer.Codec[LoadArgs]{}, reducer.Codec[struct{}]{})
	k.loadItemsFn = reducer.New("LoadItems", func(c *reducer.Ctx, a LoadArgs) (struct{}, error) {
		t := table.Use(c.Tx, items)
		for id := a.First; id < a.First+a.N; id++ {
			if _, err := t.Insert(itemRow(id)); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	}, reducer.Codec[LoadArgs]{}, reducer.Codec[struct{}]{})
	k.Module = &keel.Module{Name: "bench",
		Tables:   []table.Schema{events, accounts, items},
		Reducers: []*reducer.Def{&k.addEvent.Def, &k.transfer.Def, &k.loadAccounts.Def, &k.loadEvents.Def, &k.loadItemsFn.Def}}
	return k
}

// keelStore is Keel in one mode: in memory (keel.OpenMemory), or in a
// data directory (keel.Open) with a sync policy.
type keelStore struct {
	k   *keelModule
	db  *keel.DB
	ctx context.Context
}

func keelOptions(m Mode) keel.Options {
	switch m {
	case NoSync:
		return keel.Options{Sync: keel.SyncNever}
	default:
		return keel.Options{Sync: keel.SyncAlways}
	}
}

func keelConfig(m Mode) string {
	switch m {
	case Durable:
		return "keel.Open, Sync: keel.SyncAlways (the default: acknowledged after fsync, group commit), default snapshots"
	case NoSync:
		return "keel.Open, Sync: keel.SyncNever (acknowledged once written to the OS)"
	default:
		return "keel.OpenMemory"
	}
}

func openKeel(dir string, m Mode) (store, error) {
	k := newKeelModule()
	var db *keel.DB
	var err error
	if m == Memory {
		db, err = keel.OpenMemory(k.Module, keel.Options{})
	} else {
		db, err = keel.Open(dir, k.Module, keelOptions(m))
	}
	if err != nil {
		return nil, err
	}
	return &keelStore{k: k, db: db, ctx: context.Background()}, nil
}

func (s *keelStore) Close() error { return s.db.Close() }

func (s *keelStore) Insert() error {
	_, err := keel.Run(s.ctx, s.db, "", s.k.addEvent, eventPayload)
	return err
}

func (s *keelStore) load(f *reducer.Func[LoadArgs, struct{}], n uint64) error {
	for first := uint64(1); first <= n; first += loadBatch {
		if _, err := keel.Run(s.ctx, s.db, "", f, LoadArgs{First: first, N: min(loadBatch, n-first+1)}); err != nil {
			return err
		}
	}
	return nil
}

func (s *keelStore) LoadAccounts(n uint64) error { return s.load(s.k.loadAccounts, n) }
func (s *keelStore) LoadItems(n uint64) error    { return s.load(s.k.loadItemsFn, n) }
func (s *keelStore) LoadEvents(n uint64) error   { return s.load(s.k.loadEvents, n) }

func (s *keelStore) Transfer(from, to uint64, amount int64) error {
	_, err := keel.Run(s.ctx, s.db, "", s.k.transfer, TransferArgs{From: from, To: to, Amount: amount})
	return err
}

func (s *keelStore) items() (*table.Reader[Item], error) {
	v, err := s.db.View(s.ctx)
	if err != nil {
		return nil, err
	}
	return table.Read(v, s.k.items), nil
}

func (s *keelStore) Get(id uint64) (Item, error) {
	r, err := s.items()
	if err != nil {
		return Item{}, err
	}
	it, ok := r.Get(Item{ID: id})
	if !ok {
		return it, errMissing
	}
	return it, nil
}

func (s *keelStore) ByEmail(email string) (Item, error) {
	r, err := s.items()
	if err != nil {
		return Item{}, err
	}
	it, ok := r.Find(itemEmailIx, Item{Email: email})
	if !ok {
		return it, errMissing
	}
	return it, nil
}

func (s *keelStore) Scan(lo, hi int64, fn func(*Item)) error {
	r, err := s.items()
	if err != nil {
		return err
	}
	for it := range r.Scan(itemAtIx, table.Incl(Item{At: lo}, 0), table.Excl(Item{At: hi}, 0)) {
		fn(&it)
	}
	return nil
}

// Count returns the number of event rows, to check a recovery.
func (s *keelStore) Count() (int, error) {
	v, err := s.db.View(s.ctx)
	if err != nil {
		return 0, err
	}
	return table.Read(v, s.k.events).Count(), nil
}

// logStats reports the log's appended entries, commit groups, fsyncs and
// time spent in fsync so far.
func (s *keelStore) logStats() (logCounters, bool) { return keelLogStats(s.db) }

func keelLogStats(db *keel.DB) (logCounters, bool) {
	if db.Dir() == "" {
		return logCounters{}, false
	}
	st := db.Stats().Log
	return logCounters{Entries: st.Entries, Groups: st.Groups, Syncs: st.Syncs, SyncTime: st.SyncTime}, true
}
