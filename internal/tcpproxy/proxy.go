// Package tcpproxy is a TCP proxy on loopback for tests that cut a
// client's connections or hold the server's bytes back: the network
// failures Keel's client must survive, made on demand.
package tcpproxy

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy forwards the TCP connections made to Addr to a backend.
type Proxy struct {
	Addr string
	// Held, while set, holds back what the backend sends (the bytes
	// wait in the proxy) until Drop or until it is cleared.
	Held    atomic.Bool
	mu      sync.Mutex
	conns   []net.Conn
	backend string
}

// New starts a proxy to backend (host:port) on a loopback port; it stops
// when the test ends.
func New(t testing.TB, backend string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &Proxy{Addr: ln.Addr().String(), backend: backend}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			backend := p.backend
			p.mu.Unlock()
			b, err := net.Dial("tcp", backend)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, b)
			p.mu.Unlock()
			go func() { io.Copy(b, c); b.Close() }()
			go p.back(c, b)
		}
	}()
	return p
}

// back copies what the backend sends to the client, waiting while Held
// is set.
func (p *Proxy) back(c, b net.Conn) {
	defer c.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := b.Read(buf)
		for p.Held.Load() {
			time.Sleep(time.Millisecond)
		}
		if n > 0 {
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// Retarget sends the connections made from now on to backend
// (host:port): a server that restarted elsewhere, as the client sees it.
func (p *Proxy) Retarget(backend string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.backend = backend
}

// Drop closes every connection made so far, both sides, and clears Held.
func (p *Proxy) Drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.Held.Store(false)
}
