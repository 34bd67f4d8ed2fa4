//go:build linux

package powerloss

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/lazyfs"
	"github.com/keeldb/keel/internal/testmod"
)

// roundsPerDir is how many rounds run on one data directory before the
// next starts afresh; the first round of each cuts during the first open
// now and then.
const roundsPerDir = 10

// TestPowerLoss runs the workload child under each sync policy, kills it
// at a seeded random moment, cuts the power, reopens and checks the
// database against the ledger (see check). It prints the figures.
func TestPowerLoss(t *testing.T) {
	seed := *flagSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (-powerloss.seed to repeat)", seed)
	for _, c := range []struct {
		name   string
		policy keel.SyncPolicy
		rounds int
		fail   bool
	}{
		{"always", keel.SyncAlways, *flagRounds, false},
		{"interval", keel.SyncInterval, *flagWeak, false},
		{"never", keel.SyncNever, *flagWeak, false},
		// One fsync fails (lazyfs.FailSync) before the kill: the log's
		// stops the database; a snapshot's or a directory's fails that
		// operation.
		{"always-failsync", keel.SyncAlways, *flagWeak, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			t0 := time.Now()
			f := runRounds(t, c.policy, c.rounds, seed^hashName(c.name), c.fail)
			t.Logf("powerloss %s: %s, in %v", c.name, f.line(c.policy), time.Since(t0).Round(time.Millisecond))
			// About two rounds in five fail the log or the open here: none
			// in 20 or more means the injected failure never reached a
			// child, and the rounds checked only what the others do.
			if c.fail && f.rounds >= 20 && f.logFailed+f.openFailed == 0 {
				t.Fatalf("no injected fsync failure failed the log or an open in %d rounds", f.rounds)
			}
		})
	}
}

func hashName(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// line is the figures in one line.
func (f figures) line(p keel.SyncPolicy) string {
	s := fmt.Sprintf("%d rounds, %d calls, %d acknowledged calls checked, %d acknowledged lost", f.rounds, f.calls, f.acked, f.lost)
	if p != keel.SyncAlways {
		s += fmt.Sprintf(" (in %d rounds; acknowledged before the kill by at most %v, median %v, 9 in 10 rounds within %v)",
			f.lostRound, f.window.Round(time.Millisecond), quantile(f.windows, 0.5), quantile(f.windows, 0.9))
	}
	if f.logFailed+f.openFailed > 0 {
		s += fmt.Sprintf(", %d rounds with the log failed and %d with keel.Open failed by an fsync error", f.logFailed, f.openFailed)
	}
	return s + fmt.Sprintf(", 0 reused ids; in flight at the kill: %d survived, %d lost; %d all-or-nothing keys; %d torn writes, %d torn log tails; %d checks read-only, the repair left to the next child",
		f.flyApplied, f.flyLost, f.ambiguous, f.torn, f.repaired, f.readOnly)
}

// quantile returns the q-quantile of ds, rounded to 0.1ms.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(ds))
	return s[int(q*float64(len(s)-1))].Round(100 * time.Microsecond)
}

// runRounds runs rounds seeded by seed, roundsPerDir on each directory, and
// returns the figures; it fails t at the first round that does not check,
// naming the seed and the round.
func runRounds(t *testing.T, p keel.SyncPolicy, rounds int, seed uint64, failSync bool) figures {
	rng := rand.New(rand.NewPCG(seed, 0))
	var total figures
	var r *rig
	var m *model
	for round := range rounds {
		if round%roundsPerDir == 0 {
			if r != nil {
				r.fs.Unmount()
			}
			r, m = newRig(t), newModel()
		}
		f, err := runRound(r, m, p, round, rng, failSync)
		if err != nil {
			t.Fatalf("seed %d round %d (%s): %v", seed, round, p, err)
		}
		total.add(f)
	}
	return total
}

