package replica

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
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
// and a goroutine that writes what is queued, length-prefixed protobuf
// messages, to the peer's /raft. Serve its Handler at /raft on the
// node's address. The messages go on one long POST per peer, a stream
// whose body the goroutine goes on writing (chunked, a chunk for what
// was queued at once), so that a message waits for no response to the
// ones before it; a stream that breaks is opened again with the next
// message, and the messages it lost are raft's to send again. Snapshots
// go in a POST of their own, whose answer says whether the peer took
// them. SetPartitioned makes it drop all traffic, both ways: the fault
// tests' partition.
type HTTPTransport struct {
	client *http.Client // snapshots: a request and its answer
	stream *http.Client // streams: no overall timeout
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
	cur  atomic.Pointer[stream] // the open stream, for Stop to end
}

// streamWriteTimeout bounds one write on a stream's connection: a peer
// that takes nothing for that long (a frozen process, a network that
// drops everything) breaks the stream, and raft's messages wait for the
// next one.
const streamWriteTimeout = 5 * time.Second

// NewHTTPTransport returns a transport with no peers yet.
func NewHTTPTransport() *HTTPTransport {
	d := &net.Dialer{Timeout: 2 * time.Second, KeepAlive: 15 * time.Second}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &deadlineConn{Conn: c}, nil
	}
	return &HTTPTransport{peers: map[uint64]*httpPeer{},
		client: &http.Client{Timeout: 10 * time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}},
		stream: &http.Client{Transport: &http.Transport{DialContext: dial, MaxIdleConnsPerHost: 1,
			IdleConnTimeout: 30 * time.Second, DisableCompression: true}}}
}

// deadlineConn is a connection whose every write must finish within
// streamWriteTimeout.
type deadlineConn struct{ net.Conn }

func (c *deadlineConn) Write(b []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	return c.Conn.Write(b)
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
		p.close()
	}
	p := &httpPeer{t: t, id: id, addr: addr, ch: make(chan *pb.Message, 4096), stop: make(chan struct{})}
	t.peers[id] = p
	go p.run()
}

func (t *HTTPTransport) RemovePeer(id uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if p, ok := t.peers[id]; ok {
		p.close()
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
		p.close()
		delete(t.peers, id)
	}
	t.client.CloseIdleConnections()
	t.stream.CloseIdleConnections()
}

// maxPost bounds the bytes of one write (or snapshot POST).
const maxPost = 4 << 20

// errStreamEnded is a stream's error once the peer answered its POST.
var errStreamEnded = errors.New("keel: replica: raft stream ended")

// stream is one long POST to a peer's /raft: writes to w become chunks
// of its body.
type stream struct {
	w    *io.PipeWriter
	r    *io.PipeReader
	done chan struct{} // closed once the POST returned
}

// abort ends the stream: a write under way fails.
func (s *stream) abort(err error) {
	s.r.CloseWithError(err)
	s.w.CloseWithError(err)
}

// open starts a stream to the peer.
func (p *httpPeer) open() (*stream, error) {
	r, w := io.Pipe()
	req, err := http.NewRequest(http.MethodPost, "http://"+p.addr+"/raft", r)
	if err != nil {
		return nil, err
	}
	req.ContentLength = -1 // chunked
	s := &stream{w: w, r: r, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		resp, err := p.t.stream.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			err = errStreamEnded
			if resp.StatusCode != http.StatusNoContent {
				err = fmt.Errorf("keel: replica: raft stream to %s: %s", p.addr, resp.Status)
			}
		}
		s.abort(err)
	}()
	return s, nil
}

func (p *httpPeer) close() {
	close(p.stop)
	if s := p.cur.Load(); s != nil {
		s.abort(ErrClosed)
	}
}

