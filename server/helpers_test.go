package server_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/keeldb/keel"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/internal/srvmod"
)

// fixture is a database of srvmod served over a loopback HTTP server.
type fixture struct {
	db  *keel.DB
	srv *server.Server
	hs  *httptest.Server
	url string
}

func newFixture(t testing.TB, durable bool, opts server.Options) *fixture {
	t.Helper()
	var db *keel.DB
	if durable {
		db = keeltest.Open(t, t.TempDir(), srvmod.Module, keel.Options{})
	} else {
		db = keeltest.Memory(t, srvmod.Module)
	}
	srv, err := server.New(db, opts)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	f := &fixture{db: db, srv: srv, hs: hs, url: "ws" + strings.TrimPrefix(hs.URL, "http")}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		hs.Close()
	})
	return f
}

// jclient speaks the JSON protocol.
type jclient struct {
	t     testing.TB
	ws    *websocket.Conn
	queue []msg
}

// msg is one server message: its type and body.
type msg struct {
	typ  string
	body map[string]json.RawMessage
	raw  json.RawMessage
}

func (f *fixture) dialJSON(t testing.TB, token string) *jclient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	u := f.url
	if token != "" {
		u += "?token=" + token
	}
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: []string{server.ProtocolJSON}})
	if err != nil {
		t.Fatal(err)
	}
	ws.SetReadLimit(64 << 20)
	c := &jclient{t: t, ws: ws}
	t.Cleanup(func() { ws.CloseNow() })
	return c
}

func (c *jclient) send(frame string) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(frame)); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next message, reading a frame when none is queued.
func (c *jclient) next() msg {
	c.t.Helper()
	m, err := c.tryNext(10 * time.Second)
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

func (c *jclient) tryNext(d time.Duration) (msg, error) {
	for len(c.queue) == 0 {
		ctx, cancel := context.WithTimeout(context.Background(), d)
		typ, b, err := c.ws.Read(ctx)
		cancel()
		if err != nil {
			return msg{}, err
		}
		if typ != websocket.MessageText {
			c.t.Fatalf("a binary frame on a JSON connection")
		}
		var arr []map[string]json.RawMessage
		if err := json.Unmarshal(b, &arr); err != nil {
			c.t.Fatalf("frame %s: %v", b, err)
		}
		for _, m := range arr {
			for k, v := range m {
				var body map[string]json.RawMessage
				if err := json.Unmarshal(v, &body); err != nil {
					c.t.Fatalf("message %s: %v", v, err)
				}
				c.queue = append(c.queue, msg{typ: k, body: body, raw: v})
			}
		}
	}
	m := c.queue[0]
	c.queue = c.queue[1:]
	return m, nil
}

// expect returns the next message, which must be of type typ.
func (c *jclient) expect(typ string) msg {
	c.t.Helper()
	m := c.next()
	if m.typ != typ {
		c.t.Fatalf("got %s %s, want %s", m.typ, m.raw, typ)
	}
	return m
}

func (m msg) str(k string) string {
	var s string
	json.Unmarshal(m.body[k], &s)
	return s
}

func (m msg) num(k string) float64 {
	var n float64
	json.Unmarshal(m.body[k], &n)
	return n
}

var _ = codec.KindBool
