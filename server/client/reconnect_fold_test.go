package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
	"github.com/keeldb/keel/server/internal/srvmod/remote"
)

// script is a server of the binary protocol run by the test, message by
// message: it hands each connection it accepts to conns, after sending
// InitialConnection.
type script struct {
	t     *testing.T
	ctx   context.Context
	conns chan *websocket.Conn
}

func scripted(t *testing.T, ctx context.Context) (*script, string) {
	s := &script{t: t, ctx: ctx, conns: make(chan *websocket.Conn, 4)}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"keel.bin.v1"}})
		if err != nil {
			return
		}
		m := []byte{1}
		m = codec.AppendString(m, "id")
		m = codec.AppendString(m, "token")
		m = codec.AppendUvarint(m, 1)
		m = codec.AppendString(m, "srvmod")
		m = codec.AppendUvarint(m, 1<<20)
		if ws.Write(ctx, websocket.MessageBinary, codec.AppendBytes(nil, m)) != nil {
			return
		}
		s.conns <- ws
		<-ctx.Done()
	}))
	t.Cleanup(hs.Close)
	return s, "ws" + strings.TrimPrefix(hs.URL, "http")
}

// subscribes reads the Subscribes of n query sets from ws and returns
// their request and query set ids, in order.
func (s *script) subscribes(ws *websocket.Conn, n int) (reqs, sets []uint64) {
	for len(reqs) < n {
		_, b, err := ws.Read(s.ctx)
		if err != nil {
			s.t.Fatal(err)
		}
		for d := codec.NewReader(b); d.Offset() < len(b); {
			m := codec.NewReader(d.Bytes(false))
			if tag := m.Byte(); tag != 17 {
				s.t.Fatalf("message %d, want a Subscribe", tag)
			}
			reqs, sets = append(reqs, m.Uvarint()), append(sets, m.Uvarint())
		}
	}
	return reqs, sets
}

// send writes msgs to ws as one frame.
func (s *script) send(ws *websocket.Conn, msgs ...[]byte) {
	var frame []byte
	for _, m := range msgs {
		frame = codec.AppendBytes(frame, m)
	}
	if err := ws.Write(s.ctx, websocket.MessageBinary, frame); err != nil {
		s.t.Fatal(err)
	}
}

// applied is a SubscribeApplied of one query on table player.
func applied(req, set uint64, rows ...srvmod.Player) []byte {
	m := []byte{2}
	m = codec.AppendUvarint(m, req)
	m = codec.AppendUvarint(m, set)
	m = codec.AppendUvarint(m, 1)
	m = codec.AppendString(m, "player")
	m = codec.AppendUvarint(m, uint64(len(rows)))
	for _, p := range rows {
		m = codec.AppendBytes(m, srvmod.PlayerDef.Encode(nil, &p))
	}
	return m
}

// updated is a TransactionUpdate of query set set's one query on table
// player: old leaves, nw enters.
func updated(tx, set uint64, old, nw srvmod.Player) []byte {
	m := []byte{4}
	m = codec.AppendUvarint(m, tx)
	m = codec.AppendTime(m, time.Unix(0, 0))
	m = codec.AppendString(m, "set_score")
	m = codec.AppendString(m, "id")
	m = codec.AppendUvarint(m, 1)
	m = codec.AppendUvarint(m, set)
	m = codec.AppendUvarint(m, 1)
	m = codec.AppendUvarint(m, 0)
	m = codec.AppendString(m, "player")
	m = codec.AppendUvarint(m, 1)
	m = codec.AppendBytes(m, srvmod.PlayerDef.Encode(nil, &old))
	m = codec.AppendUvarint(m, 1)
	return codec.AppendBytes(m, srvmod.PlayerDef.Encode(nil, &nw))
}

// TestResubscribeFoldsUpdates: a TransactionUpdate that comes after the
// first query set's SubscribeApplied of a resubscription, and before the
// second's, changes the first set's new rows, which enter the cache with
// the second's: a row both hold, changed before and during the
// resubscription, reaches the callbacks as one OnUpdate from the version
// cached before the drop to the last one, and the cache never holds two.
func TestResubscribeFoldsUpdates(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, url := scripted(t, ctx)
	r, err := remote.Dial(ctx, url, client.Options{MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	first := <-s.conns
	p := func(score int64) srvmod.Player {
		return srvmod.Player{ID: 1, Name: "ann", Team: 2, Score: score, At: time.Unix(0, 0).UTC()}
	}
	for _, where := range []string{"score > 50", "team = 2"} {
		subbed := make(chan error, 1)
		go func() { _, err := r.DB.Player.Subscribe(ctx, where); subbed <- err }()
		reqs, sets := s.subscribes(first, 1)
		s.send(first, applied(reqs[0], sets[0], p(60)))
		if err := <-subbed; err != nil {
			t.Fatal(err)
		}
	}

	var mu sync.Mutex
	var events []string
	seen := func(what string) {
		n := r.DB.Player.Count()
		mu.Lock()
		defer mu.Unlock()
		events = append(events, what)
		if n != 1 {
			t.Errorf("during %s: Count %d, want 1", what, n)
		}
	}
	r.DB.Player.OnInsert(func(p srvmod.Player) { seen(fmt.Sprintf("insert %d", p.Score)) })
	r.DB.Player.OnDelete(func(p srvmod.Player) { seen(fmt.Sprintf("delete %d", p.Score)) })
	r.DB.Player.OnUpdate(func(old, nw srvmod.Player) { seen(fmt.Sprintf("update %d->%d", old.Score, nw.Score)) })
	resubscribed := make(chan struct{}, 1)
	client.SetAfterResubscribe(r.Conn, func() { resubscribed <- struct{}{} })

	first.CloseNow()
	second := <-s.conns
	reqs, sets := s.subscribes(second, 2)
	s.send(second, applied(reqs[0], sets[0], p(70)))
	s.send(second, updated(1, sets[0], p(70), p(80)))
	s.send(second, applied(reqs[1], sets[1], p(80)))
	go func() { // answers the client's close at the end
		for {
			if _, _, err := second.Read(ctx); err != nil {
				return
			}
		}
	}()
	select {
	case <-resubscribed:
	case <-ctx.Done():
		t.Fatal("the query sets were never subscribed again")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 || events[0] != "update 60->80" {
		t.Errorf("callbacks %q, want one update 60->80", events)
	}
	for q := range r.DB.Player.All() {
		if q.Score != 80 {
			t.Errorf("cached score %d, want 80", q.Score)
		}
	}
}
