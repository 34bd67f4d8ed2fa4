package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/server"
)

// The binary protocol's tags (package server).
const (
	tagTransactionUpdate = 4
	tagReducerResult     = 5
	tagCallReducer       = 16
	tagSubscribe         = 17
	tagSubscribeApplied  = 2
)

// dial opens a binary connection and reads its InitialConnection.
func dial(ctx context.Context, url string) (*websocket.Conn, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{server.ProtocolBinary}})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(1 << 30)
	if _, _, err := ws.Read(ctx); err != nil {
		ws.CloseNow()
		return nil, err
	}
	return ws, nil
}

// messages splits a binary frame.
func messages(b []byte) [][]byte {
	var out [][]byte
	r := codec.NewReader(b)
	for r.Offset() < len(b) {
		out = append(out, r.Bytes(true))
	}
	return out
}

// appendTransfer appends a CallReducer of Transfer, built on the stack:
// the generator shares the server's two cores, so it allocates nothing
// per call.
func appendTransfer(dst []byte, id uint64, a transferArgs) []byte {
	var ab, mb [64]byte
	args := codec.AppendVarint(codec.AppendUvarint(codec.AppendUvarint(ab[:0], a.From), a.To), a.Amount)
	m := append(mb[:0], tagCallReducer)
	m = codec.AppendUvarint(m, id)
	m = codec.AppendString(m, "Transfer")
	m = codec.AppendBytes(m, args)
	return codec.AppendBytes(dst, m)
}

