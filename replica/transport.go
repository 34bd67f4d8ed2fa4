package replica

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	pb "go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// Transport carries raft messages between nodes. Send must not block: a
// message that cannot be delivered is dropped (raft sends again), and
// the transport tells the node (Node.Unreachable, Node.SnapshotSent).
type Transport interface {
	// Start hands the transport the node it delivers received messages
	// to (Node.Step).
	Start(n *Node)
	AddPeer(id uint64, addr string)
	RemovePeer(id uint64)
	Send(msgs []*pb.Message)
	Stop()
}

// report is a transport's news for the raft loop.
type report struct {
	to   uint64
	snap bool // a snapshot was sent (ok) or failed
	ok   bool
}

// Unreachable tells the node that a message to id could not be sent.
func (n *Node) Unreachable(id uint64) {
	select {
	case n.reportc <- report{to: id}:
	default:
	}
}

// SnapshotSent tells the node whether the snapshot it sent to id arrived.
func (n *Node) SnapshotSent(id uint64, ok bool) {
	select {
	case n.reportc <- report{to: id, snap: true, ok: ok}:
	case <-n.stopc:
	}
}

// HTTPTransport carries raft messages over HTTP: each peer has a queue
// and a goroutine that POSTs what is queued, length-prefixed protobuf
// messages, to the peer's /raft. Serve its Handler at /raft on the
// node's address. SetPartitioned makes it drop all traffic, both ways:
// the fault tests' partition.
type HTTPTransport struct {
	client *http.Client
	mu     sync.Mutex
	peers  map[uint64]*httpPeer
	node   *Node
	cut    atomic.Bool
}

type httpPeer struct {
	t    *HTTPTransport
	id   uint64
	addr string
	ch   chan *pb.Message
	stop chan struct{}
}

// NewHTTPTransport returns a transport with no peers yet.
func NewHTTPTransport() *HTTPTransport {
	return &HTTPTransport{peers: map[uint64]*httpPeer{}, client: &http.Client{Timeout: 10 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}}}
}

// SetPartitioned cuts the node off (true) or heals it (false).
func (t *HTTPTransport) SetPartitioned(cut bool) { t.cut.Store(cut) }

// Partitioned reports whether the node is cut off.
func (t *HTTPTransport) Partitioned() bool { return t.cut.Load() }

func (t *HTTPTransport) Start(n *Node) {
	t.mu.Lock()
	t.node = n
	t.mu.Unlock()
}

func (t *HTTPTransport) AddPeer(id uint64, addr string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.peers[id]; ok {
		if p.addr == addr {
			return
		}
		close(p.stop)
	}
	p := &httpPeer{t: t, id: id, addr: addr, ch: make(chan *pb.Message, 4096), stop: make(chan struct{})}
	t.peers[id] = p
	go p.run()
}

func (t *HTTPTransport) RemovePeer(id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.peers[id]; ok {
		close(p.stop)
		delete(t.peers, id)
	}
}

func (t *HTTPTransport) Send(msgs []*pb.Message) {
	if len(msgs) == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, m := range msgs {
		p, ok := t.peers[m.GetTo()]
		if !ok || t.cut.Load() {
			continue
		}
		select {
		case p.ch <- m:
		default:
			if t.node != nil {
				t.node.Unreachable(m.GetTo())
			}
		}
	}
}

func (t *HTTPTransport) Stop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, p := range t.peers {
		close(p.stop)
		delete(t.peers, id)
	}
	t.client.CloseIdleConnections()
}

// maxBatch bounds the bytes of one POST.
const maxPost = 4 << 20

func (p *httpPeer) run() {
	var buf []byte
	for {
		var m *pb.Message
		select {
		case <-p.stop:
			return
		case m = <-p.ch:
		}
		buf = buf[:0]
		snaps := 0
		for m != nil {
			b, err := proto.Marshal(m)
			if err == nil {
				buf = binary.AppendUvarint(buf, uint64(len(b)))
				buf = append(buf, b...)
				if m.GetType() == pb.MsgSnap {
					snaps++
				}
			}
			m = nil
			if len(buf) < maxPost {
				select {
				case m = <-p.ch:
				default:
				}
			}
		}
		err := p.post(buf)
		if n := p.t.node; n != nil {
			if err != nil {
				n.Unreachable(p.id)
			}
			for range snaps {
				n.SnapshotSent(p.id, err == nil)
			}
		}
	}
}

