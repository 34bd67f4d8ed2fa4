package replica_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/replica"
	"github.com/keeldb/keel/table"
)

// The keynote workload (keynote_test.go in the repository's root):
// transfers between 100,000 accounts, 64 submitters with 40 calls in
// flight each; and one-row inserts with an autoinc key, the same way.

type account struct {
	ID      uint64
	Balance int64
}

type transferArgs struct {
	From, To uint64
	Amount   int64
}

type note struct {
	ID   uint64
	Body string
}

var errBalance = errors.New("insufficient balance")

const benchAccounts = 100_000

var (
	accountDef = &table.Def[account]{Name: "account",
		Primary: &table.Index[account]{Name: "account_pk", Columns: []string{"id"}, Unique: true,
			Compare:  func(a, b *account, _ int) int { return cmp.Compare(a.ID, b.ID) },
			Format:   func(r *account, _ int) string { return fmt.Sprint("id=", r.ID) },
			Key:      func(r *account) uint64 { return table.KeyUint(r.ID) },
			KeyExact: true,
			Hash:     func(r *account) uint64 { return table.HashUint(r.ID) }},
		Columns: []table.Column{{Name: "id", Type: "uint64", Kind: "uint64"}, {Name: "balance", Type: "int64", Kind: "int64"}},
		Encode: func(dst []byte, r *account) []byte {
			return codec.AppendVarint(codec.AppendUvarint(dst, r.ID), r.Balance)
		},
		Decode: func(src []byte, r *account) error {
			d := codec.NewReader(src)
			r.ID, r.Balance = d.Uvarint(), d.Varint()
			return d.Err()
		}}
	noteDef = &table.Def[note]{Name: "note",
		Primary: &table.Index[note]{Name: "note_pk", Columns: []string{"id"}, Unique: true,
			Compare:  func(a, b *note, _ int) int { return cmp.Compare(a.ID, b.ID) },
			Format:   func(r *note, _ int) string { return fmt.Sprint("id=", r.ID) },
			Key:      func(r *note) uint64 { return table.KeyUint(r.ID) },
			KeyExact: true},
		Sequences: []table.AutoInc[note]{table.NewAutoInc("note_id_seq", "id", table.SeqParams[uint64]{},
			func(r *note) *uint64 { return &r.ID })},
		Columns: []table.Column{{Name: "id", Type: "uint64", Kind: "uint64"}, {Name: "body", Type: "string", Kind: "string"}},
		Encode:  func(dst []byte, r *note) []byte { return codec.AppendString(codec.AppendUvarint(dst, r.ID), r.Body) },
		Decode: func(src []byte, r *note) error {
			d := codec.NewReader(src)
			r.ID, r.Body = d.Uvarint(), d.Text()
			return d.Err()
		}}
	transferFn = reducer.New("Transfer", func(c *reducer.Ctx, a transferArgs) (struct{}, error) {
		t := table.Use(c.Tx, accountDef)
		from, ok1 := t.Get(account{ID: a.From})
		to, ok2 := t.Get(account{ID: a.To})
		if !ok1 || !ok2 {
			return struct{}{}, table.ErrNotFound
		}
		if from.Balance < a.Amount {
			return struct{}{}, errBalance
		}
		from.Balance -= a.Amount
		to.Balance += a.Amount
		if _, err := t.Update(from); err != nil {
			return struct{}{}, err
		}
		_, err := t.Update(to)
		return struct{}{}, err
	}, reducer.Codec[transferArgs]{}, reducer.Codec[struct{}]{})
	loadFn = reducer.New("Load", func(c *reducer.Ctx, n uint64) (struct{}, error) {
		t := table.Use(c.Tx, accountDef)
		for id := uint64(1); id <= n; id++ {
			if _, err := t.Insert(account{ID: id, Balance: 1_000_000}); err != nil {
				return struct{}{}, err
			}
		}
		return struct{}{}, nil
	}, reducer.Codec[uint64]{}, reducer.Codec[struct{}]{})
	insertFn = reducer.New("Insert", func(c *reducer.Ctx, body string) (uint64, error) {
		n, err := table.Use(c.Tx, noteDef).Insert(note{Body: body})
		return n.ID, err
	}, reducer.Codec[string]{}, reducer.Codec[uint64]{})
	benchModule = &keel.Module{Name: "bench", Tables: []table.Schema{accountDef, noteDef},
		Reducers: []*reducer.Def{&transferFn.Def, &loadFn.Def, &insertFn.Def}}
)

