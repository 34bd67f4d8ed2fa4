package main

import (
	"cmp"
	"errors"
	"fmt"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// The keynote workload of SpacetimeDB's benchmark: transfers between
// 100,000 accounts found by a hash primary key (as the repository's
// BenchmarkKeynote and bench's W9), here with a public table so that
// clients may subscribe to accounts.

type account struct {
	ID      uint64
	Balance int64
}

type transferArgs struct {
	From, To uint64
	Amount   int64
}

var errBalance = errors.New("insufficient balance")

const accounts = 100_000

func keynoteModule() (*keel.Module, *reducer.Func[transferArgs, struct{}], *reducer.Func[uint64, struct{}]) {
	pk := &table.Index[account]{Name: "account_pk", Columns: []string{"id"}, Unique: true,
		Compare:  func(a, b *account, _ int) int { return cmp.Compare(a.ID, b.ID) },
		Format:   func(r *account, _ int) string { return fmt.Sprint("id=", r.ID) },
		Key:      func(r *account) uint64 { return table.KeyUint(r.ID) },
		KeyExact: true,
		Hash:     func(r *account) uint64 { return table.HashUint(r.ID) }}
	def := &table.Def[account]{Name: "account", Primary: pk, Public: true,
		Columns: []table.Column{{Name: "id", Type: "uint64", Kind: "uint64"}, {Name: "balance", Type: "int64", Kind: "int64"}},
		Encode: func(dst []byte, r *account) []byte {
			return codec.AppendVarint(codec.AppendUvarint(dst, r.ID), r.Balance)
		},
		Decode: func(src []byte, r *account) error {
			d := codec.NewReader(src)
			r.ID, r.Balance = d.Uvarint(), d.Varint()
			return d.Err()
		}}
	none := reducer.Codec[struct{}]{Append: func(dst []byte, _ *struct{}) []byte { return dst },
		Decode: func([]byte, *struct{}) error { return nil }}
	transfer := reducer.New("Transfer", func(c *reducer.Ctx, a transferArgs) (struct{}, error) {
		t := table.Use(c.Tx, def)
		from, ok1 := t.Get(account{ID: a.From})
		to, ok2 := t.Get(account{ID: a.To})
		if !ok1 || !ok2 {
			return struct{}{}, table.ErrNotFound
		}
		if from.Balance < a.Amount {
			return struct{}{}, errBalance
		}
		from.Balance -= a.Amount
		to.Balance += a.Amount
		if _, err := t.Update(from); err != nil {
			return struct{}{}, err
		}
		_, err := t.Update(to)
		return struct{}{}, err
	}, reducer.Codec[transferArgs]{
		Append: func(dst []byte, a *transferArgs) []byte {
			return codec.AppendVarint(codec.AppendUvarint(codec.AppendUvarint(dst, a.From), a.To), a.Amount)
		},
		Decode: func(src []byte, a *transferArgs) error {
			d := codec.NewReader(src)
			a.From, a.To, a.Amount = d.Uvarint(), d.Uvarint(), d.Varint()
			return d.Err()
		},
	}, none, reducer.Signature([]reducer.Param{{Name: "from", Kind: "uint64"}, {Name: "to", Kind: "uint64"}, {Name: "amount", Kind: "int64"}}, nil))
	load := reducer.New("Load", func(c *reducer.Ctx, n uint64) (struct{}, error) {
		t := table.Use(c.Tx, def)
		for id := uint64(1); id <= n; id++ {
			if _, err := t.Insert(account{ID: id, Balance: 1_000_000}); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	}, reducer.Codec[uint64]{}, reducer.Codec[struct{}]{})
	return &keel.Module{Name: "keynote", Tables: []table.Schema{def}, Reducers: []*reducer.Def{&transfer.Def, &load.Def}}, transfer, load
}
