// Command netload measures Keel's network server (package server) against
// the targets of issue 14, with the load generator in this process and
// the server in a child process on the same machine:
//
//   - the keynote transfer workload (100,000 accounts, uniform and Zipf
//     alpha 1.5) over WebSocket, 64 connections with 40 calls in flight
//     each, durable, beside the in-process pipelined figure of the same
//     run (64 goroutines with 40 calls in flight through keel.Go);
//
//   - fan-out: 1,000 connections each subscribed to its own account, a
//     driver making 1,000 transfers a second between them: the time from
//     each commit (its timestamp) to the delivery of its update;
//
//   - the server's heap per idle subscribed connection.
//
//     cd bench && go run ./netload            # prints a Markdown table
//     go run ./netload -d 5s -fanout 10s
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/reducer"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/table"
)

func main() {
	serve := flag.String("serve", "", "run the server on this data `directory` (the child process)")
	memory := flag.Bool("memory", false, "with -serve: keep the database in memory (no fsync)")
	durlat := flag.Bool("durlat", false, "with -serve: record each commit's time from its timestamp to durable, served at /durlat")
	d := flag.Duration("d", 5*time.Second, "how long each throughput run lasts")
	fan := flag.Duration("fanout", 10*time.Second, "how long the fan-out run lasts")
	conns := flag.Int("conns", 64, "connections (and in-process submitters) for the keynote runs")
	inflight := flag.Int("inflight", 40, "calls in flight per connection")
	subs := flag.Int("subs", 1000, "subscribed connections for the fan-out run")
	rate := flag.Int("rate", 1000, "commits a second in the fan-out run")
	flag.StringVar(&serverProf, "serverprof", "", "write a CPU profile of each server process into this `directory`")
	flag.StringVar(&loadProf, "loadprof", "", "write a CPU profile of the load generator's part of each keynote run over the network (load0, load1 .pprof) into this `directory`")
	cpuprofile := flag.String("cpuprofile", "", "with -serve: write a CPU profile of the server to this `file`")
	flag.StringVar(&heapProf, "heapprofile", "", "with -serve: write a heap profile at each reading of /mem to this `file` with its number appended")
	flag.IntVar(&nslices, "slices", 5, "run each keynote workload's in-process and network parts in this many alternating slices of -d/slices each, on one database and one server process, and report the mean of the slices' rates (1: one after the other, the whole -d each; -loadprof needs 1)")
	flag.StringVar(&only, "only", "", "run only these workloads, comma-separated: uniform, zipf, fanout (\"\": all)")
	flag.Parse()
	if loadProf != "" && nslices > 1 {
		fmt.Fprintln(os.Stderr, "netload: -loadprof profiles one network run of each workload; use it with -slices 1")
		os.Exit(2)
	}
	if *serve != "" {
		if *cpuprofile != "" {
			f, err := os.Create(*cpuprofile)
			if err != nil {
				fmt.Fprintln(os.Stderr, "netload serve:", err)
				os.Exit(1)
			}
			pprof.StartCPUProfile(f)
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
		if err := serveChild(*serve, *memory, *durlat); err != nil {
			pprof.StopCPUProfile()
			fmt.Fprintln(os.Stderr, "netload serve:", err)
			os.Exit(1)
		}
		return
	}
	if err := measure(*d, *fan, *conns, *inflight, *subs, *rate); err != nil {
		fmt.Fprintln(os.Stderr, "netload:", err)
		os.Exit(1)
	}
}

// openKeynote opens a durable keynote database in dir with its accounts.
func openKeynote(dir string) (*keel.DB, *reducer.Func[transferArgs, struct{}], error) {
	m, transfer, load := keynoteModule()
	db, err := keel.Open(dir, m, keel.Options{SnapshotBytes: -1, SnapshotEvery: -1})
	if err != nil {
		return nil, nil, err
	}
	if _, err := keel.Run(context.Background(), db, "", load, accounts); err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, transfer, nil
}

// openKeynoteMemory is openKeynote in memory only.
func openKeynoteMemory(string) (*keel.DB, *reducer.Func[transferArgs, struct{}], error) {
	m, transfer, load := keynoteModule()
	db, err := keel.OpenMemory(m, keel.Options{})
	if err != nil {
		return nil, nil, err
	}
	if _, err := keel.Run(context.Background(), db, "", load, accounts); err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, transfer, nil
}

// serveChild is the server process: it prints its address, serves /ws
// and /mem (the heap and goroutine stacks in use after a GC), and stops when stdin closes.
func serveChild(dir string, memory, durlat bool) error {
	open := openKeynote
	if memory {
		open = openKeynoteMemory
	}
	db, _, err := open(dir)
	if err != nil {
		return err
	}
	defer db.Close()
	srv, err := server.New(db, server.Options{MaxInFlight: 4096})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	if durlat {
		// A commit listener runs once the commit is durable, before its
		// calls return and before the server sees it: its timestamp to
		// then is the commit's wait for the disk.
		var mu sync.Mutex
		var lats []time.Duration
		db.OnCommit(func(c *table.Commit) {
			d := time.Since(c.Time)
			mu.Lock()
			lats = append(lats, d)
			mu.Unlock()
		})
		mux.HandleFunc("/durlat", func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			l := slices.Clone(lats)
			mu.Unlock()
			slices.Sort(l)
			var p50, p99, mx time.Duration
			if len(l) > 0 {
				p50, p99, mx = l[len(l)/2], l[len(l)*99/100], l[len(l)-1]
			}
			st := db.Stats().Log
			fmt.Fprintf(w, "%d %d %d %d %d %d\n", len(l), p50, p99, mx, st.Syncs, st.MaxSync)
		})
	}
	mux.HandleFunc("/mem", func(w http.ResponseWriter, r *http.Request) {
		runtime.GC()
		debug.FreeOSMemory()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		fmt.Fprintf(w, "%d %d\n", ms.HeapInuse+ms.StackInuse, runtime.NumGoroutine())
		if heapProf != "" { // the heap after each reading: dir.heap1, dir.heap2
			memReads++
			if f, err := os.Create(fmt.Sprint(heapProf, memReads)); err == nil {
				pprof.Lookup("heap").WriteTo(f, 0)
				f.Close()
			}
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr())
	go http.Serve(ln, mux)
	bufio.NewReader(os.Stdin).ReadString('\n')
	if heapProf != "" { // what the run allocated: dir.heap.allocs
		if f, err := os.Create(heapProf + ".allocs"); err == nil {
			pprof.Lookup("allocs").WriteTo(f, 0)
			f.Close()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(ctx)
}

// only names the workloads to run (-only); "" for all.
var only string

// nslices (-slices) is the number of alternating in-process and network
// slices of each keynote run: with more than one, both parts see the
// same spells of the machine's other work.
var nslices int

func runs(w string) bool { return only == "" || slices.Contains(strings.Split(only, ","), w) }

// heapProf (-heapprofile, with -serve) is where the server process
// writes a heap profile at each reading of /mem, numbered from 1.
var (
	heapProf string
	memReads int
)

// loadProf is where the generator writes the CPU profile of its own
// work in each keynote run over the network (-loadprof); "" for none.
var loadProf string

// serverProf is where each server process writes its CPU profile
// (-serverprof), named after its data directory; "" for none.
var serverProf string

// child starts the server process and returns its address.
func child(dir string, memory, durlat bool) (addr string, stop func(), err error) {
	args := []string{"-serve", dir, fmt.Sprint("-memory=", memory), fmt.Sprint("-durlat=", durlat)}
	if serverProf != "" {
		args = append(args, "-cpuprofile", filepath.Join(serverProf, filepath.Base(dir)+".pprof"),
			"-heapprofile", filepath.Join(serverProf, filepath.Base(dir)+".heap"))
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stderr = os.Stderr
	in, _ := cmd.StdinPipe()
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		return "", nil, fmt.Errorf("the server process: %w", err)
	}
	return strings.TrimSpace(line), func() { in.Close(); cmd.Wait() }, nil
}

// picker draws account ids, uniform or Zipf (s = 1.5): P(id) is
// proportional to id^-1.5 for id in 1..n, as rand.NewZipf(r, 1.5, 1, n-1)
// plus one draws them, from a table (zipfTable) that costs one random
// number a draw instead of rand.Zipf's exp and log: the generator shares
// the two cores with the server.
func picker(seed uint64, zipf bool, n uint64) func() uint64 {
	r := rand.New(rand.NewPCG(seed, 7))
	if zipf {
		t := zipfTable(n)
		return func() uint64 {
			// The high 32 bits pick a column, the low 32 the coin.
			u := r.Uint64()
			i := (u >> 32) * n >> 32
			if uint32(u) < t.prob[i] {
				return i + 1
			}
			return uint64(t.alias[i]) + 1
		}
	}
	return func() uint64 { return r.Uint64N(n) + 1 }
}

// alias is Walker's alias table of a distribution over 0..n-1 (Vose's
// construction): column i is i with probability prob[i]/2^32, else
// alias[i].
type alias struct {
	prob  []uint32
	alias []uint32
}

var zipfTables sync.Map // n -> *alias

// zipfTable is the alias table of P(k) proportional to (k+1)^-1.5 for k
// in 0..n-1, built once for each n.
func zipfTable(n uint64) *alias {
	if t, ok := zipfTables.Load(n); ok {
		return t.(*alias)
	}
	w := make([]float64, n)
	var sum float64
	for k := range w {
		w[k] = math.Pow(float64(k+1), -1.5)
		sum += w[k]
	}
	t := &alias{prob: make([]uint32, n), alias: make([]uint32, n)}
	var small, large []int
	for k := range w {
		w[k] *= float64(n) / sum // mean 1
		if w[k] < 1 {
			small = append(small, k)
		} else {
			large = append(large, k)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		t.prob[s], t.alias[s] = uint32(w[s]*(1<<32)), uint32(l)
		if w[l] -= 1 - w[s]; w[l] < 1 {
			large, small = large[:len(large)-1], append(small, l)
		}
	}
	for _, k := range append(small, large...) { // 1 but for rounding
		t.prob[k], t.alias[k] = math.MaxUint32, uint32(k)
	}
	v, _ := zipfTables.LoadOrStore(n, t)
	return v.(*alias)
}

// inProcess runs the keynote workload through keel.Go: submitters
// goroutines with inflight calls each; it returns transactions a second.
func inProcess(dir string, submitters, inflight int, zipf bool, d time.Duration) (float64, error) {
	db, transfer, err := openKeynote(dir)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return inProcessOn(db, transfer, submitters, inflight, zipf, d)
}

// inProcessOn runs the keynote workload on an open database. A call
// that fails but for an insufficient balance fails the run.
func inProcessOn(db *keel.DB, transfer *reducer.Func[transferArgs, struct{}], submitters, inflight int, zipf bool, d time.Duration) (float64, error) {
	ctx := context.Background()
	var total atomic.Int64
	var firstErr atomic.Pointer[error]
	wait := func(f keel.Future[struct{}]) {
		if _, err := f.Wait(ctx); err != nil && !errors.Is(err, errBalance) {
			firstErr.CompareAndSwap(nil, &err)
		}
	}
	var wg sync.WaitGroup
	deadline := time.Now().Add(d)
	start := time.Now()
	for w := range submitters {
		wg.Go(func() {
			pick := picker(uint64(w)+1, zipf, accounts)
			window := make([]keel.Future[struct{}], 0, inflight)
			n := 0
			for time.Now().Before(deadline) {
				for len(window) < inflight {
					a, b := pick(), pick()
					for b == a {
						b = pick()
					}
					window = append(window, keel.Go(ctx, db, "", transfer, transferArgs{From: a, To: b, Amount: 1}))
				}
				wait(window[0])
				k := 1
				for k < len(window) && window[k].Done() {
					wait(window[k])
					k++
				}
				n += k
				window = append(window[:0], window[k:]...)
			}
			for _, f := range window {
				wait(f)
				n++
			}
			total.Add(int64(n))
		})
	}
	wg.Wait()
	if err := firstErr.Load(); err != nil {
		return 0, fmt.Errorf("in process: %w", *err)
	}
	return float64(total.Load()) / time.Since(start).Seconds(), nil
}

// interleaved runs keynote workload i in n alternating slices of d/n,
// in process and over the network, on one database and one server
// process, and returns the mean of the slices' rates of each and the
// mean number of results in a frame.
func interleaved(tmp string, i int, conns, inflight int, zipf bool, d time.Duration, n int) (ip, nw, per float64, err error) {
	db, transfer, err := openKeynote(fmt.Sprintf("%s/inproc%d", tmp, i))
	if err != nil {
		return 0, 0, 0, err
	}
	defer db.Close()
	addr, stop, err := child(fmt.Sprintf("%s/net%d", tmp, i), false, false)
	if err != nil {
		return 0, 0, 0, err
	}
	defer stop()
	slice := d / time.Duration(n)
	for range n {
		r, err := inProcessOn(db, transfer, conns, inflight, zipf, slice)
		if err != nil {
			return 0, 0, 0, err
		}
		ip += r / float64(n)
		r, f, err := overNetwork("ws://"+addr+"/ws", conns, inflight, zipf, slice)
		if err != nil {
			return 0, 0, 0, err
		}
		nw += r / float64(n)
		per += f / float64(n)
	}
	return ip, nw, per, nil
}

func measure(d, fan time.Duration, conns, inflight, subs, rate int) error {
	tmp, err := os.MkdirTemp("", "netload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	fmt.Printf("netload: %d CPUs, %s, keynote runs of %v, fan-out run of %v\n", runtime.NumCPU(), runtime.Version(), d, fan)
	if nslices > 1 {
		fmt.Printf("each keynote run in %d alternating slices of %v in process and %v over WebSocket; rates are the means of the slices'\n", nslices, d/time.Duration(nslices), d/time.Duration(nslices))
	}
	fmt.Println()
	type row struct {
		zipf          bool
		inproc, netwk float64
		perFrame      float64 // results in a frame from the server
	}
	var rows []row
	for i, zipf := range []bool{false, true} {
		if !runs([]string{"uniform", "zipf"}[i]) {
			continue
		}
		if nslices > 1 {
			ip, nw, per, err := interleaved(tmp, i, conns, inflight, zipf, d, nslices)
			if err != nil {
				return err
			}
			rows = append(rows, row{zipf, ip, nw, per})
			continue
		}
		ip, err := inProcess(fmt.Sprintf("%s/inproc%d", tmp, i), conns, inflight, zipf, d)
		if err != nil {
			return err
		}
		addr, stop, err := child(fmt.Sprintf("%s/net%d", tmp, i), false, false)
		if err != nil {
			return err
		}
		var prof *os.File
		if loadProf != "" {
			if prof, err = os.Create(filepath.Join(loadProf, fmt.Sprintf("load%d.pprof", i))); err != nil {
				stop()
				return err
			}
			pprof.StartCPUProfile(prof)
		}
		nw, per, err := overNetwork("ws://"+addr+"/ws", conns, inflight, zipf, d)
		if prof != nil {
			pprof.StopCPUProfile()
			prof.Close()
		}
		stop()
		if err != nil {
			return err
		}
		rows = append(rows, row{zipf, ip, nw, per})
	}
	fmt.Println("| keynote transfers, durable | in process (keel.Go) | over WebSocket | network / in process | results a frame |")
	fmt.Println("| --- | --- | --- | --- | --- |")
	for _, r := range rows {
		name := "uniform"
		if r.zipf {
			name = "Zipf alpha 1.5"
		}
		fmt.Printf("| %s, %d x %d in flight | %.1fk tx/s | %.1fk tx/s | %.2fx | %.1f |\n", name, conns, inflight, r.inproc/1e3, r.netwk/1e3, r.netwk/r.inproc, r.perFrame)
	}
	fmt.Println()
	if !runs("fanout") {
		return nil
	}
	fs50, fs99, fsmax, err := fsyncLatency(tmp)
	if err != nil {
		return err
	}
	fmt.Println("| fan-out: 1,000 transfers/s between the accounts of the subscribers | durable (SyncAlways) | in memory (no fsync) |")
	fmt.Println("| --- | --- | --- |")
	var frs [2]fanResult
	for i, memory := range []bool{false, true} {
		addr, stop, err := child(fmt.Sprintf("%s/fanout%d", tmp, i), memory, true)
		if err != nil {
			return err
		}
		frs[i], err = fanout(addr, subs, rate, fan)
		stop()
		if err != nil {
			return err
		}
	}
	fmt.Printf("| %d connections, each subscribed to its own account, for %v | %d commits, %d updates | %d commits, %d updates |\n", subs, fan,
		frs[0].commits, frs[0].delivered, frs[1].commits, frs[1].delivered)
	fmt.Printf("| commit (transaction timestamp) to delivery, p50 / p99 / max | %v / %v / %v | %v / %v / %v |\n",
		frs[0].p50, frs[0].p99, frs[0].max, frs[1].p50, frs[1].p99, frs[1].max)
	fmt.Printf("| the driver's call, sent to result, p50 / p99 | %v / %v | %v / %v |\n", frs[0].c50, frs[0].c99, frs[1].c50, frs[1].c99)
	fmt.Printf("| commit (timestamp) to durable, in the server (a commit listener), p50 / p99 / max | %v / %v / %v | %v / %v / %v |\n",
		frs[0].d50, frs[0].d99, frs[0].dmax, frs[1].d50, frs[1].d99, frs[1].dmax)
	fmt.Printf("| the log's fsyncs in the run, the longest | %d, %v | - |\n", frs[0].syncs, frs[0].maxSync)
	per := func(f fanResult) string {
		return fmt.Sprintf("%.1f KiB (%.1f -> %.1f MiB)", float64(f.heapAfter-f.heapBefore)/float64(subs)/1024,
			float64(f.heapBefore)/(1<<20), float64(f.heapAfter)/(1<<20))
	}
	fmt.Printf("| server heap and stacks per idle subscribed connection | %s | %s |\n", per(frs[0]), per(frs[1]))
	fmt.Printf("\nfsync on this machine (200-byte appends, 1 ms apart): p50 %v, p99 %v, max %v\n", fs50, fs99, fsmax)
	return nil
}

type fanResult struct {
	delivered, commits    int
	p50, p99, max         time.Duration
	c50, c99              time.Duration // the driver's calls
	d50, d99, dmax        time.Duration // commit to durable, in the server
	syncs                 uint64        // the log's fsyncs since it opened
	maxSync               time.Duration // the longest of them
	heapBefore, heapAfter uint64
}

func heap(addr string) (uint64, error) {
	resp, err := http.Get("http://" + addr + "/mem")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var h uint64
	var g int
	_, err = fmt.Fscan(resp.Body, &h, &g)
	return h, err
}

// fsyncLatency measures fsync of small appends, 1 ms apart, on the
// directory's disk: the floor under durable commit latency.
func fsyncLatency(dir string) (p50, p99, max time.Duration, err error) {
	f, err := os.CreateTemp(dir, "fsync")
	if err != nil {
		return 0, 0, 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 200)
	var l []time.Duration
	for range 2000 {
		t := time.Now()
		if _, err := f.Write(buf); err != nil {
			return 0, 0, 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, 0, 0, err
		}
		l = append(l, time.Since(t))
		time.Sleep(time.Millisecond)
	}
	slices.Sort(l)
	return l[len(l)/2].Round(time.Microsecond), l[len(l)*99/100].Round(time.Microsecond), l[len(l)-1].Round(time.Microsecond), nil
}
