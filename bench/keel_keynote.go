package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// Keel's module for W9, SpacetimeDB's keynote workload: the account table
// alone, found by a hash primary key as the keynote's module finds it.
// W3 keeps its B-tree account table (keel.go); this is a module of its own
// so that neither workload's table shapes the other's.

var keynotePK = &table.Index[Account]{Name: "account_pk", Columns: []string{"id"}, Unique: true,
	Compare: func(a, b *Account, n int) int { return cmp.Compare(a.ID, b.ID) },
	Format:  func(r *Account, n int) string { return fmt.Sprint("id=", r.ID) },
	Key:     func(r *Account) uint64 { return table.KeyUint(r.ID) }, KeyExact: true,
	Hash: func(r *Account) uint64 { return table.HashUint(r.ID) }}

// keynoteStore is Keel with the keynote module, durable (SyncAlways, in a
// data directory) or in memory.
type keynoteStore struct {
	db       *keel.DB
	ctx      context.Context
	transfer *reducer.Func[TransferArgs, struct{}]
	load     *reducer.Func[LoadArgs, struct{}]
}

func openKeynote(dir string, m Mode) (*keynoteStore, error) {
	accounts := &table.Def[Account]{Name: "account", Primary: keynotePK,
		Columns: []table.Column{{Name: "id", Type: "uint64", Kind: "uint64"}, {Name: "balance", Type: "int64", Kind: "int64"}},
		Encode: func(dst []byte, r *Account) []byte {
			return codec.AppendVarint(codec.AppendUvarint(dst, r.ID), r.Balance)
		},
		Decode: func(src []byte, r *Account) error {
			d := codec.NewReader(src)
			r.ID, r.Balance = d.Uvarint(), d.Varint()
			return d.Err()
		}}
	s := &keynoteStore{ctx: context.Background()}
	s.transfer = reducer.New("Transfer", func(c *reducer.Ctx, a TransferArgs) (struct{}, error) {
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
	s.load = reducer.New("LoadAccounts", func(c *reducer.Ctx, a LoadArgs) (struct{}, error) {
		t := table.Use(c.Tx, accounts)
		for id := a.First; id < a.First+a.N; id++ {
			if _, err := t.Insert(Account{ID: id, Balance: initialBalance}); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	}, reducer.Codec[LoadArgs]{}, reducer.Codec[struct{}]{})
	mod := &keel.Module{Name: "keynote", Tables: []table.Schema{accounts},
		Reducers: []*reducer.Def{&s.transfer.Def, &s.load.Def}}
	var err error
	if m == Memory {
		s.db, err = keel.OpenMemory(mod, keel.Options{})
	} else {
		s.db, err = keel.Open(dir, mod, keelOptions(m))
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func (s *keynoteStore) Close() error { return s.db.Close() }

func (s *keynoteStore) LoadAccounts(n uint64) error {
	for first := uint64(1); first <= n; first += loadBatch {
		if _, err := keel.Run(s.ctx, s.db, "", s.load, LoadArgs{First: first, N: min(loadBatch, n-first+1)}); err != nil {
			return err
		}
	}
	return nil
}

// Transfer is one synchronous call (keel.Run).
func (s *keynoteStore) Transfer(from, to uint64, amount int64) error {
	_, err := keel.Run(s.ctx, s.db, "", s.transfer, TransferArgs{From: from, To: to, Amount: amount})
	return err
}

func (s *keynoteStore) logStats() (logCounters, bool) { return keelLogStats(s.db) }

// flight is a pipelined call: its future and when it was submitted.
type flight struct {
	f  keel.Future[struct{}]
	at time.Time
}

// pipelined is the loop of a submitter that keeps window transfers of
// amount in flight, as the keynote's clients do: it submits calls in one
// keel.Batch, waits for the oldest, takes with it every later call that
// has finished too (results come back in submission order), and refills
// the window with one batch. Each call's latency runs from just before
// its batch is built to the moment the submitter has its result; a call
// rejected by the balance check counts as done and in rejected.
func (s *keynoteStore) pipelined(pickers []*picker, window int, amount int64, rejected *atomic.Int64) loopFunc {
	return func(w int, _ *rand.Rand, t *turn) error {
		p := pickers[w]
		b := keel.NewBatch(s.db)
		fl := make([]flight, 0, window)
		var failed error
		for {
			if n := t.admit(window - len(fl)); n > 0 {
				at := time.Now()
				for range n {
					from, to := p.pair()
					fl = append(fl, flight{keel.Add(b, s.ctx, "", s.transfer, TransferArgs{From: from, To: to, Amount: amount}), at})
				}
				// A failed submission fails the calls it did not queue
				// (their futures say so): the loop below drains the rest.
				if err := b.Submit(); err != nil {
					failed = err
				}
			}
			if len(fl) == 0 {
				return failed
			}
			_, err := fl[0].f.Wait(s.ctx)
			now := time.Now()
			k := 0
			for ; k < len(fl); k++ {
				if k > 0 {
					if !fl[k].f.Done() {
						break
					}
					_, err = fl[k].f.Wait(s.ctx)
				}
				switch {
				case err == nil:
				case errors.Is(err, errInsufficient):
					rejected.Add(1)
				case failed == nil:
					failed = err
				}
				t.done(fl[k].at, now)
			}
			fl = append(fl[:0], fl[k:]...)
			if failed != nil {
				t.end() // admit no more: drain what is in flight, then fail
			}
		}
	}
}
