package client_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
	"github.com/keeldb/keel/server/internal/srvmod/remote"
)

// TestCloseDuringRedial: Close while the client is dialing again after
// a drop ends that dial: the connection it was making is closed, never
// kept open after Close, even when the server answers it after.
func TestCloseDuringRedial(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	_, backend := served(t, db)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// The first connection goes through; the second, once its handshake
	// request is in, waits in held until released, then goes through
	// too; ended tells when the client closed it.
	first := make(chan net.Conn, 1)
	held := make(chan net.Conn, 1)
	release := make(chan struct{})
	ended := make(chan struct{})
	pipe := func(c net.Conn, read []byte, done chan struct{}) {
		b, err := net.Dial("tcp", backend)
		if err != nil {
			c.Close()
			return
		}
		go func() { io.Copy(c, b); c.Close() }()
		b.Write(read)
		io.Copy(b, c)
		b.Close()
		if done != nil {
			close(done)
		}
	}
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		first <- c
		go pipe(c, nil, nil)
		c, err = ln.Accept()
		if err != nil {
			return
		}
		var read []byte
		buf := make([]byte, 4096)
		for !bytes.Contains(read, []byte("\r\n\r\n")) {
			n, err := c.Read(buf)
			read = append(read, buf[:n]...)
			if err != nil {
				break
			}
		}
		held <- c
		<-release
		pipe(c, read, ended)
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := remote.Dial(ctx, "ws://"+ln.Addr().String(), client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	(<-first).Close()
	<-held // dialing again
	r.Close()
	close(release)
	select {
	case <-ended:
	case <-ctx.Done():
		t.Fatal("the connection dialed while Close ran is still open")
	}
}

// TestUnsubscribeWhileDisconnected: Unsubscribe while the connection is
// down ends the subscription (the server dropped its query set with the
// connection, and it is not subscribed again): it succeeds and the rows
// leave the cache.
func TestUnsubscribeWhileDisconnected(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	_, backend := served(t, db)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	// The first connection goes through; later ones are closed at once.
	first := make(chan net.Conn, 1)
	go func() {
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if n > 0 {
				c.Close()
				continue
			}
			first <- c
			b, err := net.Dial("tcp", backend)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(c, b); c.Close() }()
			go func() { io.Copy(b, c); b.Close() }()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := remote.Dial(ctx, "ws://"+ln.Addr().String(), client.Options{MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if err := r.AddTeam(ctx, 1, "red", 1); err != nil {
		t.Fatal(err)
	}
	s, err := r.DB.Team.Subscribe(ctx, "")
	if err != nil || r.DB.Team.Count() != 1 {
		t.Fatalf("Subscribe: %v, %d teams", err, r.DB.Team.Count())
	}
	(<-first).Close()
	waitFor(t, func() bool { return !client.Connected(r.Conn) })
	if err := s.Unsubscribe(ctx); err != nil {
		t.Errorf("Unsubscribe while disconnected: %v, want nil", err)
	}
	if n := r.DB.Team.Count(); n != 0 {
		t.Errorf("the cache holds %d teams after Unsubscribe", n)
	}
}
