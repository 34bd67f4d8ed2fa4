package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
	"github.com/keeldb/keel/server/internal/srvmod/remote"
)

// TestClientFramesFitMaxMessageBytes: the Go client puts the calls
// waiting to be written into frames no larger than the server reads
// (Options.MaxMessageBytes), however many are waiting: each call fits,
// so none is refused and the connection stays.
func TestClientFramesFitMaxMessageBytes(t *testing.T) {
	f := newFixture(t, false, server.Options{MaxMessageBytes: 64 << 10})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := remote.Dial(ctx, f.url, client.Options{NoReconnect: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const n = 2000 // about 2 MB of calls of 1 KB, submitted at once
	var waits []func() error
	for range n {
		fu := r.Go().AddPlayer(ctx, srvmod.Player{Name: strings.Repeat("x", 1000)})
		waits = append(waits, func() error { _, err := fu.Wait(ctx); return err })
	}
	for i, w := range waits {
		if err := w(); err != nil {
			t.Fatalf("call %d of %d: %v", i, n, err)
		}
	}
}