// pipeline runs submitters goroutines with inflight calls each for d,
// each call made by next, and reports calls per second.
func pipeline(b *testing.B, d time.Duration, next func(r *rand.Rand) func() error) {
	const submitters, inflight = 64, 40
	var wg sync.WaitGroup
	counts := make([]int, submitters)
	start := time.Now()
	deadline := start.Add(d)
	for w := range submitters {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w)+1, 7))
			window := make([]func() error, 0, inflight)
			for time.Now().Before(deadline) {
				for len(window) < inflight {
					window = append(window, next(r))
				}
				if err := window[0](); err != nil && !errors.Is(err, errBalance) {
					b.Error(err)
					return
				}
				window = window[1:]
				counts[w]++
			}
			for _, f := range window {
				f()
				counts[w]++
			}
		})
	}
	wg.Wait()
	n := 0
	for _, c := range counts {
		n += c
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "tx/s")
}

func transfers(conn keel.Conn) func(r *rand.Rand) func() error {
	ctx := context.Background()
	return func(r *rand.Rand) func() error {
		a, c := r.Uint64N(benchAccounts)+1, r.Uint64N(benchAccounts)+1
		for c == a {
			c = r.Uint64N(benchAccounts) + 1
		}
		f := keel.Go(ctx, conn, "", transferFn, transferArgs{From: a, To: c, Amount: 1})
		return func() error { _, err := f.Wait(ctx); return err }
	}
}

func inserts(conn keel.Conn) func(r *rand.Rand) func() error {
	ctx := context.Background()
	return func(r *rand.Rand) func() error {
		f := keel.Go(ctx, conn, "", insertFn, "a one-row insert")
		return func() error { _, err := f.Wait(ctx); return err }
	}
}

