package client_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keeldb/keel/codec"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
	"github.com/keeldb/keel/server/internal/srvmod/remote"
)

// TestUnsubscribeDuringOneStepResubscribe: two query sets hold the same row,
// which changed while the connection was down. One of them is
// unsubscribed after its SubscribeApplied on the new connection came and
// before the other's: the step that installs the resubscription takes
// its old rows out as the other's new ones come in, so the callbacks see
// one update and the cache never holds two versions of the row.
func TestUnsubscribeDuringOneStepResubscribe(t *testing.T) {
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
	var subs []*client.Subscription
	for _, where := range []string{"score > 50", "team = 2"} {
		subbed := make(chan error, 1)
		go func() {
			sub, err := r.DB.Player.Subscribe(ctx, where)
			subs = append(subs, sub)
			subbed <- err
		}()
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
		events = append(events, fmt.Sprintf("%s (Count %d)", what, n))
	}
	r.DB.Player.OnInsert(func(p srvmod.Player) { seen(fmt.Sprintf("insert %d", p.Score)) })
	r.DB.Player.OnDelete(func(p srvmod.Player) { seen(fmt.Sprintf("delete %d", p.Score)) })
	r.DB.Player.OnUpdate(func(old, nw srvmod.Player) { seen(fmt.Sprintf("update %d->%d", old.Score, nw.Score)) })

	first.CloseNow()
	second := <-s.conns
	reqs, sets := s.subscribes(second, 2)
	s.send(second, applied(reqs[0], sets[0], p(70)))
	unsubbed := make(chan error, 1)
	go func() { unsubbed <- subs[0].Unsubscribe(ctx) }()
	_, b, err := second.Read(ctx) // the Unsubscribe
	if err != nil {
		t.Fatal(err)
	}
	m := codec.NewReader(codec.NewReader(b).Bytes(false))
	if tag := m.Byte(); tag != 18 {
		t.Fatalf("message %d, want an Unsubscribe", tag)
	}
	ureq, uset := m.Uvarint(), m.Uvarint()
	s.send(second, applied(reqs[1], sets[1], p(70)))
	ua := []byte{7} // UnsubscribeApplied
	ua = codec.AppendUvarint(ua, ureq)
	ua = codec.AppendUvarint(ua, uset)
	s.send(second, ua)
	go func() {
		for {
			if _, _, err := second.Read(ctx); err != nil {
				return
			}
		}
	}()
	if err := <-unsubbed; err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 || events[0] != "update 60->70 (Count 1)" {
		t.Errorf("callbacks %q, want one update 60->70 (Count 1)", events)
	}
}