func (p *httpPeer) post(body []byte) error {
	if p.t.cut.Load() {
		return fmt.Errorf("partitioned")
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+p.addr+"/raft", bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := p.t.client.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("%s: %s", p.addr, resp.Status)
	}
	return nil
}

// Handler receives raft messages POSTed by peers; serve it at /raft.
func (t *HTTPTransport) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.mu.Lock()
		n := t.node
		t.mu.Unlock()
		if t.cut.Load() || n == nil {
			io.Copy(io.Discard, r.Body)
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
			return
		}
		br := bufio.NewReaderSize(r.Body, 64<<10)
		for {
			size, err := binary.ReadUvarint(br)
			if err == io.EOF {
				break
			}
			if err != nil || size > 1<<30 {
				http.Error(w, "bad message", http.StatusBadRequest)
				return
			}
			b := make([]byte, size)
			if _, err := io.ReadFull(br, b); err != nil {
				http.Error(w, "bad message", http.StatusBadRequest)
				return
			}
			m := &pb.Message{}
			if err := proto.Unmarshal(b, m); err != nil {
				http.Error(w, "bad message", http.StatusBadRequest)
				return
			}
			if err := n.Step(r.Context(), m); err != nil {
				http.Error(w, err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// Network is an in-memory transport for tests: the nodes of one process
// exchange messages through it, copied through their protobuf encoding.
// Cut drops a node's traffic both ways.
type Network struct {
	mu    sync.Mutex
	nodes map[uint64]*memTransport
	cut   map[uint64]bool
}

// NewNetwork returns an empty network.
func NewNetwork() *Network {
	return &Network{nodes: map[uint64]*memTransport{}, cut: map[uint64]bool{}}
}

// Transport returns the transport of node id.
func (nw *Network) Transport(id uint64) Transport {
	return &memTransport{nw: nw, id: id, ch: make(chan *pb.Message, 8192), stop: make(chan struct{})}
}

// Cut cuts node id off (true) or heals it.
func (nw *Network) Cut(id uint64, cut bool) {
	nw.mu.Lock()
	nw.cut[id] = cut
	nw.mu.Unlock()
}

type memTransport struct {
	nw   *Network
	id   uint64
	node *Node
	ch   chan *pb.Message
	stop chan struct{}
	once sync.Once
}

func (t *memTransport) Start(n *Node) {
	t.node = n
	t.nw.mu.Lock()
	t.nw.nodes[t.id] = t
	t.nw.mu.Unlock()
	go func() {
		for {
			select {
			case <-t.stop:
				return
			case m := <-t.ch:
				t.node.Step(context.Background(), m)
			}
		}
	}()
}

func (t *memTransport) AddPeer(uint64, string) {}
func (t *memTransport) RemovePeer(uint64)      {}

func (t *memTransport) Send(msgs []*pb.Message) {
	t.nw.mu.Lock()
	defer t.nw.mu.Unlock()
	for _, m := range msgs {
		to, ok := t.nw.nodes[m.GetTo()]
		if !ok || t.nw.cut[t.id] || t.nw.cut[m.GetTo()] {
			if m.GetType() == pb.MsgSnap {
				go t.node.SnapshotSent(m.GetTo(), false)
			}
			continue
		}
		b, _ := proto.Marshal(m)
		c := &pb.Message{}
		proto.Unmarshal(b, c)
		select {
		case to.ch <- c:
			if m.GetType() == pb.MsgSnap {
				go t.node.SnapshotSent(m.GetTo(), true)
			}
		default:
			t.node.Unreachable(m.GetTo())
		}
	}
}

func (t *memTransport) Stop() {
	t.once.Do(func() {
		t.nw.mu.Lock()
		if t.nw.nodes[t.id] == t {
			delete(t.nw.nodes, t.id)
		}
		t.nw.mu.Unlock()
		close(t.stop)
	})
}
