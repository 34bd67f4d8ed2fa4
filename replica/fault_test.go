package replica_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/keeldb/keel/replica"
)

var (
	faultRounds = flag.Int("replica.rounds", 0, "rounds of faults per cluster size (0: 20)")
	faultSeed   = flag.Uint64("replica.seed", 0, "seed of the fault schedule (0: from the clock)")
)

// proc is a node running as a child process.
type proc struct {
	id   uint64
	addr string
	dir  string
	cmd  *exec.Cmd
	cut  bool
}

// procCluster is n nodes in n child processes on loopback.
type procCluster struct {
	t     testing.TB
	procs []*proc
	peers string
	tick  time.Duration
	snap  int
	hc    *http.Client
	env   []string // more environment for the children
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func newProcCluster(t testing.TB, n int, tick time.Duration, snapEvery int) *procCluster {
	c := makeProcCluster(t, n, tick, snapEvery)
	for _, p := range c.procs {
		c.start(p)
	}
	return c
}

// makeProcCluster lays out n nodes on loopback, starting none of them;
// kill ends those started when the test ends.
func makeProcCluster(t testing.TB, n int, tick time.Duration, snapEvery int, env ...string) *procCluster {
	c := &procCluster{t: t, tick: tick, snap: snapEvery, hc: &http.Client{Timeout: 3 * time.Second}, env: env}
	base := t.TempDir()
	var peers []string
	for i := range n {
		p := &proc{id: uint64(i + 1), addr: freeAddr(t), dir: filepath.Join(base, fmt.Sprint("n", i+1))}
		c.procs = append(c.procs, p)
		peers = append(peers, fmt.Sprintf("%d=%s", p.id, p.addr))
	}
	c.peers = strings.Join(peers, ",")
	t.Cleanup(func() {
		for _, p := range c.procs {
			c.kill(p)
		}
	})
	return c
}

func (c *procCluster) start(p *proc) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strconv.FormatUint(p.id, 10), "KEEL_REPLICA_DIR="+p.dir,
		"KEEL_REPLICA_ADDR="+p.addr, "KEEL_REPLICA_PEERS="+c.peers, "KEEL_REPLICA_TICK="+c.tick.String(),
		"KEEL_REPLICA_SNAPSHOT_EVERY="+strconv.Itoa(c.snap))
	cmd.Env = append(cmd.Env, c.env...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	p.cmd, p.cut = cmd, false
	// Wait until it listens.
	for range 200 {
		if conn, err := net.Dial("tcp", p.addr); err == nil {
			conn.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	c.t.Fatalf("node %d does not listen at %s", p.id, p.addr)
}

// kill SIGKILLs p. A node that had ended by itself before (a panic, an
// exit) fails the test: it would pass for one the test killed.
func (c *procCluster) kill(p *proc) {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Kill()
	err := p.cmd.Wait()
	p.cmd = nil
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		c.t.Errorf("node %d: ended before its kill: %v", p.id, err)
		return
	}
	if ws, ok := ee.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		c.t.Errorf("node %d ended before its kill: %v", p.id, err)
	}
}

// partition cuts node p off the others (on) or joins it again. It
// reports false for a node that is down; a node that is up and refuses
// fails the test.
func (c *procCluster) partition(p *proc, on bool) bool {
	if p.cmd == nil {
		return false
	}
	v := "0"
	if on {
		v = "1"
	}
	resp, err := c.hc.Post("http://"+p.addr+"/admin/partition?on="+v, "", nil)
	if err != nil {
		c.t.Fatalf("node %d: partition on=%s: %v", p.id, v, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.t.Fatalf("node %d: partition on=%s: %s", p.id, v, resp.Status)
	}
	p.cut = on
	return true
}

func (c *procCluster) status(p *proc) (replica.Status, error) {
	var s replica.Status
	if p.cmd == nil {
		return s, errors.New("down")
	}
	resp, err := c.hc.Get("http://" + p.addr + "/status")
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	return s, json.NewDecoder(resp.Body).Decode(&s)
}

// leader returns the node that says it leads, or nil.
func (c *procCluster) leader() *proc {
	for _, p := range c.procs {
		if s, err := c.status(p); err == nil && s.Role == "leader" && !p.cut {
			return p
		}
	}
	return nil
}

func (c *procCluster) addrs() []string {
	var out []string
	for _, p := range c.procs {
		out = append(out, p.addr)
	}
	return out
}

// The history's operations, for porcupine: a register per key.
type kvInput struct {
	write bool
	key   string
	val   int64
}

var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		by := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(kvInput).key
			by[k] = append(by[k], op)
		}
		var out [][]porcupine.Operation
		for _, ops := range by {
			out = append(out, ops)
		}
		return out
	},
	Init: func() any { return int64(0) },
	Step: func(state, input, output any) (bool, any) {
		in := input.(kvInput)
		if in.write {
			return true, in.val
		}
		return output.(int64) == state.(int64), state
	},
	Equal: func(a, b any) bool { return a == b },
	DescribeOperation: func(input, output any) string {
		in := input.(kvInput)
		if in.write {
			return fmt.Sprintf("put(%s, %d)", in.key, in.val)
		}
		return fmt.Sprintf("get(%s) -> %v", in.key, output)
	},
}

