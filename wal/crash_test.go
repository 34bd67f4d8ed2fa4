package wal_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/table"
)

var (
	crashRounds = flag.Int("crash.rounds", 40, "rounds of TestCrash")
	crashSeed   = flag.Uint64("crash.seed", 0, "seed of TestCrash; 0 picks one")
)

// crashOptions are the options the crash child and the checker open with
// in a round: small segments and frequent snapshots, so that kills land
// during rotations, snapshots and pruning too; every fourth round has
// segments larger than a chunk of preallocation (1 MiB), so that kills
// also land while the preallocator goroutine writes zeros ahead of the
// groups.
func crashOptions(round int) keel.Options {
	seg := 16 << 10
	if round%4 == 3 {
		seg = 3 << 20
	}
	return keel.Options{SegmentSize: seg, SnapshotEvery: 400, KeepSnapshots: 2}
}

const crashWriters = 8

// crashDirRounds is how many rounds of TestCrash run on one directory,
// each checking the ids of every call acknowledged in it before; then a
// new directory starts, so that the opens, which replay a database that
// grows by thousands of posts a round, stay short.
const crashDirRounds = 10

// crashPipelines is how many writers keep calls in flight without waiting
// for each (keel.Go), and crashWindow how many each keeps.
const (
	crashPipelines = 4
	crashWindow    = 1000
)

// TestCrashChild is the writer that TestCrash runs in a child process and
// kills. Each writer goroutine inserts, updates and deletes its own posts
// (each post with an order row in the same transaction) and runs a reducer
// that fails after inserting; it prints "B ..." before each call and
// "A ..." after the call returned without error. The pipelined writers
// keep crashWindow inserts each in flight (keel.Go), printing "B" when
// they submit one and "A" when its future returns, so that thousands of
// calls are in flight when the process dies.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("KEEL_CRASH_DIR")
	if dir == "" {
		t.Skip("run by TestCrash")
	}
	round := os.Getenv("KEEL_CRASH_ROUND")
	seed, _ := strconv.ParseUint(os.Getenv("KEEL_CRASH_SEED"), 10, 64)
	m := newMod()
	r, _ := strconv.Atoi(round)
	o := crashOptions(r)
	// Every policy acknowledges only what the OS has: a killed process
	// loses nothing acknowledged under any of them.
	p, _ := strconv.Atoi(os.Getenv("KEEL_CRASH_SYNC"))
	o.Sync = keel.SyncPolicy(p)
	o.SyncInterval = 5 * time.Millisecond
	db, err := open(dir, m, o)
	if err != nil {
		fmt.Printf("E open: %v\n", err)
		os.Exit(3)
	}
	ctx := context.Background()
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		fmt.Fprintf(os.Stdout, format+"\n", args...)
		mu.Unlock()
	}
	say("R")
	var wg sync.WaitGroup
	for g := range crashPipelines {
		wg.Go(func() {
			type flight struct {
				f           keel.Future[testmod.PostOrder]
				slug, title string
			}
			var window []flight
			for n := 0; ; n++ {
				for len(window) < crashWindow {
					slug := fmt.Sprintf("r%s-p%d-%d", round, g, n)
					title := fmt.Sprintf("t%d", n)
					n++
					say("B p%d insert %s %s", g, slug, title)
					f := keel.Go(ctx, db, reducer.Identity(slug), m.AddPostOrder, testmod.AddPostArgs{Slug: slug, Author: "w", Title: title})
					window = append(window, flight{f, slug, title})
				}
				po, err := window[0].f.Wait(ctx)
				if err != nil {
					say("E %v", err)
					return
				}
				say("A p%d insert %s %d %d %s", g, window[0].slug, po.Post.ID, po.Order.ID, window[0].title)
				window = window[1:]
			}
		})
	}
	for g := range crashWriters {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(seed, uint64(g)))
			type live struct {
				id    uint64
				title string
			}
			mine := map[string]live{}
			var slugs []string
			for n := 0; ; n++ {
				switch k := rng.IntN(20); {
				case k < 11 || len(slugs) == 0:
					slug := fmt.Sprintf("r%s-g%d-%d", round, g, n)
					title := fmt.Sprintf("t%d", n)
					say("B %d insert %s %s", g, slug, title)
					var p testmod.Post
					var o testmod.Order
					err := db.Update(ctx, reducer.Identity(slug), func(c *reducer.Ctx) error {
						var err error
						if p, err = table.Use(c.Tx, m.Post).Insert(testmod.Post{Slug: slug, Author: "w", Title: title}); err != nil {
							return err
						}
						o, err = table.Use(c.Tx, m.Order).Insert(testmod.Order{Shop: slug, Amount: int64(n)})
						return err
					})
					if err != nil {
						say("E %v", err)
						return
					}
					say("A %d insert %s %d %d %s", g, slug, p.ID, o.ID, title)
					mine[slug] = live{p.ID, title}
					slugs = append(slugs, slug)
				case k < 14:
					slug := slugs[rng.IntN(len(slugs))]
					title := fmt.Sprintf("u%d", n)
					say("B %d update %s %s", g, slug, title)
					err := db.Update(ctx, "u", func(c *reducer.Ctx) error {
						_, err := table.Use(c.Tx, m.Post).Update(testmod.Post{ID: mine[slug].id, Slug: slug, Author: "w", Title: title})
						return err
					})
					if err != nil {
						say("E %v", err)
						return
					}
					say("A %d update %s %s", g, slug, title)
					mine[slug] = live{mine[slug].id, title}
				case k < 17:
					i := rng.IntN(len(slugs))
					slug := slugs[i]
					say("B %d delete %s", g, slug)
					err := db.Update(ctx, "d", func(c *reducer.Ctx) error {
						p, err := table.Use(c.Tx, m.Post).Delete(testmod.Post{ID: mine[slug].id})
						if err != nil {
							return err
						}
						for o := range table.Use(c.Tx, m.Order).Reader().Lookup(testmod.OrderPK, testmod.Order{Shop: p.Slug}, 1) {
							if _, err := table.Use(c.Tx, m.Order).Delete(o); err != nil {
								return err
							}
						}
						return nil
					})
					if err != nil {
						say("E %v", err)
						return
					}
					say("A %d delete %s", g, slug)
					delete(mine, slug)
					slugs[i] = slugs[len(slugs)-1]
					slugs = slugs[:len(slugs)-1]
				default:
					// Rolls back after taking a sequence value.
					keel.Run(ctx, db, "f", m.Fail, fmt.Sprintf("r%s-g%d-f%d", round, g, n))
				}
			}
		})
	}
	wg.Wait()
	os.Exit(4)
}

