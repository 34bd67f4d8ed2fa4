package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
	"github.com/keeldb/keel/server/internal/srvmod/remote"
)

// TestSoak: 1,000 connections on loopback, each subscribed to its own
// player's row, each updating it; every connection sees its own updates
// and no one else's, and the server ends with no connection.
func TestSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test")
	}
	const conns = 1000
	f := newFixture(t, false, server.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	seed, err := remote.Dial(ctx, f.url, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	var fs []func() (srvmod.Player, error)
	for i := range conns {
		fu := seed.Go().AddPlayer(ctx, srvmod.Player{Name: fmt.Sprint("p", i)})
		fs = append(fs, func() (srvmod.Player, error) { return fu.Wait(ctx) })
	}
	for _, w := range fs {
		p, err := w()
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, p.ID)
	}
	seed.Close()
	remotes := make([]*remote.Remote, conns)
	var wg sync.WaitGroup
	var failed atomic.Int32
	sem := make(chan struct{}, 50)
	for i := range conns {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			r, err := remote.Dial(ctx, f.url, client.Options{NoReconnect: true})
			if err != nil {
				t.Error(err)
				failed.Add(1)
				return
			}
			if _, err := r.DB.Player.Subscribe(ctx, fmt.Sprint("id = ", ids[i])); err != nil {
				t.Error(err)
				failed.Add(1)
			}
			remotes[i] = r
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.FailNow()
	}
	if st := f.srv.Stats(); st.Connections != conns || st.Queries != conns {
		t.Fatalf("stats %+v", st)
	}
	for i, r := range remotes {
		wg.Go(func() {
			for round := range 3 {
				if _, err := r.SetScore(ctx, ids[i], int64(round+1)); err != nil {
					t.Error(err)
					return
				}
				var got []int64
				for p := range r.DB.Player.All() {
					got = append(got, p.Score)
				}
				if len(got) != 1 || got[0] != int64(round+1) {
					t.Errorf("connection %d round %d holds scores %v", i, round, got)
					return
				}
			}
		})
	}
	wg.Wait()
	for _, r := range remotes {
		r.Close()
	}
	waitFor(t, func() bool { return f.srv.Stats() == server.Stats{} })
}

// TestSlowClient: a client that stops reading is disconnected once its
// outbound queue overflows, while the writer and another subscriber go
// on at full speed.
func TestSlowClient(t *testing.T) {
	f := newFixture(t, false, server.Options{MaxQueueBytes: 1 << 20})
	slow := f.dialJSON(t, "")
	slow.expect("InitialConnection")
	slow.send(`{"Subscribe":{"request_id":1,"query_set_id":1,"queries":["SELECT * FROM player"]}}`)
	slow.expect("SubscribeApplied")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	fast, err := remote.Dial(ctx, f.url, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fast.Close()
	if _, err := fast.DB.Player.Subscribe(ctx, ""); err != nil {
		t.Fatal(err)
	}
	// The slow client reads nothing from here on.
	start := time.Now()
	const n = 3000
	var fs []func() error
	for i := range n {
		fu := fast.Go().AddPlayer(ctx, srvmod.Player{Name: fmt.Sprintf("player-%05d-%s", i, string(make([]byte, 1000)))})
		fs = append(fs, func() error { _, err := fu.Wait(ctx); return err })
		if len(fs) == 100 { // 100 calls in flight
			if err := fs[0](); err != nil {
				t.Fatal(err)
			}
			fs = fs[1:]
		}
	}
	for _, w := range fs {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	if fast.DB.Player.Count() != n {
		t.Fatalf("the fast subscriber holds %d rows, want %d", fast.DB.Player.Count(), n)
	}
	t.Logf("%d calls with a stalled subscriber in %v", n, time.Since(start))
	// The slow one was cut off: reading now ends in a close (1008) after
	// whatever was in the socket's buffers.
	for {
		_, err := slow.tryNext(10 * time.Second)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
				t.Fatalf("the stalled client ended with %v, want close 1008", err)
			}
			break
		}
	}
}

