//go:build linux

package powerloss

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
)

var (
	flagRounds = flag.Int("powerloss.rounds", 100, "rounds of TestPowerLoss under SyncAlways")
	flagWeak   = flag.Int("powerloss.weak", 25, "rounds of TestPowerLoss under SyncInterval and under SyncNever each")
	flagSeed   = flag.Uint64("powerloss.seed", 0, "seed of TestPowerLoss; 0 picks one")
)

// The environment of a child: which child it is and what it works on.
const (
	envChild = "KEEL_POWERLOSS_CHILD" // the child's mode, see children
	envDir   = "KEEL_POWERLOSS_DIR"   // its data directory, on the mount
	envSeed  = "KEEL_POWERLOSS_SEED"
	envSync  = "KEEL_POWERLOSS_SYNC" // the keel.SyncPolicy, as a number
	envRound = "KEEL_POWERLOSS_ROUND"
)

// children are the child processes' modes, each a function that runs until
// it is killed.
var children = map[string]func(c *child){
	"workload":  workload,
	"snapshots": snapshotLoop,
	"rotate":    rotateLoop,
	"create":    createOnce,
	"prealloc":  preallocLoop,
	"reopen":    reopenOnce,
	"damage":    damageOnce,
}

// TestMain runs a child's mode instead of the tests when the environment
// asks for one.
func TestMain(m *testing.M) {
	if mode := os.Getenv(envChild); mode != "" {
		run := children[mode]
		if run == nil {
			fmt.Printf("E unknown child mode %q\n", mode)
			os.Exit(2)
		}
		c := newChild()
		run(c)
		c.fail("the child returned")
	}
	os.Exit(m.Run())
}

// child is what a child process has: its environment and a ledger printer.
type child struct {
	dir    string
	seed   uint64
	round  int
	policy keel.SyncPolicy
	mu     sync.Mutex
}

func newChild() *child {
	c := &child{dir: os.Getenv(envDir)}
	c.seed, _ = strconv.ParseUint(os.Getenv(envSeed), 10, 64)
	c.round, _ = strconv.Atoi(os.Getenv(envRound))
	p, _ := strconv.Atoi(os.Getenv(envSync))
	c.policy = keel.SyncPolicy(p)
	return c
}

// say prints one ledger line; one write, under a mutex, so that the lines'
// order is their real-time order.
func (c *child) say(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(os.Stdout, format+"\n", args...)
}

// fail prints an E line and exits.
func (c *child) fail(format string, args ...any) {
	c.say("E "+format, args...)
	os.Exit(3)
}

// newMod is the test module with a small post sequence batch, so that
// boundary moves happen often (the order sequence's batch is 16).
func newMod() *testmod.Module { return testmod.New(table.SeqParams[uint64]{Batch: 4}) }

// options are what the workload child and the checker open with: small
// segments and frequent snapshots, so that cuts land in rotations,
// snapshots and pruning.
func options(p keel.SyncPolicy) keel.Options {
	return keel.Options{Sync: p, SyncInterval: syncInterval, SegmentSize: 16 << 10, SnapshotEvery: 300, KeepSnapshots: 2}
}

// syncInterval is SyncInterval's period in these tests.
const syncInterval = 5 * time.Millisecond

// openDB opens dir for the test module m.
func openDB(dir string, m *testmod.Module, o keel.Options) (*keel.DB, error) {
	return keel.Open(dir, keeltest.Module(m), o)
}