// crashModel is what the acknowledged calls say the database holds.
type crashModel struct {
	posts    map[string]crashPost // live posts by slug, "hello" included
	postIDs  map[uint64]string    // every post id ever acknowledged
	orderIDs map[int64]string     // every order id ever acknowledged
}

type crashPost struct {
	id    uint64
	order int64
	title string
}

// inflight is a call that began but was not acknowledged before the kill:
// it may or may not have committed.
type inflight struct {
	op, slug, title string
}

func TestCrash(t *testing.T) {
	seed := *crashSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (-crash.seed to repeat), %d rounds", seed, *crashRounds)
	rng := rand.New(rand.NewPCG(seed, 0))
	var dir string
	var model *crashModel
	total, inFlight, live := 0, 0, 0
	var opening time.Duration // how long the last child took to open
	for round := range *crashRounds {
		if round%crashDirRounds == 0 {
			dir, opening = t.TempDir(), 0
			model = &crashModel{posts: map[string]crashPost{}, postIDs: map[uint64]string{}, orderIDs: map[int64]string{}}
		}
		k := crashKill{delay: time.Duration(rng.IntN(150)) * time.Millisecond,
			jitter: time.Duration(rng.IntN(5000)) * time.Microsecond}
		if round%8 == 7 && opening > 0 {
			k = crashKill{inOpen: true, delay: time.Duration(rng.Int64N(int64(opening)))}
		}
		acked, flying, took := runCrashChild(t, dir, round, rng.Uint64(), k)
		if took > 0 {
			opening = took
		}
		if !k.inOpen {
			live++
		}
		inFlight += len(flying)
		for _, line := range acked {
			if err := model.ack(line); err != nil {
				t.Fatalf("seed %d round %d: %v", seed, round, err)
			}
		}
		total += len(acked)
		if err := model.verify(t, dir, flying, round); err != nil {
			t.Fatalf("seed %d round %d: %v", seed, round, err)
		}
	}
	t.Logf("%d acknowledged calls, %d live posts, %d calls in flight at the kills (%d a round on average); "+
		"%d of the %d kills while calls ran, the others during the open",
		total, len(model.posts), inFlight, inFlight / *crashRounds, live, *crashRounds)
	if total == 0 {
		t.Fatal("no child acknowledged a call before its kill: the rounds checked nothing")
	}
}