func (p *httpPeer) run() {
	var buf []byte
	var s *stream
	defer func() {
		if s != nil {
			s.w.Close() // the body ends: the peer answers
		}
	}()
	for {
		var m *pb.Message
		select {
		case <-p.stop:
			return
		case m = <-p.ch:
		}
		buf = buf[:0]
		var snaps []*pb.Message
		for m != nil {
			if m.GetType() == pb.MsgSnap {
				snaps = append(snaps, m)
			} else {
				// Framed in place: the size first, then the message
				// marshalled onto buf (the size Size computed cached).
				at := len(buf)
				buf = binary.AppendUvarint(buf, uint64(proto.Size(m)))
				var err error
				if buf, err = (proto.MarshalOptions{UseCachedSize: true}).MarshalAppend(buf, m); err != nil {
					buf = buf[:at]
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
		if len(buf) > 0 {
			err := p.t.partitioned()
			if err == nil && s == nil {
				s, err = p.open()
				if s != nil {
					p.cur.Store(s)
					select {
					case <-p.stop: // close came before the store
						s.abort(ErrClosed)
						return
					default:
					}
				}
			}
			if err == nil {
				_, err = s.w.Write(buf)
			}
			if err != nil {
				if s != nil {
					s.abort(err)
					p.cur.Store(nil)
					s = nil
				}
				p.unreachable()
			}
		}
		for _, m := range snaps {
			b, _ := proto.Marshal(m)
			err := p.post(binary.AppendUvarint(nil, uint64(len(b))), b)
			if n := p.t.node; n != nil {
				if err != nil {
					n.Unreachable(p.id)
				}
				n.SnapshotSent(p.id, err == nil)
			}
		}
	}
}

func (p *httpPeer) unreachable() {
	if n := p.t.node; n != nil {
		n.Unreachable(p.id)
	}
}

func (t *HTTPTransport) partitioned() error {
	if t.cut.Load() {
		return errPartitioned
	}
	return nil
}

var errPartitioned = errors.New("keel: replica: partitioned")

// post sends the message framed in head and body in a POST of its own,
// and returns once the peer answered.
func (p *httpPeer) post(head, body []byte) error {
	if err := p.t.partitioned(); err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+p.addr+"/raft", io.MultiReader(bytes.NewReader(head), bytes.NewReader(body)))
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(head) + len(body))
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

// Handler receives raft messages POSTed by peers, a stream of them or a
// snapshot; serve it at /raft. It answers once the body ended. A stream
// it cannot go on reading (the node is cut off or closing, a message it
// cannot decode, or one addressed to another node) it breaks, closing
// the connection, rather than answer before the body's end: the peer
// tries again with its next message.
func (t *HTTPTransport) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		refuse := func(msg string, code int) {
			if r.ContentLength < 0 {
				// A stream has no end for the server to read up to
				// before it answers (it reads what is left of a body
				// first): drop the connection.
				if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
					conn.Close()
					return
				}
				panic(http.ErrAbortHandler)
			}
			http.Error(w, msg, code)
		}
		t.mu.Lock()
		n := t.node
		t.mu.Unlock()
		if t.cut.Load() || n == nil {
			refuse("unavailable", http.StatusServiceUnavailable)
			return
		}
		br := bufio.NewReaderSize(r.Body, 64<<10)
		// One buffer for the stream's messages: Unmarshal copies what
		// it keeps (the entries' data among it).
		var b []byte
		for {
			size, err := binary.ReadUvarint(br)
			if err == io.EOF {
				break
			}
			if err != nil || size > 1<<30 {
				refuse("bad message", http.StatusBadRequest)
				return
			}
			if uint64(cap(b)) < size {
				b = make([]byte, size)
			}
			b = b[:size]
			if _, err := io.ReadFull(br, b); err != nil {
				refuse("bad message", http.StatusBadRequest)
				return
			}
			if t.cut.Load() {
				refuse("unavailable", http.StatusServiceUnavailable)
				return
			}
			m := &pb.Message{}
			if err := proto.Unmarshal(b, m); err != nil {
				refuse("bad message", http.StatusBadRequest)
				return
			}
			if m.GetTo() != n.id {
				// The sender takes this address for another node's:
				// stepped here, its messages would make this node act on
				// that node's state.
				refuse(fmt.Sprintf("a message for node %d at node %d", m.GetTo(), n.id), http.StatusMisdirectedRequest)
				return
			}
			if err := n.Step(r.Context(), m); err != nil {
				refuse(err.Error(), http.StatusServiceUnavailable)
				return
			}
			if cap(b) > 4<<20 {
				b = nil // a snapshot's size is not kept for the stream
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
