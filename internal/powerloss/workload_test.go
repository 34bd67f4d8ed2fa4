//go:build linux

package powerloss

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"syscall"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

// writers is how many goroutines of the workload child call at once.
const writers = 8

// workload is the writer child: it opens its directory and runs writers
// goroutines until it is killed. Each writer works on keys of its own
// (round, writer and a counter in each), so that the calls on one key are
// sequential: inserts of a post and its order in one transaction, posts
// alone (AddPost), orders alone (AddOrder), updates and deletes of its
// live posts, and Fail, which inserts and rolls back, leaving a sequence
// boundary move for the next commit.
func workload(c *child) {
	m := newMod()
	db, err := openDB(c.dir, m, options(c.policy))
	if errors.Is(err, syscall.EIO) {
		// An fsync that lazyfs.FailSync failed: the open fails, and the
		// next must work.
		c.say("O %v", err)
		time.Sleep(time.Hour)
	}
	if err != nil {
		c.fail("open: %v", err)
	}
	c.say("R")
	done := make(chan struct{})
	for g := range writers {
		go func() {
			w := &writer{c: c, db: db, m: m, g: g, rng: rand.New(rand.NewPCG(c.seed, uint64(g))), live: map[string]uint64{}}
			w.run()
			done <- struct{}{}
		}()
	}
	for range writers {
		<-done
	}
	c.say("D") // every writer stopped: the log failed
	time.Sleep(time.Hour)
}

// writer is one goroutine of the workload child.
type writer struct {
	c    *child
	db   *keel.DB
	m    *testmod.Module
	g    int
	rng  *rand.Rand
	live map[string]uint64 // its live posts' ids by slug
	keys []string          // the same slugs, to pick from
}

func (w *writer) run() {
	ctx := context.Background()
	for n := 0; ; n++ {
		key := fmt.Sprintf("r%d-g%d-%d", w.c.round, w.g, n)
		title := fmt.Sprintf("t%d", n)
		k := w.rng.IntN(20)
		if len(w.keys) == 0 && k >= 10 && k < 17 {
			k = 0
		}
		var err error
		switch {
		case k < 6:
			w.c.say("B %d insert %s %s", w.g, key, title)
			var p testmod.Post
			var o testmod.Order
			err = w.db.Update(ctx, "w", func(rc *reducer.Ctx) error {
				var err error
				if p, err = table.Use(rc.Tx, w.m.Post).Insert(testmod.Post{Slug: key, Author: "w", Title: title}); err != nil {
					return err
				}
				o, err = table.Use(rc.Tx, w.m.Order).Insert(testmod.Order{Shop: key, Amount: int64(n)})
				return err
			})
			if err == nil {
				w.ack("insert", key, p.ID, o.ID, title)
				w.add(key, p.ID)
			}
		case k < 8:
			w.c.say("B %d post %s %s", w.g, key, title)
			var p testmod.Post
			p, err = keel.Run(ctx, w.db, "w", w.m.AddPost, testmod.AddPostArgs{Slug: key, Author: "w", Title: title})
			if err == nil {
				w.ack("post", key, p.ID, 0, title)
				w.add(key, p.ID)
			}
		case k < 10:
			w.c.say("B %d order %s -", w.g, key)
			var o testmod.Order
			o, err = keel.Run(ctx, w.db, "w", w.m.AddOrder, testmod.Order{Shop: key, Amount: int64(n)})
			if err == nil {
				w.ack("order", key, 0, o.ID, "-")
			}
		case k < 14:
			key = w.keys[w.rng.IntN(len(w.keys))]
			title = fmt.Sprintf("u%d", n)
			w.c.say("B %d update %s %s", w.g, key, title)
			id := w.live[key]
			err = w.db.Update(ctx, "w", func(rc *reducer.Ctx) error {
				_, err := table.Use(rc.Tx, w.m.Post).Update(testmod.Post{ID: id, Slug: key, Author: "w", Title: title})
				return err
			})
			if err == nil {
				w.ack("update", key, 0, 0, title)
			}
		case k < 17:
			i := w.rng.IntN(len(w.keys))
			key = w.keys[i]
			w.c.say("B %d delete %s -", w.g, key)
			err = w.db.Update(ctx, "w", func(rc *reducer.Ctx) error { return deletePost(rc, w.m, w.live[key]) })
			if err == nil {
				w.ack("delete", key, 0, 0, "-")
				delete(w.live, key)
				w.keys[i] = w.keys[len(w.keys)-1]
				w.keys = w.keys[:len(w.keys)-1]
			}
		default:
			w.c.say("B %d fail %s -", w.g, key)
			if _, err = keel.Run(ctx, w.db, "w", w.m.Fail, key); err == nil {
				w.c.fail("Fail %s returned nil", key)
			} else if !errors.Is(err, keel.ErrFailed) {
				err = nil
			}
		}
		if errors.Is(err, keel.ErrFailed) {
			// The log failed (an fsync that lazyfs.FailSync failed): the
			// database takes no more writes.
			w.c.say("X %d %v", w.g, err)
			return
		}
		if err != nil {
			w.c.fail("writer %d: %v", w.g, err)
		}
	}
}

func (w *writer) ack(kind, key string, pid uint64, oid int64, title string) {
	w.c.say("A %d %s %s %d %d %s %d", w.g, kind, key, pid, oid, title, time.Now().UnixNano())
}

func (w *writer) add(key string, id uint64) {
	w.live[key] = id
	w.keys = append(w.keys, key)
}

// deletePost deletes the post id and its orders in the transaction of rc.
func deletePost(rc *reducer.Ctx, m *testmod.Module, id uint64) error {
	p, err := table.Use(rc.Tx, m.Post).Delete(testmod.Post{ID: id})
	if err != nil {
		return err
	}
	var orders []testmod.Order
	for o := range table.Use(rc.Tx, m.Order).Reader().Lookup(testmod.OrderPK, testmod.Order{Shop: p.Slug}, 1) {
		orders = append(orders, o)
	}
	for _, o := range orders {
		if _, err := table.Use(rc.Tx, m.Order).Delete(o); err != nil {
			return err
		}
	}
	return nil
}
