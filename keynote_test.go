package keel_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// The keynote workload of SpacetimeDB's benchmark: transfers between
// 100,000 accounts found by a hash primary key, from 64 submitters with
// 40 calls in flight each.

type account struct {
	ID      uint64
	Balance int64
}

type transferArgs struct {
	From, To uint64
	Amount   int64
}

var errBalance = errors.New("insufficient balance")

func keynoteModule() (*keel.Module, *reducer.Func[transferArgs, struct{}], *reducer.Func[uint64, struct{}]) {
	pk := &table.Index[account]{Name: "account_pk", Columns: []string{"id"}, Unique: true,
		Compare:  func(a, b *account, _ int) int { return cmp.Compare(a.ID, b.ID) },
		Format:   func(r *account, _ int) string { return fmt.Sprint("id=", r.ID) },
		Key:      func(r *account) uint64 { return table.KeyUint(r.ID) },
		KeyExact: true,
		Hash:     func(r *account) uint64 { return table.HashUint(r.ID) }}
	def := &table.Def[account]{Name: "account", Primary: pk,
		Columns: []table.Column{{Name: "id", Type: "uint64", Kind: "uint64"}, {Name: "balance", Type: "int64", Kind: "int64"}},
		Encode: func(dst []byte, r *account) []byte {
			return codec.AppendVarint(codec.AppendUvarint(dst, r.ID), r.Balance)
		},
		Decode: func(src []byte, r *account) error {
			d := codec.NewReader(src)
			r.ID, r.Balance = d.Uvarint(), d.Varint()
			return d.Err()
		}}
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
	}, reducer.Codec[transferArgs]{}, reducer.Codec[struct{}]{})
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

const keynoteAccounts = 100_000

// keynote runs transfers from submitters goroutines with inflight calls
// each for d and reports transactions per second and the latency
// percentiles of the calls.
func keynote(b *testing.B, db *keel.DB, transfer *reducer.Func[transferArgs, struct{}], submitters, inflight int, zipf bool, d time.Duration) {
	var wg sync.WaitGroup
	lats := make([][]time.Duration, submitters)
	counts := make([]int, submitters)
	start := time.Now()
	deadline := start.Add(d)
	ctx := context.Background()
	for w := range submitters {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w)+1, 7))
			var z *rand.Zipf
			if zipf {
				z = rand.NewZipf(r, 1.5, 1, keynoteAccounts-1)
			}
			pick := func() uint64 {
				if z != nil {
					return z.Uint64() + 1
				}
				return r.Uint64N(keynoteAccounts) + 1
			}
			type flight struct {
				f  keel.Future[struct{}]
				at time.Time
			}
			window := make([]flight, 0, inflight)
			for time.Now().Before(deadline) {
				for len(window) < inflight {
					a, c := pick(), pick()
					for c == a {
						c = pick()
					}
					window = append(window, flight{keel.Go(ctx, db, "", transfer, transferArgs{From: a, To: c, Amount: 1}), time.Now()})
				}
				// Wait for the oldest call, then take every call that
				// finished meanwhile, and refill the window.
				if _, err := window[0].f.Wait(ctx); err != nil && !errors.Is(err, errBalance) {
					b.Error(err)
					return
				}
				now := time.Now()
				k := 0
				for k < len(window) && (k == 0 || window[k].f.Done()) {
					if k > 0 {
						if _, err := window[k].f.Wait(ctx); err != nil && !errors.Is(err, errBalance) {
							b.Error(err)
							return
						}
					}
					lats[w] = append(lats[w], now.Sub(window[k].at))
					k++
				}
				counts[w] += k
				window = append(window[:0], window[k:]...)
			}
			// The calls still in flight at the deadline count as the
			// others do: checked, timed, and within the elapsed time.
			for _, fl := range window {
				if _, err := fl.f.Wait(ctx); err != nil && !errors.Is(err, errBalance) {
					b.Error(err)
					return
				}
				lats[w] = append(lats[w], time.Since(fl.at))
				counts[w]++
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	n := 0
	for w := range lats {
		all = append(all, lats[w]...)
		n += counts[w]
	}
	slices.Sort(all)
	b.ReportMetric(float64(n)/elapsed.Seconds(), "tx/s")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
	s := db.Stats()
	if s.Log.Groups > 0 {
		b.ReportMetric(float64(s.Log.Entries)/float64(s.Log.Groups), "tx/group")
	}
}

// BenchmarkKeynote: transfers over 100,000 accounts (hash primary key),
// 64 submitters with 40 calls in flight each, in memory and durable,
// uniform and Zipf (alpha 1.5). Each sub-benchmark runs 3 s once.
func BenchmarkKeynote(b *testing.B) {
	for _, durable := range []bool{false, true} {
		for _, zipf := range []bool{false, true} {
			name := fmt.Sprintf("durable=%v/zipf=%v", durable, zipf)
			b.Run(name, func(b *testing.B) {
				m, transfer, load := keynoteModule()
				var db *keel.DB
				var err error
				if durable {
					db, err = keel.Open(b.TempDir(), m, keel.Options{SnapshotBytes: -1, SnapshotEvery: -1})
				} else {
					db, err = keel.OpenMemory(m, keel.Options{})
				}
				if err != nil {
					b.Fatal(err)
				}
				defer db.Close()
				if _, err := keel.Run(context.Background(), db, "", load, keynoteAccounts); err != nil {
					b.Fatal(err)
				}
				for b.Loop() {
					keynote(b, db, transfer, 64, 40, zipf, 3*time.Second)
				}
			})
		}
	}
}
