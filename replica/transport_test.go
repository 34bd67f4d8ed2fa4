package replica_test

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/keeldb/keel/internal/keeltest"
	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/replica"
	"github.com/keeldb/keel/table"
	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// TestTransportWrongNode: a node's /raft takes only the messages
// addressed to it. A message for another node (a peer's address that
// now belongs to another member) is refused: stepped, it would make the
// node act on another's state (a heartbeat's commit index is the
// addressee's, past this node's log, which makes raft panic).
func TestTransportWrongNode(t *testing.T) {
	m := testmod.New(table.SeqParams[uint64]{Batch: 4})
	tr := replica.NewHTTPTransport()
	nd, err := replica.Open(replica.Config{ID: 3, Dir: filepath.Join(t.TempDir(), "n3"), Module: keeltest.Module(m),
		Transport: tr, Join: true, Tick: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer nd.Close()
	srv := httptest.NewServer(replica.Handler(nd))
	defer srv.Close()
	post := func(msg *pb.Message) int {
		b, err := proto.Marshal(msg)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(srv.URL+"/raft", "application/octet-stream", bytes.NewReader(append(binary.AppendUvarint(nil, uint64(len(b))), b...)))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	heartbeat := func(to, term uint64) *pb.Message {
		return &pb.Message{Type: pb.MsgHeartbeat.Enum(), From: new(uint64(1)), To: new(to), Term: new(term)}
	}
	if code := post(heartbeat(2, 5)); code == http.StatusNoContent {
		t.Errorf("a message for node 2 posted to node 3: %d, want it refused", code)
	}
	if code := post(heartbeat(3, 2)); code != http.StatusNoContent {
		t.Fatalf("a message for node 3: %d", code)
	}
	// The messages are stepped in the order they came: once the second
	// is, the first was (or was never handed over).
	for nd.Status().Term < 2 {
		time.Sleep(5 * time.Millisecond)
	}
	if s := nd.Status(); s.Term != 2 {
		t.Fatalf("node 3 is at term %d after a heartbeat of term 2 for it and one of term 5 for node 2", s.Term)
	}
}
