package seqs

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/table"
)

// Result is what Demo did.
type Result struct {
	Before, After   []Spin  // spins before and after the reopen
	Floors          []Floor // floors added before the sequence ran out
	Exhausted       error   // the error of the floor that did not fit
	ExhaustedReopen error   // the same, after the reopen
}

// Demo opens a database in dir, adds three spins and four floors (the
// fourth fails: the floor sequence is exhausted), closes it, reopens it
// and adds two more spins and a floor. Every sequence resumes at its
// persisted boundary, past the values of its last batch:
//
//	before: (1, 3, 254) (2, 2, 255) (3, 1, 1)
//	after:  (5, 4, 3)   (6, 3, 4)
func Demo(ctx context.Context, dir string, w io.Writer) (Result, error) {
	var r Result
	d, err := keel.Open(dir, Module, keel.Options{})
	if err != nil {
		return r, err
	}
	c := NewClient(d, "demo")
	for i := 0; i < 3; i++ {
		s, err := c.AddSpin(ctx)
		if err != nil {
			d.Close()
			return r, err
		}
		fmt.Fprintf(w, "spin  id=%d dial=%d lap=%d\n", s.ID, s.Dial, s.Lap)
		r.Before = append(r.Before, s)
	}
	for _, name := range []string{"lobby", "garage", "vault", "core"} {
		f, err := c.AddFloor(ctx, name)
		if errors.Is(err, table.ErrExhausted) {
			fmt.Fprintf(w, "floor %s: %v\n", name, err)
			r.Exhausted = err
			continue
		}
		if err != nil {
			d.Close()
			return r, err
		}
		fmt.Fprintf(w, "floor %-6s level=%d\n", f.Name, f.Level)
		r.Floors = append(r.Floors, f)
	}
	if err := d.Close(); err != nil {
		return r, err
	}

	fmt.Fprintf(w, "reopening %s\n", dir)
	d, err = keel.Open(dir, Module, keel.Options{})
	if err != nil {
		return r, err
	}
	defer d.Close()
	c = NewClient(d, "demo")
	v, err := c.View(ctx)
	if err != nil {
		return r, err
	}
	fmt.Fprintf(w, "replayed %d spins and %d floors\n", v.Spin().Count(), v.Floor().Count())
	for i := 0; i < 2; i++ {
		s, err := c.AddSpin(ctx)
		if err != nil {
			return r, err
		}
		fmt.Fprintf(w, "spin  id=%d dial=%d lap=%d   (past the persisted boundary)\n", s.ID, s.Dial, s.Lap)
		r.After = append(r.After, s)
	}
	_, r.ExhaustedReopen = c.AddFloor(ctx, "core")
	fmt.Fprintf(w, "floor core after reopening: %v\n", r.ExhaustedReopen)
	return r, nil
}