// crashKill is when a round kills its child: delay after the child's
// first acknowledged call, then, once another call returned (the child
// still makes progress), after jitter; or, with inOpen, delay after its
// start, during the open.
type crashKill struct {
	inOpen        bool
	delay, jitter time.Duration
}

// crashHang is how long runCrashChild waits for the child's next sign of
// progress before it takes the child to hang: a guard, not a bound the
// child is held to.
const crashHang = 2 * time.Minute

// runCrashChild runs the writer and kills it with SIGKILL when k says. It
// returns the acknowledged calls in order, the calls still in flight and
// how long the child took to open (0 when it was killed before). A child
// that ends on its own, or that stops acknowledging calls (a deadlock),
// fails the test: only a kill while it runs checks what TestCrash
// promises.
func runCrashChild(t *testing.T, dir string, round int, seed uint64, k crashKill) ([]string, []inflight, time.Duration) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$")
	cmd.Env = append(os.Environ(), "KEEL_CRASH_DIR="+dir, fmt.Sprintf("KEEL_CRASH_ROUND=%d", round),
		fmt.Sprintf("KEEL_CRASH_SEED=%d", seed), fmt.Sprintf("KEEL_CRASH_SYNC=%d", round%3))
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		lines  []string
		opened time.Duration
	)
	ready := make(chan struct{})   // closed at "R": the open returned
	acks := make(chan struct{}, 1) // a call returned since the last receive
	eof := make(chan struct{})     // the child's output ended
	go func() {
		defer close(eof)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			lines = append(lines, line)
			if line == "R" {
				opened = time.Since(start)
				close(ready)
			}
			mu.Unlock()
			if strings.HasPrefix(line, "A ") {
				select {
				case acks <- struct{}{}:
				default:
				}
			}
		}
	}()
	output := func() string { // its last lines
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(lines[max(0, len(lines)-40):], "\n")
	}
	// await waits for ch; a child that ends or hangs first fails the test.
	await := func(ch <-chan struct{}, what string) {
		select {
		case <-ch:
			return
		case <-eof:
			err := killed(cmd.Wait())
			if err == nil {
				err = errors.New("killed by someone else")
			}
			t.Fatalf("round %d: the child ended before %s: %v; the end of its output:\n%s", round, what, err, output())
		case <-time.After(crashHang):
			cmd.Process.Signal(syscall.SIGKILL)
			<-eof
			cmd.Wait()
			t.Fatalf("round %d: waited %v for %s: the child hangs; the end of its output:\n%s", round, crashHang, what, output())
		}
	}
	if k.inOpen {
		time.Sleep(k.delay)
	} else {
		await(ready, "the end of its open")
		await(acks, "its first acknowledged call")
		time.Sleep(k.delay)
		select { // a call that returned during the delay does not count
		case <-acks:
		default:
		}
		await(acks, "an acknowledged call after the delay")
		time.Sleep(k.jitter)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	<-eof
	if err := killed(cmd.Wait()); err != nil {
		t.Fatalf("round %d: %v; the end of its output:\n%s", round, err, output())
	}
	var acked []string
	began := map[string]inflight{} // by writer and slug
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "E":
			t.Fatalf("round %d: child: %s", round, line)
		case "B":
			in := inflight{op: f[2], slug: f[3]}
			if len(f) > 4 {
				in.title = f[4]
			}
			began[f[1]+" "+f[3]] = in
		case "A":
			delete(began, f[1]+" "+f[3])
			acked = append(acked, line)
		}
	}
	var flying []inflight
	for _, in := range began {
		flying = append(flying, in)
	}
	return acked, flying, opened
}

func (m *crashModel) ack(line string) error {
	f := strings.Fields(line)
	switch f[2] {
	case "insert":
		id, _ := strconv.ParseUint(f[4], 10, 64)
		oid, _ := strconv.ParseInt(f[5], 10, 64)
		if prev, ok := m.postIDs[id]; ok {
			return fmt.Errorf("post id %d handed out again (to %s, first to %s)", id, f[3], prev)
		}
		if prev, ok := m.orderIDs[oid]; ok {
			return fmt.Errorf("order id %d handed out again (to %s, first to %s)", oid, f[3], prev)
		}
		m.postIDs[id], m.orderIDs[oid] = f[3], f[3]
		m.posts[f[3]] = crashPost{id: id, order: oid, title: f[6]}
	case "update":
		p := m.posts[f[3]]
		p.title = f[4]
		m.posts[f[3]] = p
	case "delete":
		delete(m.posts, f[3])
	}
	return nil
}