// history records the clients' operations.
type history struct {
	mu    sync.Mutex
	start time.Time
	ops   []porcupine.Operation
	acked map[string]uint64 // tag -> the id its acknowledged write got
	ids   map[uint64]string
	dups  []string
	stats struct{ acked, unknown, refused, reads, failedReads int }
}

func (h *history) now() int64 { return int64(time.Since(h.start)) }

// client runs writes and reads on random keys until stop.
func (h *history) client(c *procCluster, w int, seed uint64, stop <-chan struct{}) {
	r := rand.New(rand.NewPCG(seed, uint64(w)))
	cl := replica.NewClient(c.addrs()...)
	hc := &http.Client{Timeout: 3 * time.Second}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		key := fmt.Sprint("k", r.IntN(4))
		if r.IntN(10) < 7 {
			val := int64(w)<<32 | int64(i+1)
			tag := fmt.Sprintf("w%d-%d", w, i)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			call := h.now()
			res, err := cl.CallEncoded(ctx, "client", "Write", encodeWrite(writeArgs{Key: key, Val: val, Tag: tag}))
			ret := h.now()
			cancel()
			op := porcupine.Operation{ClientId: w*1_000_000 + i, Input: kvInput{write: true, key: key, val: val}, Call: call, Return: ret}
			h.mu.Lock()
			switch {
			case err == nil:
				id, derr := decodeID(res)
				if derr != nil {
					panic(derr)
				}
				h.ops = append(h.ops, op)
				h.acked[tag] = id
				if other, dup := h.ids[id]; dup {
					h.dups = append(h.dups, fmt.Sprintf("id %d handed to %s and %s", id, other, tag))
				}
				h.ids[id] = tag
				h.stats.acked++
			case errors.Is(err, replica.ErrOutcomeUnknown):
				op.Return = math.MaxInt64 // it may take effect at any time after its call
				h.ops = append(h.ops, op)
				h.stats.unknown++
			default: // never ran: no leader took it
				h.stats.refused++
			}
			h.mu.Unlock()
			continue
		}
		addr := c.procs[r.IntN(len(c.procs))].addr
		call := h.now()
		resp, err := hc.Get("http://" + addr + "/get?key=" + key)
		var body []byte
		if err == nil {
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err == nil && resp.StatusCode != http.StatusOK {
				err = errors.New(resp.Status)
			}
		}
		ret := h.now()
		h.mu.Lock()
		if err != nil {
			h.stats.failedReads++
		} else {
			v, _ := strconv.ParseInt(strings.TrimSpace(string(body)), 10, 64)
			h.ops = append(h.ops, porcupine.Operation{ClientId: w*1_000_000 + i, Input: kvInput{key: key}, Output: v, Call: call, Return: ret})
			h.stats.reads++
		}
		h.mu.Unlock()
		if err != nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// TestFaults runs clusters of 3 and 5 nodes, each node a child process,
// through rounds of faults: SIGKILL of the leader or of a follower, a
// partitioned node (its transport drops all traffic), restarts. Every
// client operation is recorded; the history must be linearizable
// (porcupine), every acknowledged write must be in the final state with
// the id it was given, and no autoinc id may be handed out twice.
// -replica.rounds sets the rounds per size (1,000 for a long run).
func TestFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("child processes; -short")
	}
	for _, size := range []int{3, 5} {
		rounds := *faultRounds
		if rounds == 0 {
			rounds = 20
		}
		t.Run(fmt.Sprint(size, "nodes"), func(t *testing.T) { faultRun(t, size, rounds) })
	}
}

