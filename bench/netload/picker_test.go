package main

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestZipfPicker: the table's draws follow rand.Zipf's distribution (s =
// 1.5, v = 1, imax = n-1, plus one): the share of the first ids, and of
// the ids past 1,000, within a few standard errors of the exact ones.
func TestZipfPicker(t *testing.T) {
	const n, draws = 100_000, 2_000_000
	var sum float64
	for k := 1; k <= n; k++ {
		sum += math.Pow(float64(k), -1.5)
	}
	exact := func(lo, hi int) float64 {
		var p float64
		for k := lo; k <= hi; k++ {
			p += math.Pow(float64(k), -1.5)
		}
		return p / sum
	}
	ranges := [][2]int{{1, 1}, {2, 2}, {3, 10}, {11, 100}, {101, 1000}, {1001, n}}
	count := func(pick func() uint64) []int {
		c := make([]int, len(ranges))
		for range draws {
			id := int(pick())
			if id < 1 || id > n {
				t.Fatalf("id %d out of 1..%d", id, n)
			}
			for i, r := range ranges {
				if id >= r[0] && id <= r[1] {
					c[i]++
				}
			}
		}
		return c
	}
	z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.5, 1, n-1)
	for name, c := range map[string][]int{
		"table":     count(picker(1, true, n)),
		"rand.Zipf": count(func() uint64 { return z.Uint64() + 1 }),
	} {
		for i, r := range ranges {
			p := exact(r[0], r[1])
			got := float64(c[i]) / draws
			se := math.Sqrt(p * (1 - p) / draws)
			if math.Abs(got-p) > 5*se {
				t.Errorf("%s: ids %d..%d drawn %.5f of the time, want %.5f (± %.5f)", name, r[0], r[1], got, p, 5*se)
			}
		}
	}
}
