package server

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// serveTest serves srv on a loopback port.
func serveTest(t testing.TB, srv *Server) (url string, stop func()) {
	hs := httptest.NewServer(srv)
	return "ws" + strings.TrimPrefix(hs.URL, "http"), hs.Close
}

// SetDrainHooks makes srv run beforeRows before each query set's initial
// rows are read, and drained after its evaluator handled the drain of a
// connection at Shutdown. Call it before the first connection.
func SetDrainHooks(srv *Server, beforeRows, drained func()) {
	srv.ev.beforeRows, srv.ev.drained = beforeRows, drained
}

// ReaderWaits reports whether the reader of srv's one connection waits
// for room in its in-flight bound (Options.MaxInFlight). ok is false
// unless srv has exactly one connection.
func ReaderWaits(srv *Server) (waits, ok bool) {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if len(srv.conns) != 1 {
		return false, false
	}
	for c := range srv.conns {
		waits = c.sem.waiting.Load()
	}
	return waits, true
}

// SetFrameHook makes srv run framed after a connection's reader handled
// a frame, before a drain can take the connection. Call it before the
// first connection.
func SetFrameHook(srv *Server, framed func()) {
	srv.ev.framed = framed
}