func faultRun(t *testing.T, size, rounds int) {
	seed := *faultSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (-replica.seed to repeat)", seed)
	r := rand.New(rand.NewPCG(seed, 1))
	c := newProcCluster(t, size, 20*time.Millisecond, 200)
	h := &history{start: time.Now(), acked: map[string]uint64{}, ids: map[uint64]string{}}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() { h.client(c, w, seed, stop) })
	}
	faults := map[string]int{}
	for round := range rounds {
		time.Sleep(time.Duration(200+r.IntN(300)) * time.Millisecond)
		var victims []*proc
		kind := r.IntN(4)
		l := c.leader()
		switch {
		case kind == 0 && l != nil: // SIGKILL the leader
			c.kill(l)
			victims = append(victims, l)
			faults["kill leader"]++
		case kind == 1: // SIGKILL followers (a minority)
			for _, p := range c.procs {
				if p != l && len(victims) < (size-1)/2 && r.IntN(2) == 0 {
					c.kill(p)
					victims = append(victims, p)
				}
			}
			faults["kill followers"]++
		case kind == 2 && l != nil: // partition the leader
			if c.partition(l, true) {
				victims = append(victims, l)
				faults["partition leader"]++
			}
		default: // partition a random node
			if p := c.procs[r.IntN(size)]; c.partition(p, true) {
				victims = append(victims, p)
				faults["partition node"]++
			}
		}
		time.Sleep(time.Duration(300+r.IntN(700)) * time.Millisecond)
		for _, p := range victims {
			if p.cmd == nil {
				c.start(p)
			} else {
				c.partition(p, false)
			}
		}
		_ = round
	}
	time.Sleep(500 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("faults %v; %d writes acknowledged, %d of unknown outcome, %d refused; %d reads (%d failed)",
		faults, h.stats.acked, h.stats.unknown, h.stats.refused, h.stats.reads, h.stats.failedReads)
	if len(h.dups) > 0 {
		t.Fatalf("autoinc ids handed out twice: %v", h.dups)
	}
	if h.stats.acked == 0 {
		t.Fatal("no write was acknowledged")
	}
	// Every node, once caught up, holds every acknowledged write.
	var final map[string]uint64
	for _, p := range c.procs {
		state := waitItems(t, c, p)
		for tag, id := range h.acked {
			if got, ok := state[tag]; !ok || got != id {
				t.Fatalf("node %d: acknowledged write %s (id %d) is %d (present %v) after the faults", p.id, tag, id, got, ok)
			}
		}
		if final == nil {
			final = state
		} else if len(final) != len(state) {
			t.Fatalf("node %d holds %d items, node 1 %d", p.id, len(state), len(final))
		}
	}
	checked := time.Now()
	res, info := porcupine.CheckOperationsVerbose(registerModel, h.ops, 2*time.Minute)
	t.Logf("porcupine: %v for %d operations in %v", res, len(h.ops), time.Since(checked).Round(time.Millisecond))
	if res == porcupine.Illegal {
		f := filepath.Join(t.TempDir(), "history.html")
		if err := porcupine.VisualizePath(registerModel, info, f); err == nil {
			t.Logf("history: %s", f)
		}
		t.Fatal("the history is not linearizable")
	}
	if res == porcupine.Unknown {
		t.Fatal("porcupine timed out: linearizability not decided")
	}
}

// waitItems reads the items node p holds, through a linearizable view.
func waitItems(t *testing.T, c *procCluster, p *proc) map[string]uint64 {
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := c.hc.Get("http://" + p.addr + "/items")
		if err == nil {
			var out struct {
				Items map[string]uint64 `json:"items"`
			}
			err = json.NewDecoder(resp.Body).Decode(&out)
			ok := resp.StatusCode == http.StatusOK
			resp.Body.Close()
			if err == nil && ok {
				return out.Items
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %d: no linearizable read: %v", p.id, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
