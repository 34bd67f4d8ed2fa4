package client_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/server/client"
	"github.com/keeldb/keel/server/internal/srvmod"
)

// TestRemoteErrorOnePrefix: the errors the server reports for a query,
// a Subscribe and a reducer are *RemoteError with the request and the
// position in the query, and their messages have exactly one "keel:"
// prefix.
func TestRemoteErrorOnePrefix(t *testing.T) {
	db := keeltest.Memory(t, srvmod.Module)
	_, px := proxied(t, db)
	r, ctx := dialed(t, px)
	_, qerr := r.Query(ctx, "SELECT * FROM team WHERE nope = 1")
	_, serr := r.Conn.Subscribe(ctx, "SELECT * FROM team", "SELECT * FROM nope")
	ferr := r.Fail(ctx, "why")
	for _, c := range []struct {
		err          error
		request      string
		offset, line int
		column       int
	}{
		{qerr, "query", 25, 1, 26},
		{serr, `subscribe "SELECT * FROM nope"`, 14, 1, 15},
		{ferr, "reducer Fail", -1, 0, 0},
	} {
		var re *client.RemoteError
		if !errors.As(c.err, &re) {
			t.Errorf("%v: not a *RemoteError", c.err)
			continue
		}
		if re.Request != c.request || re.Offset != c.offset || re.Line != c.line || re.Column != c.column {
			t.Errorf("%v: request %q at %d (%d:%d), want %q at %d (%d:%d)", c.err, re.Request, re.Offset, re.Line, re.Column, c.request, c.offset, c.line, c.column)
		}
		if msg := c.err.Error(); !strings.HasPrefix(msg, "keel: ") || strings.Count(msg, "keel:") != 1 {
			t.Errorf("%q: want exactly one keel: prefix", msg)
		}
	}
}
