package table

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// TestViewsReadConcurrently reads views on other goroutines while the
// writer goes on committing, growing and shrinking B-tree and hash
// indexes: each view keeps showing its commit (run with -race, which also
// checks that the writer never writes memory a view reads).
func TestViewsReadConcurrently(t *testing.T) {
	for _, hash := range []bool{false, true} {
		t.Run(fmt.Sprint("hash=", hash), func(t *testing.T) {
			var f *fixture
			if hash {
				f = hashFixture(t, false)
			} else {
				f = newFixture(t, SeqParams[uint8]{})
			}
			type held struct {
				v    *View
				want []user // by id
			}
			views := make(chan held, 4)
			var wg sync.WaitGroup
			for range 2 {
				wg.Go(func() {
					for h := range views {
						r := Read(h.v, f.users)
						for range 3 {
							got := collect(r.All())
							slices.SortFunc(got, func(a, b user) int { return int(a.ID) - int(b.ID) })
							if !slices.Equal(got, h.want) || r.Count() != len(h.want) {
								t.Errorf("view of tx %d: %d rows %v, want %v", h.v.TxID, r.Count(), got, h.want)
								return
							}
							for _, w := range h.want {
								if got, ok := r.Find(f.email, user{Email: w.Email}); !ok || got != w {
									t.Errorf("view of tx %d: find %q: %+v %v, want %+v", h.v.TxID, w.Email, got, ok, w)
									return
								}
							}
						}
					}
				})
			}
			rng := rand.New(rand.NewPCG(5, 6))
			rows := map[uint8]user{}
			for step := range 400 {
				tx, err := f.db.begin()
				if err != nil {
					t.Fatal(err)
				}
				u := Use(tx, f.users)
				grow := step/100%2 == 0
				for range 4 {
					if id := uint8(1 + rng.IntN(255)); !grow {
						if _, err := u.Delete(user{ID: id}); err == nil {
							delete(rows, id)
						}
					} else if r, err := u.Insert(user{Email: fmt.Sprint("e", step, "-", rng.IntN(1e6)), Team: "t"}); err == nil {
						rows[r.ID] = r
					}
				}
				if row, ok := rows[uint8(1+rng.IntN(255))]; ok {
					row.Name = fmt.Sprint("n", step)
					if _, err := u.Update(row); err != nil {
						t.Fatal(err)
					}
					rows[row.ID] = row
				}
				tx.commit()
				v, err := f.db.view()
				if err != nil {
					t.Fatal(err)
				}
				want := make([]user, 0, len(rows))
				for _, r := range rows {
					want = append(want, r)
				}
				slices.SortFunc(want, func(a, b user) int { return int(a.ID) - int(b.ID) })
				views <- held{v, want}
			}
			close(views)
			wg.Wait()
		})
	}
}