// readInto reads the next message into dst, growing it as it needs:
// websocket.Conn.Read would allocate a buffer for every frame.
func readInto(ctx context.Context, ws *websocket.Conn, dst []byte) ([]byte, error) {
	_, r, err := ws.Reader(ctx)
	if err != nil {
		return dst, err
	}
	for {
		if len(dst) == cap(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		n, err := r.Read(dst[len(dst):cap(dst)])
		dst = dst[:len(dst)+n]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
}

// overNetwork runs the keynote workload over conns connections with
// inflight calls each for d, and returns transactions a second and the
// mean number of results in a frame from the server. Each connection
// refills its window with one frame per frame of results.
func overNetwork(url string, conns, inflight int, zipf bool, d time.Duration) (float64, float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d+60*time.Second)
	defer cancel()
	wss := make([]*websocket.Conn, conns)
	for i := range wss {
		ws, err := dial(ctx, url)
		if err != nil {
			return 0, 0, err
		}
		defer ws.CloseNow()
		wss[i] = ws
	}
	// The connections' reads and writes take no context with a deadline
	// (each would set up a timer per frame); this one guard closes them
	// all if the run hangs.
	guard := time.AfterFunc(d+60*time.Second, func() {
		for _, ws := range wss {
			ws.CloseNow()
		}
	})
	defer guard.Stop()
	bg := context.Background()
	var total, frames atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for i, ws := range wss {
		wg.Go(func() {
			pick := picker(uint64(i)+100, zipf, accounts)
			var id uint64
			next := func() transferArgs {
				a, b := pick(), pick()
				for b == a {
					b = pick()
				}
				return transferArgs{From: a, To: b, Amount: 1}
			}
			var frame []byte
			for range inflight {
				id++
				frame = appendTransfer(frame, id, next())
			}
			if err := ws.Write(bg, websocket.MessageBinary, frame); err != nil {
				failed.Store(err)
				return
			}
			out := inflight
			n, f := 0, 0
			var b []byte // the frame read, its buffer reused
			for out > 0 {
				var err error
				if b, err = readInto(bg, ws, b[:0]); err != nil {
					failed.Store(err)
					return
				}
				f++
				frame = frame[:0]
				more := time.Now().Before(deadline)
				for r := codec.NewReader(b); r.Offset() < len(b); {
					m := r.Bytes(true)
					if r.Failed() {
						failed.Store(fmt.Errorf("a malformed frame: %w", r.Err()))
						return
					}
					if len(m) == 0 || m[0] != tagReducerResult {
						continue
					}
					out--
					n++
					if more {
						id++
						out++
						frame = appendTransfer(frame, id, next())
					}
				}
				if len(frame) > 0 {
					if err := ws.Write(bg, websocket.MessageBinary, frame); err != nil {
						failed.Store(err)
						return
					}
				}
			}
			total.Add(int64(n))
			frames.Add(int64(f))
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		return 0, 0, err
	}
	return float64(total.Load()) / time.Since(start).Seconds(), float64(total.Load()) / float64(max(frames.Load(), 1)), nil
}

// durLatency reads the server's record of its commits' time to durable.
func durLatency(addr string, fr *fanResult) error {
	resp, err := http.Get("http://" + addr + "/durlat")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var n int
	_, err = fmt.Fscan(resp.Body, &n, &fr.d50, &fr.d99, &fr.dmax, &fr.syncs, &fr.maxSync)
	fr.d50, fr.d99, fr.dmax, fr.maxSync = fr.d50.Round(time.Microsecond), fr.d99.Round(time.Microsecond), fr.dmax.Round(time.Microsecond), fr.maxSync.Round(time.Microsecond)
	return err
}

// fanout connects subs connections, each subscribed to its own account,
// and makes rate transfers a second between those accounts for d.
func fanout(addr string, subs, rate int, d time.Duration) (fanResult, error) {
	var fr fanResult
	url := "ws://" + addr + "/ws"
	ctx, cancel := context.WithTimeout(context.Background(), d+120*time.Second)
	defer cancel()
	var err error
	if fr.heapBefore, err = heap(addr); err != nil {
		return fr, err
	}
	wss := make([]*websocket.Conn, subs)
	for i := range wss {
		ws, err := dial(ctx, url)
		if err != nil {
			return fr, err
		}
		defer ws.CloseNow()
		m := []byte{tagSubscribe}
		m = codec.AppendUvarint(m, 1)
		m = codec.AppendUvarint(m, 1)
		m = codec.AppendUvarint(m, 1)
		m = codec.AppendString(m, fmt.Sprintf("SELECT * FROM account WHERE id = %d", i+1))
		if err := ws.Write(ctx, websocket.MessageBinary, codec.AppendBytes(nil, m)); err != nil {
			return fr, err
		}
		_, b, err := ws.Read(ctx)
		if err != nil || messages(b)[0][0] != tagSubscribeApplied {
			return fr, fmt.Errorf("subscribe %d: %v", i, err)
		}
		wss[i] = ws
	}
	if fr.heapAfter, err = heap(addr); err != nil {
		return fr, err
	}
	var mu sync.Mutex
	var lats []time.Duration
	var wg sync.WaitGroup
	rctx, rcancel := context.WithCancel(ctx)
	for _, ws := range wss {
		wg.Go(func() {
			for {
				_, b, err := ws.Read(rctx)
				now := time.Now()
				if err != nil {
					return
				}
				for _, m := range messages(b) {
					if m[0] != tagTransactionUpdate {
						continue
					}
					r := codec.NewReader(m[1:])
					r.Uvarint()
					at := r.Time()
					mu.Lock()
					lats = append(lats, now.Sub(at))
					mu.Unlock()
				}
			}
		})
	}
	driver, err := dial(ctx, url)
	if err != nil {
		rcancel()
		return fr, err
	}
	defer driver.CloseNow()
	var sentAt sync.Map
	var calls []time.Duration
	go func() { // results of the driver's calls
		for {
			_, b, err := driver.Read(rctx)
			now := time.Now()
			if err != nil {
				return
			}
			for _, m := range messages(b) {
				id := codec.NewReader(m[1:]).Uvarint()
				if t, ok := sentAt.LoadAndDelete(id); ok {
					mu.Lock()
					calls = append(calls, now.Sub(t.(time.Time)))
					mu.Unlock()
				}
			}
		}
	}()
	pick := picker(99, false, uint64(subs))
	start := time.Now()
	end := start.Add(d)
	var id uint64
	for {
		// Paced by the clock: call k goes at start + k/rate.
		at := start.Add(time.Duration(id) * time.Second / time.Duration(rate))
		if at.After(end) {
			break
		}
		time.Sleep(time.Until(at))
		a, b := pick(), pick()
		for b == a {
			b = pick()
		}
		id++
		sentAt.Store(id, time.Now())
		if err := driver.Write(ctx, websocket.MessageBinary, appendTransfer(nil, id, transferArgs{From: a, To: b, Amount: 1})); err != nil {
			rcancel()
			return fr, err
		}
	}
	time.Sleep(500 * time.Millisecond)
	rcancel()
	for _, ws := range wss {
		ws.CloseNow()
	}
	wg.Wait()
	if err := durLatency(addr, &fr); err != nil {
		return fr, err
	}
	fr.commits = int(id)
	fr.delivered = len(lats)
	if len(lats) == 0 {
		return fr, fmt.Errorf("no update was delivered")
	}
	mu.Lock()
	slices.Sort(calls)
	if len(calls) > 0 {
		fr.c50, fr.c99 = calls[len(calls)/2].Round(time.Microsecond), calls[len(calls)*99/100].Round(time.Microsecond)
	}
	mu.Unlock()
	slices.Sort(lats)
	fr.p50, fr.p99, fr.max = lats[len(lats)/2].Round(time.Microsecond), lats[len(lats)*99/100].Round(time.Microsecond), lats[len(lats)-1].Round(time.Microsecond)
	return fr, nil
}
