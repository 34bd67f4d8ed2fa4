// Command cluster runs the cluster example: three replicas of the
// counters example's module (package counter) in three processes on
// localhost, each a child process of this one, and a client that calls
// through failover (replica.Client). The client increments a counter;
// halfway the leader's process is killed with SIGKILL, the client goes
// on with the new leader, and the killed node restarts and catches up.
// It prints each node's role, term and applied index along the way and
// stops the nodes at the end.
//
//	go run ./examples/cluster           the demo, in a temporary directory
//	go run ./examples/cluster -serve    start the three nodes and keep them running until interrupted
//	go run ./cmd/keel cluster status 127.0.0.1:PORT ...   what each node says, while they run
//
// Each node is this program again with KEEL_CLUSTER_NODE=id in its
// environment (runNode): it opens its data directory, serves the
// replica's HTTP API (replica.Handler) at its address and runs until it
// is killed or interrupted.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/keeldb/keel/examples/counters/counter"
	"github.com/keeldb/keel/replica"
)

// nodeEnv names the environment that makes this program a node.
const nodeEnv = "KEEL_CLUSTER_NODE"

func main() {
	if os.Getenv(nodeEnv) != "" {
		os.Exit(runNode())
	}
	serve := flag.Bool("serve", false, "start the nodes, print their addresses and keep them running until interrupted")
	dir := flag.String("dir", "", "the nodes' data directories go under it, kept; by default a temporary directory, removed at the end")
	flag.Parse()
	exe, err := os.Executable()
	if err != nil {
		fail(err)
	}
	base := *dir
	if base == "" {
		tmp, err := os.MkdirTemp("", "keel-cluster-")
		if err != nil {
			fail(err)
		}
		defer os.RemoveAll(tmp)
		base = tmp
	}
	c, err := startCluster(exe, base, 3)
	if err != nil {
		fail(err)
	}
	defer c.stop()
	if *serve {
		fmt.Println("nodes:", strings.Join(c.addrs(), " "))
		fmt.Println("try: go run ./cmd/keel cluster status", strings.Join(c.addrs(), " "))
		ch := make(chan os.Signal, 1)
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		<-ch
		if err := c.stop(); err != nil {
			fail(err)
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := demo(ctx, c, os.Stdout); err != nil {
		c.stop()
		fail(err)
	}
	if err := c.stop(); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, err)
	os.Exit(1)
}

// node is one child process.
type node struct {
	id   uint64
	addr string
	dir  string
	cmd  *exec.Cmd
}

// cluster is the nodes, started from exe.
type cluster struct {
	exe   string
	nodes []*node
	peers string
}

func startCluster(exe, base string, n int) (*cluster, error) {
	c := &cluster{exe: exe}
	var peers []string
	for i := range n {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		nd := &node{id: uint64(i + 1), addr: addr, dir: filepath.Join(base, fmt.Sprint("node", i+1))}
		c.nodes = append(c.nodes, nd)
		peers = append(peers, fmt.Sprintf("%d=%s", nd.id, nd.addr))
	}
	c.peers = strings.Join(peers, ",")
	for _, nd := range c.nodes {
		if err := c.start(nd); err != nil {
			c.stop()
			return nil, err
		}
	}
	return c, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (c *cluster) addrs() []string {
	var a []string
	for _, nd := range c.nodes {
		a = append(a, nd.addr)
	}
	return a
}

// start starts nd's process and waits until it listens.
func (c *cluster) start(nd *node) error {
	cmd := exec.Command(c.exe)
	cmd.Env = append(os.Environ(), nodeEnv+"="+strconv.FormatUint(nd.id, 10),
		"KEEL_CLUSTER_DIR="+nd.dir, "KEEL_CLUSTER_ADDR="+nd.addr, "KEEL_CLUSTER_PEERS="+c.peers)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	nd.cmd = cmd
	for range 500 {
		if conn, err := net.Dial("tcp", nd.addr); err == nil {
			conn.Close()
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("node %d does not listen at %s", nd.id, nd.addr)
}

// kill SIGKILLs nd's process.
func (c *cluster) kill(nd *node) {
	if nd.cmd == nil {
		return
	}
	nd.cmd.Process.Kill()
	nd.cmd.Wait()
	nd.cmd = nil
}

// stop interrupts every node (each closes its database) and waits for it
// to exit, killing one that has not within 5 s. It returns what went
// wrong: a node that exited with an error (its database's close failed,
// say) or had to be killed. Once stopped, stopping again does nothing.
func (c *cluster) stop() error {
	for _, nd := range c.nodes {
		if nd.cmd != nil {
			nd.cmd.Process.Signal(os.Interrupt)
		}
	}
	var errs []error
	for _, nd := range c.nodes {
		if nd.cmd == nil {
			continue
		}
		done := make(chan error, 1)
		go func() { done <- nd.cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				errs = append(errs, fmt.Errorf("node %d: %w", nd.id, err))
			}
		case <-time.After(5 * time.Second):
			nd.cmd.Process.Kill()
			<-done
			errs = append(errs, fmt.Errorf("node %d did not stop within 5 s of its interrupt, killed", nd.id))
		}
		nd.cmd = nil
	}
	return errors.Join(errs...)
}

// status asks every running node for its status.
func (c *cluster) status(ctx context.Context, cl *replica.Client) map[uint64]replica.Status {
	out := map[uint64]replica.Status{}
	for _, nd := range c.nodes {
		if nd.cmd == nil {
			continue
		}
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		s, err := cl.Status(sctx, nd.addr)
		cancel()
		if err == nil {
			out[nd.id] = s
		}
	}
	return out
}

func printStatus(w io.Writer, c *cluster, st map[uint64]replica.Status) {
	for _, nd := range c.nodes {
		s, ok := st[nd.id]
		if !ok {
			fmt.Fprintf(w, "  node %d  %-15s  down\n", nd.id, nd.addr)
			continue
		}
		fmt.Fprintf(w, "  node %d  %-15s  %-9s term %d, applied %d\n", nd.id, nd.addr, s.Role, s.Term, s.Applied)
	}
}

// result is what the demo saw, for its test.
type result struct {
	// Values are the counter's values the increments returned, in order
	// (an increment whose outcome the cluster could not tell is read
	// back, and its value is there if it committed).
	Values []int64
	// Killed is the leader killed; NewLeader the one after it.
	Killed, NewLeader uint64
	// Failover is the time from the kill to the first increment the new
	// leader committed.
	Failover time.Duration
	// Final is each node's status at the end, when all three applied
	// the leader's commit index.
	Final map[uint64]replica.Status
}

// waitLeader waits until one node says it leads and the others follow
// it.
func (c *cluster) waitLeader(ctx context.Context, cl *replica.Client) (uint64, map[uint64]replica.Status, error) {
	for {
		st := c.status(ctx, cl)
		var lead uint64
		for id, s := range st {
			if s.Role == "leader" {
				lead = id
			}
		}
		agree := lead != 0
		for _, s := range st {
			agree = agree && s.Leader == lead
		}
		if agree {
			return lead, st, nil
		}
		select {
		case <-ctx.Done():
			return 0, st, fmt.Errorf("no leader: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// increment adds 1 to the counter through the cluster. When the outcome
// is unknown (the leader died with the call in flight) it reads the
// counter back (an increment by 0) and tells from it whether the call
// committed; it retries a call that did not.
func increment(ctx context.Context, cl counter.Client, last int64, w io.Writer) (int64, error) {
	for {
		v, err := cl.Increment(ctx, counter.Global, 1)
		if err == nil {
			return v, nil
		}
		if !errors.Is(err, replica.ErrOutcomeUnknown) {
			return 0, err
		}
		cur, rerr := cl.Increment(ctx, counter.Global, 0)
		for errors.Is(rerr, replica.ErrOutcomeUnknown) {
			cur, rerr = cl.Increment(ctx, counter.Global, 0)
		}
		if rerr != nil {
			return 0, rerr
		}
		if cur > last {
			fmt.Fprintf(w, "  an increment's outcome was unknown; the counter reads %d: it committed\n", cur)
			return cur, nil
		}
		fmt.Fprintf(w, "  an increment's outcome was unknown; the counter reads %d: it did not commit, again\n", cur)
	}
}

// demo increments the counter 10 times, kills the leader, increments it
// 10 more times through the new leader, restarts the killed node and
// waits for it to catch up.
func demo(ctx context.Context, c *cluster, w io.Writer) (result, error) {
	var res result
	rc := replica.NewClient(c.addrs()...)
	cl := counter.NewClient(rc, "demo")
	lead, st, err := c.waitLeader(ctx, rc)
	if err != nil {
		return res, err
	}
	fmt.Fprintln(w, "three nodes, one process each:")
	printStatus(w, c, st)
	last := int64(0)
	for range 10 {
		if last, err = increment(ctx, cl, last, w); err != nil {
			return res, err
		}
		res.Values = append(res.Values, last)
	}
	fmt.Fprintf(w, "10 increments through node %d, the leader: the counter is %d\n", lead, last)

	killed := c.nodes[lead-1]
	fmt.Fprintf(w, "SIGKILL node %d, the leader\n", lead)
	t0 := time.Now()
	c.kill(killed)
	res.Killed = lead
	if last, err = increment(ctx, cl, last, w); err != nil {
		return res, err
	}
	res.Failover = time.Since(t0)
	res.Values = append(res.Values, last)
	lead, st, err = c.waitLeader(ctx, rc)
	if err != nil {
		return res, err
	}
	res.NewLeader = lead
	fmt.Fprintf(w, "node %d leads; the first increment after the kill committed %v after it: the counter is %d\n",
		lead, res.Failover.Round(time.Millisecond), last)
	printStatus(w, c, st)
	for range 9 {
		if last, err = increment(ctx, cl, last, w); err != nil {
			return res, err
		}
		res.Values = append(res.Values, last)
	}
	fmt.Fprintf(w, "10 increments through node %d: the counter is %d\n", lead, last)

	fmt.Fprintf(w, "restart node %d\n", killed.id)
	if err := c.start(killed); err != nil {
		return res, err
	}
	for {
		st = c.status(ctx, rc)
		caught := len(st) == len(c.nodes)
		for _, s := range st {
			caught = caught && s.Applied == st[lead].Commit && s.Leader == lead
		}
		if caught {
			break
		}
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("node %d does not catch up: %w", killed.id, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	res.Final = st
	fmt.Fprintf(w, "node %d caught up: every node applied entry %d\n", killed.id, st[lead].Commit)
	printStatus(w, c, st)
	return res, nil
}

// runNode runs one node until it is killed or interrupted:
// KEEL_CLUSTER_NODE (its id), KEEL_CLUSTER_DIR, KEEL_CLUSTER_ADDR and
// KEEL_CLUSTER_PEERS (id=host:port,...).
func runNode() int {
	id, err := strconv.ParseUint(os.Getenv(nodeEnv), 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "node:", nodeEnv, err)
		return 2
	}
	var peers []replica.Peer
	for _, p := range strings.Split(os.Getenv("KEEL_CLUSTER_PEERS"), ",") {
		k, v, _ := strings.Cut(p, "=")
		pid, err := strconv.ParseUint(k, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "node: KEEL_CLUSTER_PEERS:", err)
			return 2
		}
		peers = append(peers, replica.Peer{ID: pid, Addr: v})
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	n, err := replica.Open(replica.Config{ID: id, Dir: os.Getenv("KEEL_CLUSTER_DIR"), Module: counter.Module,
		Peers: peers, Transport: replica.NewHTTPTransport(), Logger: logger})
	if err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		return 1
	}
	ln, err := net.Listen("tcp", os.Getenv("KEEL_CLUSTER_ADDR"))
	if err != nil {
		n.Close()
		fmt.Fprintln(os.Stderr, "node:", err)
		return 1
	}
	srv := &http.Server{Handler: replica.Handler(n)}
	go srv.Serve(ln)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	<-ch
	srv.Close()
	if err := n.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "node:", err)
		return 1
	}
	return 0
}