// httpCluster is n nodes in this process, talking over HTTP on loopback.
func httpCluster(b *testing.B, n int) []*replica.Node {
	var peers []replica.Peer
	var lns []net.Listener
	for i := range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		lns = append(lns, ln)
		peers = append(peers, replica.Peer{ID: uint64(i + 1), Addr: ln.Addr().String()})
	}
	base := b.TempDir()
	var nodes []*replica.Node
	for i := range n {
		// Each node's goroutines (and the handlers its server starts)
		// carry the label node=<id>, so that a CPU profile of the
		// benchmark (-test.cpuprofile, pprof -tags) splits by node.
		var nd *replica.Node
		var err error
		srv := &http.Server{}
		pprof.Do(context.Background(), pprof.Labels("node", fmt.Sprint(i+1)), func(context.Context) {
			nd, err = replica.Open(replica.Config{ID: uint64(i + 1), Dir: filepath.Join(base, fmt.Sprint("n", i+1)),
				Module: benchModule, Peers: peers, Transport: replica.NewHTTPTransport(), SnapshotEvery: -1})
			if err == nil {
				srv.Handler = replica.Handler(nd)
				go srv.Serve(lns[i])
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { srv.Close() })
		nodes = append(nodes, nd)
	}
	b.Cleanup(func() {
		for _, nd := range nodes {
			nd.Close()
		}
	})
	return nodes
}

func benchLeader(b *testing.B, nodes []*replica.Node) *replica.Node {
	for range 500 {
		for _, nd := range nodes {
			if _, err := keel.Run(context.Background(), nd, "", loadFn, 0); err == nil {
				return nd
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatal("no leader")
	return nil
}

// BenchmarkReplicated compares, in one run, a durable single node
// (keel.Open, fsync per group) with a cluster of three nodes in this
// process whose raft messages go over HTTP on loopback, each node
// fsyncing its own log, on pipelined keynote transfers and one-row
// inserts. Each sub-benchmark runs 3 s once.
func BenchmarkReplicated(b *testing.B) {
	benchReplicated(b, func(b *testing.B, n int) (*replica.Node, []*replica.Node) {
		cluster := httpCluster(b, n)
		return benchLeader(b, cluster), cluster
	})
}

// BenchmarkReplicatedProcs is BenchmarkReplicated with the three nodes
// in three processes, as on machines of their own (but sharing this
// one's cores and disk): the benchmark's process runs the submitters and
// node 1, the leader (the two others, child processes of the test
// binary, wait ten times as long before they stand for election), and
// each process has its own Go scheduler. Only the leader's counters are
// reported.
func BenchmarkReplicatedProcs(b *testing.B) {
	benchReplicated(b, func(b *testing.B, n int) (*replica.Node, []*replica.Node) {
		nd := procNodes(b, n)
		return benchLeader(b, []*replica.Node{nd}), []*replica.Node{nd}
	})
}

// benchReplicated runs each workload on a durable single node in this
// process and then on the cluster of three that cluster starts, which
// returns its leader and the nodes in this process.
func benchReplicated(b *testing.B, cluster func(b *testing.B, n int) (*replica.Node, []*replica.Node)) {
	for _, work := range []string{"transfer", "insert"} {
		for _, nodes := range []int{1, 3} {
			b.Run(fmt.Sprintf("%s/nodes=%d", work, nodes), func(b *testing.B) {
				ctx := context.Background()
				var conn keel.Conn
				var leader *replica.Node
				var local []*replica.Node
				if nodes == 1 {
					db, err := keel.Open(b.TempDir(), benchModule, keel.Options{SnapshotBytes: -1, SnapshotEvery: -1})
					if err != nil {
						b.Fatal(err)
					}
					defer db.Close()
					conn = db
				} else {
					leader, local = cluster(b, nodes)
					conn = leader
				}
				if work == "transfer" {
					if _, err := keel.Run(ctx, conn, "", loadFn, benchAccounts); err != nil {
						b.Fatal(err)
					}
				}
				gen := transfers(conn)
				if work == "insert" {
					gen = inserts(conn)
				}
				for b.Loop() {
					pipeline(b, 3*time.Second, gen)
				}
				if leader != nil {
					reportStats(b, leader, local)
				}
			})
		}
	}
}

// procNodes starts a cluster of n nodes on loopback: node 1 in this
// process, which it returns, and the others as child processes, whose
// election timeout is ten times node 1's so that node 1 leads.
func procNodes(b *testing.B, n int) *replica.Node {
	c := makeProcCluster(b, n, 100*time.Millisecond, -1, "KEEL_REPLICA_MODULE=bench", "KEEL_REPLICA_ELECTION_TICKS=100")
	var peers []replica.Peer
	for _, p := range c.procs {
		peers = append(peers, replica.Peer{ID: p.id, Addr: p.addr})
	}
	for _, p := range c.procs[1:] {
		c.start(p)
	}
	ln, err := net.Listen("tcp", c.procs[0].addr)
	if err != nil {
		b.Fatal(err)
	}
	nd, err := replica.Open(replica.Config{ID: 1, Dir: c.procs[0].dir, Module: benchModule, Peers: peers,
		Transport: replica.NewHTTPTransport(), SnapshotEvery: -1})
	if err != nil {
		ln.Close()
		b.Fatal(err)
	}
	srv := &http.Server{Handler: replica.Handler(nd)}
	go srv.Serve(ln)
	b.Cleanup(func() {
		srv.Close()
		nd.Close()
	})
	return nd
}

// reportStats reports the pipeline's counters (Node.Stats): the entries
// per fsync of the leader and of the followers, the mean time from
// execution to release of a group's oldest commit, the mean time of a
// write and its fsync on the leader and on the followers, and the
// leader's fsyncs a second. Followers count only among nodes, those in
// this process.
func reportStats(b *testing.B, leader *replica.Node, nodes []*replica.Node) {
	var fs replica.Stats
	for _, nd := range nodes {
		if nd != leader {
			s := nd.Stats()
			fs.Syncs += s.Syncs
			fs.Entries += s.Entries
			fs.WriteTime += s.WriteTime
		}
	}
	if testing.Verbose() {
		b.Logf("leader: node=%d", leader.ID())
	}
	ls := leader.Stats()
	if ls.Syncs > 0 && ls.Proposals > 0 {
		b.ReportMetric(float64(ls.Entries)/float64(ls.Syncs), "leader-entries/fsync")
		b.ReportMetric(ls.ReleaseWait.Seconds()*1000/float64(ls.Proposals), "release-ms")
		b.ReportMetric(ls.WriteTime.Seconds()*1000/float64(ls.Syncs), "leader-write-ms")
		b.ReportMetric(float64(ls.Syncs)/b.Elapsed().Seconds(), "leader-fsyncs/s")
	}
	if fs.Syncs > 0 {
		b.ReportMetric(float64(fs.Entries)/float64(fs.Syncs), "follower-entries/fsync")
		b.ReportMetric(fs.WriteTime.Seconds()*1000/float64(fs.Syncs), "follower-write-ms")
	}
}

// BenchmarkFailover measures, with raft's default timing (100 ms ticks,
// an election after 10 to 20 ticks without a leader), the time from the
// SIGKILL of the leader's process to the first write a new leader
// commits, in a cluster of three child processes with a client writing
// all along. It reports the median and the worst of its rounds.
func BenchmarkFailover(b *testing.B) {
	c := newProcCluster(b, 3, 100*time.Millisecond, 10_000)
	cl := replica.NewClient(c.addrs()...)
	write := func(tag string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := cl.CallEncoded(ctx, "bench", "Write", encodeWrite(writeArgs{Key: "k", Val: 1, Tag: tag}))
		return err
	}
	var times []time.Duration
	round := 0
	for b.Loop() {
		for range 5 {
			round++
			for write(fmt.Sprint("warm", round)) != nil {
			}
			l := c.leader()
			for l == nil {
				time.Sleep(10 * time.Millisecond)
				l = c.leader()
			}
			t0 := time.Now()
			c.kill(l)
			for i := 0; ; i++ {
				if write(fmt.Sprint("r", round, "-", i)) == nil {
					break
				}
			}
			times = append(times, time.Since(t0))
			c.start(l)
		}
	}
	slices.Sort(times)
	b.ReportMetric(times[len(times)/2].Seconds(), "median-s")
	b.ReportMetric(times[len(times)-1].Seconds(), "max-s")
}
