package server_test

import (
	"strings"
	"testing"

	"github.com/keeldb/keel/server"
)

func TestJSONBasics(t *testing.T) {
	f := newFixture(t, false, server.Options{})
	c := f.dialJSON(t, "")
	ic := c.expect("InitialConnection")
	if ic.str("identity") == "" || ic.str("token") == "" {
		t.Fatalf("InitialConnection %s", ic.raw)
	}
	c.send(`{"CallReducer":{"request_id":1,"reducer":"AddTeam","args":{"id":7,"name":"red","grp":1}}}`)
	r := c.expect("ReducerResult")
	if string(r.body["ok"]) != "true" {
		t.Fatalf("%s", r.raw)
	}
	c.send(`{"Subscribe":{"request_id":2,"query_set_id":1,"queries":["SELECT * FROM team"]}}`)
	sa := c.expect("SubscribeApplied")
	if !strings.Contains(string(sa.raw), `"red"`) {
		t.Fatalf("%s", sa.raw)
	}
	c.send(`{"CallReducer":{"request_id":3,"reducer":"AddTeam","args":[8,"blue",2]}}`)
	tu := c.expect("TransactionUpdate")
	if !strings.Contains(string(tu.raw), `"blue"`) {
		t.Fatalf("%s", tu.raw)
	}
	r = c.expect("ReducerResult")
	if r.num("request_id") != 3 {
		t.Fatalf("%s", r.raw)
	}
}