// verify opens dir and compares it with the model, accepting each call in
// flight as committed or not; the ones that committed join the model. It
// then inserts a post itself and checks that its ids are new.
func (m *crashModel) verify(t *testing.T, dir string, flying []inflight, round int) error {
	mod := newMod()
	db, err := open(dir, mod, crashOptions(round))
	if err != nil {
		return fmt.Errorf("reopen: %w", err)
	}
	defer db.Close()
	if err := db.Check(); err != nil {
		return err
	}
	ctx := context.Background()
	v, err := db.View(ctx)
	if err != nil {
		return err
	}
	got := map[string]crashPost{}
	for p := range table.Read(v, mod.Post).All() {
		got[p.Slug] = crashPost{id: p.ID, title: p.Title}
	}
	orders := map[string]int64{}
	for o := range table.Read(v, mod.Order).All() {
		if _, dup := orders[o.Shop]; dup {
			return fmt.Errorf("two orders for %s", o.Shop)
		}
		orders[o.Shop] = o.ID
	}
	hello, ok := got["hello"]
	if !ok {
		return fmt.Errorf("the init reducer's post is gone")
	}
	if _, ok := m.posts["hello"]; !ok {
		m.posts["hello"] = hello
		m.postIDs[hello.id] = "hello"
	}
	for _, in := range flying {
		g, ok := got[in.slug]
		switch in.op {
		case "insert":
			if !ok {
				continue
			}
			if prev, ok := m.postIDs[g.id]; ok {
				return fmt.Errorf("unacknowledged insert %s holds id %d of %s", in.slug, g.id, prev)
			}
			oid, ok := orders[in.slug]
			if !ok {
				return fmt.Errorf("post %s committed without its order", in.slug)
			}
			if prev, ok := m.orderIDs[oid]; ok {
				return fmt.Errorf("unacknowledged insert %s holds order id %d of %s", in.slug, oid, prev)
			}
			m.postIDs[g.id], m.orderIDs[oid] = in.slug, in.slug
			m.posts[in.slug] = crashPost{id: g.id, order: oid, title: in.title}
		case "update":
			if ok && g.title == in.title {
				p := m.posts[in.slug]
				p.title = in.title
				m.posts[in.slug] = p
			}
		case "delete":
			if !ok {
				delete(m.posts, in.slug)
			}
		}
	}
	for slug, want := range m.posts {
		g, ok := got[slug]
		if !ok {
			return fmt.Errorf("acknowledged post %s (id %d) is missing", slug, want.id)
		}
		if g.id != want.id || g.title != want.title {
			return fmt.Errorf("post %s is id %d %q, want id %d %q", slug, g.id, g.title, want.id, want.title)
		}
		if slug != "hello" && orders[slug] != want.order {
			return fmt.Errorf("post %s has order %d, want %d", slug, orders[slug], want.order)
		}
	}
	if len(got) != len(m.posts) {
		for slug := range got {
			if _, ok := m.posts[slug]; !ok {
				return fmt.Errorf("post %s is in the database, but no call made it", slug)
			}
		}
	}
	if len(orders) != len(m.posts)-1 {
		return fmt.Errorf("%d orders for %d posts", len(orders), len(m.posts)-1)
	}
	// Values handed out after the restart must be new.
	slug := fmt.Sprintf("check-%d", round)
	d := &testDB{DB: db, m: mod, t: t}
	p := d.addPost(slug)
	if prev, ok := m.postIDs[p.ID]; ok {
		return fmt.Errorf("after reopen, post id %d handed out again (first to %s)", p.ID, prev)
	}
	m.postIDs[p.ID] = slug
	m.posts[slug] = crashPost{id: p.ID, title: "t-" + slug}
	o, err := keel.Run(ctx, db, "c", mod.AddOrder, testmod.Order{Shop: slug})
	if err != nil {
		return err
	}
	if prev, ok := m.orderIDs[o.ID]; ok {
		return fmt.Errorf("after reopen, order id %d handed out again (first to %s)", o.ID, prev)
	}
	m.orderIDs[o.ID] = slug
	p2 := m.posts[slug]
	p2.order = o.ID
	m.posts[slug] = p2
	return db.Close()
}