// TestShutdownDrains: Shutdown lets the calls in flight finish and their
// results reach the client before it closes the connection with 1001.
func TestShutdownDrains(t *testing.T) {
	f := newFixture(t, true, server.Options{})
	c := f.dialJSON(t, "")
	c.expect("InitialConnection")
	const n = 200
	frame := "["
	for i := range n {
		if i > 0 {
			frame += ","
		}
		frame += fmt.Sprintf(`{"CallReducer":{"request_id":%d,"reducer":"AddTeam","args":[%d,"t%d",1]}}`, i+1, i+1, i)
	}
	c.send(frame + "]")
	first := c.expect("ReducerResult") // the frame is being handled
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- f.srv.Shutdown(ctx) }()
	got := 1
	_ = first
	for {
		m, err := c.tryNext(10 * time.Second)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusGoingAway {
				t.Fatalf("closed with %v, want 1001", err)
			}
			break
		}
		if m.typ == "ReducerResult" {
			if string(m.body["ok"]) != "true" && !containsStr(m.str("error"), "shutting down") {
				t.Fatalf("%s", m.raw)
			}
			got++
		}
	}
	if got != n {
		t.Fatalf("%d results before the close, want %d", got, n)
	}
	// The connection closed: Shutdown has begun, and refuses new ones.
	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer dcancel()
	if _, resp, err := websocket.Dial(dctx, f.url, nil); err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a connection during Shutdown: %v (%v), want 503", err, resp)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	runtime.Gosched()
}

func containsStr(s, sub string) bool { return strings.Contains(s, sub) }

// TestIdleConnectionGoroutines: an idle connection, subscribed and
// caught up, keeps one goroutine of the server's (its reader): its
// writer runs only while something is queued for it, and ServeHTTP has
// returned, net/http's goroutine with it. The clients here start none.
func TestIdleConnectionGoroutines(t *testing.T) {
	const conns = 50
	f := newFixture(t, false, server.Options{})
	base := runtime.NumGoroutine()
	for i := range conns {
		c := f.dialJSON(t, "")
		c.expect("InitialConnection")
		c.send(fmt.Sprintf(`{"Subscribe":{"request_id":1,"query_set_id":%d,"queries":["SELECT * FROM player"]}}`, i))
		c.expect("SubscribeApplied")
	}
	// The writers end once their last frame is written: wait for them.
	var n int
	for range 200 {
		if n = runtime.NumGoroutine() - base; n <= conns+conns/10 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%d idle connections keep %d goroutines, want about one each", conns, n)
}

// TestServeHTTPReturns: ServeHTTP returns once the connection is
// upgraded, and the connection goes on being served; Shutdown still
// waits for it.
func TestServeHTTPReturns(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	srv, err := server.New(db, server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	returned := make(chan struct{}, 1)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv.ServeHTTP(w, r)
		returned <- struct{}{}
	}))
	defer hs.Close()
	f := &fixture{db: db, srv: srv, hs: hs, url: "ws" + strings.TrimPrefix(hs.URL, "http")}
	c := f.dialJSON(t, "")
	c.expect("InitialConnection")
	select {
	case <-returned:
	case <-time.After(10 * time.Second):
		t.Fatal("ServeHTTP did not return after the handshake")
	}
	c.send(`{"OneOffQuery":{"request_id":7,"query":"SELECT * FROM player"}}`)
	if m := c.expect("OneOffQueryResult"); m.num("request_id") != 7 {
		t.Fatalf("OneOffQueryResult %s", m.raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	go func() { // answer the server's close
		for {
			if _, _, err := c.ws.Read(ctx); err != nil {
				return
			}
		}
	}()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if st := srv.Stats(); st.Connections != 0 {
		t.Fatalf("after Shutdown: %d connections", st.Connections)
	}
}
