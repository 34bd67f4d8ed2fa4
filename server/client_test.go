package server_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/tcpproxy"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
	"github.com/keeldb/keel/server/internal/srvmod/remote"
)

// TestGoClient: the generated Remote calls reducers with typed results,
// mirrors subscribed rows with callbacks applied per transaction, and
// keeps its identity across connections with its token.
func TestGoClient(t *testing.T) {
	f := newFixture(t, true, server.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := remote.Dial(ctx, f.url, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var mu sync.Mutex
	var events []string
	r.DB.Player.OnInsert(func(p srvmod.Player) { mu.Lock(); events = append(events, "insert "+p.Name); mu.Unlock() })
	r.DB.Player.OnUpdate(func(o, n srvmod.Player) { mu.Lock(); events = append(events, "update "+n.Name); mu.Unlock() })
	r.DB.Player.OnDelete(func(p srvmod.Player) { mu.Lock(); events = append(events, "delete "+p.Name); mu.Unlock() })
	if _, err := r.DB.Player.Subscribe(ctx, "score >= 10"); err != nil {
		t.Fatal(err)
	}
	p, err := r.AddPlayer(ctx, srvmod.Player{Name: "ada", Score: 12, Big: 1<<60 + 1, Tags: []string{"x"}})
	if err != nil {
		t.Fatal(err)
	}
	if p.ID == 0 || p.Big != 1<<60+1 {
		t.Fatalf("AddPlayer returned %+v", p)
	}
	if r.DB.Player.Count() != 1 {
		t.Fatalf("the cache holds %d players once the call returned, want 1", r.DB.Player.Count())
	}
	if _, err := r.SetScore(ctx, p.ID, 20); err != nil {
		t.Fatal(err)
	}
	if _, err := r.SetScore(ctx, p.ID, 1); err != nil {
		t.Fatal(err)
	}
	id, err := r.WhoAmI(ctx)
	if err != nil || id != string(r.Identity()) {
		t.Fatalf("WhoAmI = %q, %v; identity %q", id, err, r.Identity())
	}
	err = r.Fail(ctx, "no luck")
	var re *client.RemoteError
	if !errors.As(err, &re) || re.Msg != "no luck" {
		t.Fatalf("Fail: %v", err)
	}
	mu.Lock()
	got := append([]string(nil), events...)
	mu.Unlock()
	want := []string{"insert ada", "update ada", "delete ada"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("callbacks %v, want %v", got, want)
	}
	// Many calls in flight finish in order.
	var fs []func() error
	for i := range 200 {
		fu := r.Go().AddTeam(ctx, uint32(100+i), "t"+string(rune('a'+i%26))+string(rune('a'+i/26)), int32(i))
		fs = append(fs, func() error { _, err := fu.Wait(ctx); return err })
	}
	for _, w := range fs {
		if err := w(); err != nil {
			t.Fatal(err)
		}
	}
	// The token keeps the identity.
	r2, err := remote.Dial(ctx, f.url, client.Options{Token: r.Token()})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if r2.Identity() != r.Identity() {
		t.Fatalf("identity %q with the token, want %q", r2.Identity(), r.Identity())
	}
	res, err := r2.Query(ctx, "SELECT COUNT(*) FROM team")
	if err != nil || len(res.Rows) != 1 || res.Rows[0][0].Uint() != 200 {
		t.Fatalf("count: %+v, %v", res, err)
	}
}

// TestReconnect: when the connection drops, the client dials again with
// its token, keeps its identity, subscribes again and its cache follows
// what changed meanwhile.
func TestReconnect(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var logs strings.Builder
	px := tcpproxy.New(t, strings.TrimPrefix(f.url, "ws://"))
	r, err := remote.Dial(ctx, "ws://"+px.Addr, client.Options{Logger: slog.New(slog.NewTextHandler(&syncWriter{w: &logs}, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	id := r.Identity()
	if _, err := r.DB.Team.Subscribe(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := r.AddTeam(ctx, 1, "red", 1); err != nil {
		t.Fatal(err)
	}
	px.Drop()
	other, err := remote.Dial(ctx, f.url, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.AddTeam(ctx, 2, "blue", 1); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return r.DB.Team.Count() == 2 })
	if r.Identity() != id {
		t.Fatalf("identity %q after reconnecting, want %q", r.Identity(), id)
	}
	var err2 error
	waitFor(t, func() bool { err2 = r.AddTeam(ctx, 3, "green", 1); return err2 == nil })
	waitFor(t, func() bool { return r.DB.Team.Count() == 3 })
	if !strings.Contains(logs.String(), "dialing again") {
		t.Fatalf("the connection never dropped: %s", logs.String())
	}
	// A call whose result the drop cuts off fails with ErrDisconnected,
	// though it ran.
	px.Held.Store(true)
	errc := make(chan error, 1)
	go func() { errc <- r.AddTeam(ctx, 4, "cut", 1) }()
	waitFor(t, func() bool {
		v, err := f.db.View(ctx)
		if err != nil {
			t.Fatal(err)
		}
		_, ran := srvmod.ViewOf(v).Team().Find(4)
		return ran
	})
	px.Drop()
	if err := <-errc; !errors.Is(err, client.ErrDisconnected) {
		t.Fatalf("a call in flight at the drop: %v, want ErrDisconnected", err)
	}
}

type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(b)
}
