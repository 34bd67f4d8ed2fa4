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
