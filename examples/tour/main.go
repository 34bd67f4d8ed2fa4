// Command tour runs every example module against a data directory on
// disk. The first run creates the databases and runs each example's demo;
// every later run replays them from disk, shows what is there and adds one
// row to each, with ids continuing where the last run stopped.
//
//	go run ./examples/tour                  # data in ./keel-tour-data
//	go run ./examples/tour -dir /tmp/tour
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/examples/counters/counter"
	"github.com/keeldb/keel/examples/invoices/billing"
	"github.com/keeldb/keel/examples/orders/shop"
	"github.com/keeldb/keel/examples/posts/blog"
	"github.com/keeldb/keel/examples/sequences/seqs"
)

func main() {
	dir := flag.String("dir", "keel-tour-data", "the data `directory`")
	flag.Parse()
	if _, err := tour(context.Background(), *dir, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tour:", err)
		os.Exit(1)
	}
}

// Last is the newest row of each example after a run of the tour.
type Last struct {
	Run     int // 1 for the run that created the data
	Post    uint64
	Invoice uint64
	Item    int64
	Order   int64
	Spin    seqs.Spin
}

// open opens one example's database in dir/name, runs first on a new
// database or next on one replayed from disk, and closes it.
func open(dir, name string, m *keel.Module, w io.Writer, fresh func(db *keel.DB) (bool, error), first, next func(db *keel.DB) error) error {
	fmt.Fprintf(w, "\n== %s (%s)\n", name, filepath.Join(dir, name))
	d, err := keel.Open(filepath.Join(dir, name), m, keel.Options{})
	if err != nil {
		return err
	}
	isNew, err := fresh(d)
	if err == nil {
		if isNew {
			err = first(d)
		} else {
			// Recovery.Rows counts the snapshot's rows and every row
			// change the replayed entries hold, not the rows stored.
			rec := d.Recovery()
			if rec.Snapshot != "" {
				fmt.Fprintf(w, "replayed from disk: snapshot of entry %d, then %d log entries (%d rows and row changes)\n", rec.SnapshotIndex, rec.Entries, rec.Rows)
			} else {
				fmt.Fprintf(w, "replayed from disk: %d log entries, %d row changes\n", rec.Entries, rec.Rows)
			}
			err = next(d)
		}
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func tour(ctx context.Context, dir string, w io.Writer) (Last, error) {
	var last Last
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return last, err
	}
	_, err := os.Stat(filepath.Join(dir, "posts"))
	last.Run = 1
	if err == nil {
		last.Run = 2
	}
	fmt.Fprintf(w, "Keel tour, data in %s\n", dir)

	// posts
	err = open(dir, "posts", blog.Module, w,
		func(db *keel.DB) (bool, error) {
			v, err := blog.NewClient(db, "tour").View(ctx)
			return err == nil && v.Post().Count() == 0, err
		},
		func(db *keel.DB) error {
			posts, err := blog.Demo(ctx, blog.NewClient(db, "tour"), w)
			if err == nil {
				last.Post = posts[len(posts)-1].ID
			}
			return err
		},
		func(db *keel.DB) error {
			c := blog.NewClient(db, "tour")
			v, err := c.View(ctx)
			if err != nil {
				return err
			}
			n := v.Post().Count()
			fmt.Fprintf(w, "%d posts on disk\n", n)
			p, err := c.AddPost(ctx, fmt.Sprintf("tour-%d", n+1), "tour", fmt.Sprintf("Post %d, added by a later run", n+1))
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "new post: id %d (the sequence continues past its persisted boundary)\n", p.ID)
			last.Post = p.ID
			return nil
		})
	if err != nil {
		return last, fmt.Errorf("posts: %w", err)
	}

	// invoices
	err = open(dir, "invoices", billing.Module, w,
		func(db *keel.DB) (bool, error) {
			v, err := billing.NewClient(db, "tour").View(ctx)
			return err == nil && v.Invoice().Count() == 0, err
		},
		func(db *keel.DB) error {
			_, n, err := billing.Demo(ctx, billing.NewClient(db, "tour"), w)
			last.Invoice = n
			return err
		},
		func(db *keel.DB) error {
			c := billing.NewClient(db, "tour")
			v, err := c.View(ctx)
			if err != nil {
				return err
			}
			ctr, _ := v.Counter().Find("invoice")
			fmt.Fprintf(w, "%d invoices on disk, counter at %d\n", v.Invoice().Count(), ctr.Value)
			inv, err := c.CreateInvoice(ctx, "tour", 100)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "new invoice: number %d (no gap)\n", inv.Number)
			last.Invoice = inv.Number
			return nil
		})
	if err != nil {
		return last, fmt.Errorf("invoices: %w", err)
	}

	// counters
	err = open(dir, "counters", counter.Module, w,
		func(db *keel.DB) (bool, error) {
			v, err := counter.NewClient(db, "tour").View(ctx)
			return err == nil && v.Item().Count() == 0, err
		},
		func(db *keel.DB) error {
			r, err := counter.Demo(ctx, counter.NewClient(db, "tour"), w)
			last.Item = r.Counter
			return err
		},
		func(db *keel.DB) error {
			c := counter.NewClient(db, "tour")
			v, err := c.View(ctx)
			if err != nil {
				return err
			}
			ctr, _ := v.Counter().Find(counter.Global)
			fmt.Fprintf(w, "%d items on disk, %s = %d\n", v.Item().Count(), counter.Global, ctr.CounterValue)
			it, err := c.AddItem(ctx, "tour item", "added by a later run")
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "new item: id %d\n", it.ID)
			last.Item = it.ID
			return nil
		})
	if err != nil {
		return last, fmt.Errorf("counters: %w", err)
	}

	// orders
	err = open(dir, "orders", shop.Module, w,
		func(db *keel.DB) (bool, error) {
			v, err := shop.NewClient(db, "tour").View(ctx)
			return err == nil && v.Order().Count() == 0, err
		},
		func(db *keel.DB) error {
			r, err := shop.Demo(ctx, shop.NewClient(db, "tour"), w)
			if err == nil {
				last.Order = r.Placed[len(r.Placed)-1].ID
			}
			return err
		},
		func(db *keel.DB) error {
			c := shop.NewClient(db, "tour")
			v, err := c.View(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%d orders on disk\n", v.Order().Count())
			o, err := c.PlaceOrder(ctx, "s1", "tour", 1)
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "new order: RT_PK (shop=%s, id=%d)\n", o.Shop, o.ID)
			last.Order = o.ID
			return nil
		})
	if err != nil {
		return last, fmt.Errorf("orders: %w", err)
	}

	// sequences: its demo closes and reopens its own database.
	seqDir := filepath.Join(dir, "sequences")
	if _, err := os.Stat(seqDir); os.IsNotExist(err) {
		fmt.Fprintf(w, "\n== sequences (%s)\n", seqDir)
		r, err := seqs.Demo(ctx, seqDir, w)
		if err != nil {
			return last, fmt.Errorf("sequences: %w", err)
		}
		last.Spin = r.After[len(r.After)-1]
	} else {
		err = open(dir, "sequences", seqs.Module, w,
			func(*keel.DB) (bool, error) { return false, nil },
			nil,
			func(db *keel.DB) error {
				c := seqs.NewClient(db, "tour")
				v, err := c.View(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "%d spins on disk\n", v.Spin().Count())
				s, err := c.AddSpin(ctx)
				if err != nil {
					return err
				}
				fmt.Fprintf(w, "new spin: id=%d dial=%d lap=%d\n", s.ID, s.Dial, s.Lap)
				last.Spin = s
				return nil
			})
		if err != nil {
			return last, fmt.Errorf("sequences: %w", err)
		}
	}
	if last.Run == 1 {
		fmt.Fprintf(w, "\nRun the tour again: the data is replayed from %s and new ids continue.\n", dir)
	}
	return last, nil
}