// runRound runs the workload child once on r, kills it, cuts the power
// and checks the reopened database against m. With failSync, halfway to
// the kill it makes the next fsync of a file or directory fail, chosen
// from the seed.
func runRound(r *rig, m *model, p keel.SyncPolicy, round int, rng *rand.Rand, failSync bool) (figures, error) {
	seed := rng.Uint64()
	// Kill it during its open, now and then, when that open creates the
	// database or repairs what the last cut left.
	early := (len(m.keys) == 0 || m.unrepaired) && rng.IntN(2) == 0
	wait := time.Duration(rng.IntN(200)) * time.Millisecond
	if early {
		wait = time.Duration(rng.IntN(60)) * time.Millisecond
	}
	tear := []int{lazyfs.NoTear, lazyfs.TearSector, lazyfs.TearPage}[rng.IntN(3)]
	c := r.start("workload", fmt.Sprintf("%s=%d", envSeed, seed), fmt.Sprintf("%s=%d", envSync, int(p)),
		fmt.Sprintf("%s=%d", envRound, round))
	if !early && !c.waitReady(20*time.Second) {
		_, _, err := c.kill()
		return figures{}, fmt.Errorf("the child did not open: %v", err)
	}
	if failSync {
		// "" is whatever fsyncs next, most often the log's tail segment.
		target := []string{"", "", "data", "data/log", ".tmp"}[rng.IntN(5)]
		time.Sleep(wait / 2)
		r.fs.FailSync(target, 1)
		wait -= wait / 2
	}
	time.Sleep(wait)
	killNs, l, err := c.kill()
	if err != nil {
		return figures{}, err
	}
	// A third of the checks open the directory read-only, leaving the
	// repair of what the cut left (a torn tail, preallocated zeros) to
	// the next child, whose open the next kill may then cut.
	o := options(p)
	o.ReadOnly = rng.IntN(3) == 0 && len(m.keys) > 0 // a directory the last check saw
	torn := r.powerCut(tear, seed)
	f, err := verify(r.dir(), o, m, l, killNs, round)
	if err != nil {
		if torn != nil {
			err = fmt.Errorf("%w (the cut tore %s at %d+%d of %d bytes)", err, torn.Path, torn.Off, torn.Kept, torn.Len)
		}
		return f, err
	}
	if torn != nil {
		f.torn++
	}
	return f, nil
}

// verify reopens dir with o after a cut and checks it against the ledger l and
// the model m; unless o.ReadOnly, it then inserts a post and an order,
// whose ids must be new. It closes the database.
func verify(dir string, o keel.Options, m *model, l *ledger, killNs int64, round int) (figures, error) {
	p := o.Sync
	mod := newMod()
	db, err := openDB(dir, mod, o)
	if err != nil {
		return figures{}, fmt.Errorf("reopen after the cut: %w", err)
	}
	defer db.Close()
	rec := db.Recovery()
	if p == keel.SyncAlways && l.opened && !rec.Existing {
		return figures{}, fmt.Errorf("keel.Open had returned in the child, but the reopen found no database")
	}
	if err := db.Check(); err != nil {
		return figures{}, err
	}
	ctx := context.Background()
	v, err := db.View(ctx)
	if err != nil {
		return figures{}, err
	}
	f, err := m.check(l, observe(v, mod), p == keel.SyncAlways, killNs)
	if err != nil {
		return f, fmt.Errorf("%w (recovery: %+v)", err, rec)
	}
	if rec.Repair != "" && rec.DroppedEntries != 0 { // not only preallocated zeros
		f.repaired++
	}
	m.unrepaired = o.ReadOnly
	if o.ReadOnly {
		f.readOnly++
		return f, db.Close()
	}
	// Values handed out after the reopen must be above every value a
	// surviving commit used.
	key := fmt.Sprintf("check-%d", round)
	post, err := keel.Run(ctx, db, "check", mod.AddPost, testmod.AddPostArgs{Slug: key, Author: "c", Title: "c"})
	if err != nil {
		return f, err
	}
	order, err := keel.Run(ctx, db, "check", mod.AddOrder, testmod.Order{Shop: key})
	if err != nil {
		return f, err
	}
	if post.ID <= m.maxPost || order.ID <= m.maxOrder {
		return f, fmt.Errorf("after the reopen, post id %d and order id %d were handed out, but surviving commits used up to %d and %d",
			post.ID, order.ID, m.maxPost, m.maxOrder)
	}
	if err := m.used(key, post.ID, order.ID); err != nil {
		return f, err
	}
	m.keys[key] = keyState{post: true, pid: post.ID, title: "c", orders: []int64{order.ID}}
	return f, db.Close()
}
