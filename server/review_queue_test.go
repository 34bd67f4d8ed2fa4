package server_test

import (
	"context"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
	"github.com/keeldb/keel/server/internal/srvmod/remote"
)

// gate holds the writes of the server's side of its connections once
// armed: a write then tells held and waits for open, so that a test
// knows the writer took a batch and is stuck writing it, with no socket
// buffer in between.
type gate struct {
	mu    sync.Mutex
	armed bool
	held  chan struct{}
	open  chan struct{}
}

func (g *gate) arm() {
	g.mu.Lock()
	g.armed, g.held, g.open = true, make(chan struct{}, 1), make(chan struct{})
	g.mu.Unlock()
}

func (g *gate) release() {
	g.mu.Lock()
	g.armed = false
	close(g.open)
	g.mu.Unlock()
}

type gateListener struct {
	net.Listener
	g *gate
}

func (l gateListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return gateConn{c, l.g}, nil
}

type gateConn struct {
	net.Conn
	g *gate
}

func (c gateConn) Write(b []byte) (int, error) {
	c.g.mu.Lock()
	armed, held, open := c.g.armed, c.g.held, c.g.open
	c.g.mu.Unlock()
	if armed {
		select {
		case held <- struct{}{}:
		default:
		}
		<-open
	}
	return c.Conn.Write(b)
}

// newGatedFixture is newFixture (in memory) with the server's writes
// going through g.
func newGatedFixture(t *testing.T, g *gate, opts server.Options) *fixture {
	t.Helper()
	db := keeltest.Memory(t, srvmod.Module)
	srv, err := server.New(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewUnstartedServer(srv)
	hs.Listener = gateListener{hs.Listener, g}
	hs.Start()
	t.Cleanup(func() {
		g.mu.Lock()
		if g.armed {
			g.armed = false
			close(g.open)
		}
		g.mu.Unlock()
		hs.CloseClientConnections()
		hs.Close()
	})
	return &fixture{db: db, srv: srv, hs: hs, url: "ws" + strings.TrimPrefix(hs.URL, "http")}
}

// outboxWhen waits until srv's one connection's outbound queue is as ok
// says (the timeout is a hang guard only).
func outboxWhen(t *testing.T, srv *server.Server, ok func(bytes int, waiting, overflow bool) bool) (int, bool, bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, w, o, one := server.OutboxOf(srv)
		if one && ok(b, w, o) {
			return b, w, o
		}
		if time.Now().After(deadline) {
			t.Fatalf("outbound queue never got there: bytes %d, waiting %v, overflow %v, one connection %v", b, w, o, one)
		}
		time.Sleep(time.Millisecond)
	}
}

func addPlayerCall(id int, name string) string {
	return `{"CallReducer":{"request_id":` + strconv.Itoa(id) + `,"reducer":"AddPlayer","args":{"p":{"id":0,"name":"` + name + `","team":1,"score":0,"big":"0","active":true,"ratio":0,"key":"","at":"2026-01-02T03:04:05Z","tags":[]}}}}`
}

// TestReviewQueueCountsWriting: the bytes of the messages the writer took
// but has not written yet count toward MaxQueueBytes, so that a
// connection never holds more than the bound: with a result of about
// 5 KB being written (the client does not read it), a second one is past
// a bound of 8 KB and disconnects the client with 1008 once the first
// is written.
func TestReviewQueueCountsWriting(t *testing.T) {
	const bound = 8 << 10
	g := &gate{}
	f := newGatedFixture(t, g, server.Options{MaxQueueBytes: bound})
	c := f.dialJSON(t, "")
	c.expect("InitialConnection")
	outboxWhen(t, f.srv, func(b int, w, o bool) bool { return b == 0 && !w })

	name := strings.Repeat("n", 5000)
	g.arm()
	c.send(addPlayerCall(1, name))
	<-g.held // the writer took the first result and is writing it
	held, _, _ := outboxWhen(t, f.srv, func(b int, w, o bool) bool { return true })
	if held <= 5000 || held > bound {
		t.Errorf("the connection counts %d bytes while a result of over 5000 is being written, want that result's size (at most %d)", held, bound)
	}
	c.send(addPlayerCall(2, name))
	// The second result was queued, or overflowed the queue.
	_, _, over := outboxWhen(t, f.srv, func(b int, w, o bool) bool { return w || o })
	if !over {
		b, _, _, _ := server.OutboxOf(f.srv)
		t.Errorf("the connection holds %d bytes with a bound of %d and did not overflow", b, bound)
	}
	g.release()
	if r := c.expect("ReducerResult"); !strings.Contains(string(r.raw), name) {
		t.Fatalf("%.200s", r.raw)
	}
	if m, err := c.tryNext(10 * time.Second); websocket.CloseStatus(err) != websocket.StatusPolicyViolation {
		t.Fatalf("after the first result: %s %.100s, %v; want close 1008", m.typ, m.raw, err)
	}
}

// TestReviewQueueOneLargeMessage: a message larger than MaxQueueBytes
// that comes when the connection holds nothing else is sent, to a client
// that reads what it is sent: a reducer's result and a subscription's
// initial rows, both larger than the bound.
func TestReviewQueueOneLargeMessage(t *testing.T) {
	const bound = 16 << 10
	g := &gate{}
	f := newGatedFixture(t, g, server.Options{MaxQueueBytes: bound})
	c := f.dialJSON(t, "")
	c.expect("InitialConnection")
	outboxWhen(t, f.srv, func(b int, w, o bool) bool { return b == 0 && !w })

	name := strings.Repeat("n", 4*bound)
	c.send(addPlayerCall(1, name))
	if r := c.expect("ReducerResult"); !strings.Contains(string(r.raw), name) {
		t.Fatalf("%.200s", r.raw)
	}
	outboxWhen(t, f.srv, func(b int, w, o bool) bool { return b == 0 && !w })
	c.send(`{"Subscribe":{"request_id":2,"query_set_id":1,"queries":["SELECT * FROM player"]}}`)
	if m := c.expect("SubscribeApplied"); !strings.Contains(string(m.raw), name) {
		t.Fatalf("%.200s", m.raw)
	}
	if _, _, over := outboxWhen(t, f.srv, func(b int, w, o bool) bool { return true }); over {
		t.Fatal("the queue overflowed")
	}
}

// TestReviewQueueOneLargeMessageBinary: the same in the binary encoding,
// where each message is queued with its length: the count comes back to
// 0 once everything is written, so a large message after others is sent
// too.
func TestReviewQueueOneLargeMessageBinary(t *testing.T) {
	const bound = 16 << 10
	f := newFixture(t, false, server.Options{MaxQueueBytes: bound})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := remote.Dial(ctx, f.url, client.Options{NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	name := strings.Repeat("n", 4*bound)
	for i := range 3 {
		outboxWhen(t, f.srv, func(b int, w, o bool) bool { return b == 0 && !w })
		p, err := r.AddPlayer(ctx, srvmod.Player{Name: name[i:]})
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != name[i:] {
			t.Fatalf("result %d: a name of %d bytes, want %d", i, len(p.Name), len(name[i:]))
		}
	}
	outboxWhen(t, f.srv, func(b int, w, o bool) bool { return b == 0 && !w })
	if _, err := r.DB.Player.Subscribe(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if n := r.DB.Player.Count(); n != 3 {
		t.Fatalf("%d players, want 3", n)
	}
}
