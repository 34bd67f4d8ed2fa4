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
