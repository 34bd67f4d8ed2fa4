package client_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/tcpproxy"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
	"github.com/keeldb/keel/server/internal/srvmod/remote"
)

// behindLog is a slog.Handler that sends the errors of its records that
// match client.ErrQueueFull.
type behindLog chan error

func (h behindLog) Enabled(context.Context, slog.Level) bool { return true }
func (h behindLog) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h behindLog) WithGroup(string) slog.Handler            { return h }
func (h behindLog) Handle(_ context.Context, r slog.Record) error {
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && errors.Is(err, client.ErrQueueFull) {
			select {
			case h <- err:
			default:
			}
		}
		return true
	})
	return nil
}

// dialedWith is dialed with opts.
func dialedWith(t *testing.T, px *tcpproxy.Proxy, opts client.Options) (*remote.Remote, context.Context) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	r, err := remote.Dial(ctx, "ws://"+px.Addr, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r, ctx
}

// TestSlowCallbackBound: while a callback blocks and the server streams
// updates, the messages the client holds for its callbacks stay within
// Options.MaxQueueBytes; the one that would pass it ends the connection
// with an error matching ErrQueueFull and ErrDisconnected, the client
// waits for the callbacks before it dials again (requests fail with
// ErrDisconnected meanwhile), and once the callback returns it is
// connected again with every row in the cache, each told to OnInsert
// once.
func TestSlowCallbackBound(t *testing.T) {
	const limit, n = 4 << 10, 300
	db := keeltest.Memory(t, srvmod.Module)
	_, px := proxied(t, db)
	logged := make(behindLog, 1)
	r, ctx := dialedWith(t, px, client.Options{MaxQueueBytes: limit, Logger: slog.New(logged), MaxBackoff: 10 * time.Millisecond})

	release := make(chan struct{})
	var mu sync.Mutex
	seen := map[uint32]int{}
	r.DB.Team.OnInsert(func(tm srvmod.Team) {
		mu.Lock()
		seen[tm.ID]++
		mu.Unlock()
		if tm.ID == 1 {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
	})
	if _, err := r.DB.Team.Subscribe(ctx, ""); err != nil {
		t.Fatal(err)
	}
	// Each wait for the callbacks before a dial: whether the callback had
	// been released, and the bytes still held.
	type drained struct {
		released bool
		held     int64
	}
	var released atomic.Bool
	waited := make(chan drained, 8)
	client.SetAfterDrain(r.Conn, func() {
		held, _ := client.QueuedBytes(r.Conn)
		waited <- drained{released.Load(), held}
	})
	resubscribed := make(chan struct{}, 8)
	client.SetAfterResubscribe(r.Conn, func() { resubscribed <- struct{}{} })

	producer := srvmod.NewClient(db, "producer")
	for i := uint32(1); i <= n; i++ {
		if err := producer.AddTeam(ctx, i, fmt.Sprintf("team %d", i), 1); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-logged:
		if !errors.Is(err, client.ErrDisconnected) {
			t.Errorf("the connection ended with %v, which does not match ErrDisconnected", err)
		}
	case <-ctx.Done():
		t.Fatal("the connection never ended on a full queue")
	}
	if now, peak := client.QueuedBytes(r.Conn); peak > limit || now > limit {
		t.Errorf("the callbacks held %d bytes at most (%d now), over the bound of %d", peak, now, limit)
	}
	if err := r.AddTeam(ctx, n+1, "late", 1); !errors.Is(err, client.ErrDisconnected) {
		t.Errorf("a call while the callbacks are behind: %v, want ErrDisconnected", err)
	}
	released.Store(true)
	close(release)
	select {
	case <-resubscribed:
	case <-ctx.Done():
		t.Fatal("the client never subscribed again")
	}
	select {
	case d := <-waited:
		if !d.released || d.held != 0 {
			t.Errorf("the client dialed again with the callback released: %v, %d bytes held; want once it returned, none held", d.released, d.held)
		}
	default:
		t.Error("the client dialed again without waiting for its callbacks")
	}
	if c := r.DB.Team.Count(); c != n {
		t.Errorf("%d teams cached after the reconnection, want %d", c, n)
	}
	mu.Lock()
	defer mu.Unlock()
	for i := uint32(1); i <= n; i++ {
		if seen[i] != 1 {
			t.Errorf("team %d told to OnInsert %d times, want once", i, seen[i])
		}
	}
}

// TestKeepingUpBound: a client whose callbacks keep up gets every update,
// in commit order, with a bound smaller than the stream: the bytes of the
// messages its callbacks ran are given back.
func TestKeepingUpBound(t *testing.T) {
	const limit, batches, batch = 16 << 10, 100, 20
	db := keeltest.Memory(t, srvmod.Module)
	_, px := proxied(t, db)
	logged := make(behindLog, 1)
	r, ctx := dialedWith(t, px, client.Options{MaxQueueBytes: limit, Logger: slog.New(logged)})

	got := make(chan uint32, batches*batch)
	var txs []uint64
	r.DB.Team.OnInsert(func(tm srvmod.Team) { got <- tm.ID })
	r.OnTransaction(func(tx client.Tx) { txs = append(txs, tx.ID) })
	if _, err := r.DB.Team.Subscribe(ctx, ""); err != nil {
		t.Fatal(err)
	}
	producer := srvmod.NewClient(db, "producer").Go()
	id := uint32(0)
	seen := map[uint32]bool{}
	for range batches {
		for range batch {
			id++
			producer.AddTeam(ctx, id, fmt.Sprintf("team %d", id), 1)
		}
		for range batch {
			select {
			case i := <-got:
				if seen[i] {
					t.Fatalf("team %d inserted twice", i)
				}
				seen[i] = true
			case err := <-logged:
				t.Fatalf("the client fell behind: %v", err)
			case <-ctx.Done():
				t.Fatalf("%d of %d teams told to OnInsert", len(seen), id)
			}
		}
	}
	// Every team came; their transactions in commit order (those of this
	// loop's OnTransaction run before the last OnInsert's channel read
	// returns: the callbacks of one update run in one go).
	if _, err := r.DB.Team.Subscribe(ctx, "id = 0"); err != nil {
		t.Fatal(err) // a round trip: every callback before its reply ran
	}
	if len(txs) != batches*batch {
		t.Fatalf("%d transactions, want %d", len(txs), batches*batch)
	}
	for i := 1; i < len(txs); i++ {
		if txs[i] <= txs[i-1] {
			t.Fatalf("transaction %d after %d", txs[i], txs[i-1])
		}
	}
	if now, peak := client.QueuedBytes(r.Conn); peak > limit || now != 0 {
		t.Errorf("the callbacks held %d bytes at most, %d now; want at most %d, then none", peak, now, limit)
	}
}

// TestRequestInsideFullQueue: with the queue at its bound, a callback's
// reducer call gets its result (a reply waited for inside a callback is
// not queued), and its Subscribe, whose rows would be, fails with an
// error matching ErrQueueFull instead of passing the bound or hanging.
func TestRequestInsideFullQueue(t *testing.T) {
	const k = 10
	db := keeltest.Memory(t, srvmod.Module)
	_, px := proxied(t, db)
	r, ctx := dialedWith(t, px, client.Options{})
	if _, err := r.AddPlayer(ctx, srvmod.Player{Name: "p", Team: 1}); err != nil {
		t.Fatal(err)
	}

	proceed := make(chan struct{})
	type outcome struct {
		call, sub error
		held      int64
	}
	done := make(chan outcome, 1)
	r.DB.Team.OnInsert(func(tm srvmod.Team) {
		if tm.ID != 1 {
			return
		}
		select {
		case <-proceed:
		case <-ctx.Done():
			return
		}
		// The hang guard: Close fails a request that would wait forever.
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		stop := context.AfterFunc(cctx, func() { r.Close() })
		defer stop()
		_, call := r.AddPlayer(cctx, srvmod.Player{Name: "q", Team: 2})
		held, _ := client.QueuedBytes(r.Conn)
		_, sub := r.DB.Player.Subscribe(cctx, "")
		done <- outcome{call, sub, held}
	})
	if _, err := r.DB.Team.Subscribe(ctx, ""); err != nil {
		t.Fatal(err)
	}
	producer := srvmod.NewClient(db, "producer")
	for i := uint32(1); i <= k; i++ {
		if err := producer.AddTeam(ctx, i, fmt.Sprintf("team %d", i), 1); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return client.QueuedEvents(r.Conn) == k-1 })
	held, _ := client.QueuedBytes(r.Conn)
	client.SetMaxQueueBytes(r.Conn, held)
	close(proceed)
	var o outcome
	select {
	case o = <-done:
	case <-ctx.Done():
		t.Fatal("the callback never returned")
	}
	if o.call != nil {
		t.Errorf("a call inside a callback with the queue full: %v", o.call)
	}
	if o.held != held {
		t.Errorf("the callbacks held %d bytes after the call, want %d", o.held, held)
	}
	if !errors.Is(o.sub, client.ErrQueueFull) {
		t.Errorf("a Subscribe inside a callback with the queue full: %v, want ErrQueueFull", o.sub)
	}
}

// TestNegativeMaxQueueBytes: Dial refuses a negative bound.
func TestNegativeMaxQueueBytes(t *testing.T) {
	_, px := proxied(t, keeltest.Memory(t, srvmod.Module))
	_, err := client.Dial(context.Background(), "ws://"+px.Addr, client.Options{MaxQueueBytes: -1})
	if !errors.Is(err, client.ErrOptions) {
		t.Fatalf("Dial with MaxQueueBytes -1: %v, want ErrOptions", err)
	}
}
