package main

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestExpW1(t *testing.T) {
	for round := 0; round < 3; round++ {
		dir := t.TempDir()
		s, err := openKeel(filepath.Join(dir, "k"), Durable)
		if err != nil {
			t.Fatal(err)
		}
		f, _ := os.Create(filepath.Join(dir, "raw"))
		rec := make([]byte, 80)
		var kl, rl []time.Duration
		for i := 0; i < 2000; i++ {
			t0 := time.Now()
			if err := s.Insert(); err != nil {
				t.Fatal(err)
			}
			t1 := time.Now()
			f.Write(rec)
			f.Sync()
			t2 := time.Now()
			kl = append(kl, t1.Sub(t0))
			rl = append(rl, t2.Sub(t1))
		}
		ks := s.(*keelStore).d.Stats()
		s.Close()
		sum := func(l []time.Duration) (time.Duration, time.Duration, time.Duration) {
			var tot time.Duration
			for _, d := range l {
				tot += d
			}
			slices.Sort(l)
			return tot / time.Duration(len(l)), l[len(l)/2], l[len(l)*99/100]
		}
		km, k50, k99 := sum(kl)
		rm, r50, r99 := sum(rl)
		t.Logf("keel mean %v p50 %v p99 %v | raw mean %v p50 %v p99 %v | stats %+v", km, k50, k99, rm, r50, r99, ks)
	}
}
