package replica

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/internal/kerr"
)

// Client calls a cluster's reducers over HTTP (Handler's API): a
// keel.Conn for generated clients in another process. It sends each call
// to the node it takes for the leader and follows a refusal to the
// leader the refusal names, trying the other nodes while none is known
// (an election) or when a node takes no calls at all (it was removed,
// closed, or failed), until the call's context is done. A call the
// leader did not run but may run later (its queue was full, or the call
// waited too long to run) is sent to it again after a pause that grows
// from 1 ms to 50 ms. A call whose outcome the cluster could not tell
// (the leader lost its leadership, or the connection broke after the
// call was sent) fails with an error that matches ErrOutcomeUnknown: it
// may or may not have committed; the client does not retry it. A call
// that ran and rolled back fails with a *RemoteError.
type Client struct {
	http  *http.Client
	mu    sync.Mutex
	addrs []string
	cur   string
	// Caller is the identity calls are made with when a call names none.
	Caller string
}

// NewClient returns a client of the cluster whose nodes listen at addrs.
func NewClient(addrs ...string) *Client {
	return &Client{addrs: addrs, cur: addrs[0], http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
}

// Leader returns the address the client takes for the leader's.
func (c *Client) Leader() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cur
}

// RemoteError is a reducer's error as the leader reported it: the call
// ran and rolled back.
type RemoteError struct{ Msg string }

func (e *RemoteError) Error() string { return e.Msg }

// CallEncoded runs reducer name with encoded args on the leader.
func (c *Client) CallEncoded(ctx context.Context, caller, name string, args []byte) ([]byte, error) {
	tried := 0
	pause := minPause
	for {
		if err := ctx.Err(); err != nil {
			return nil, kerr.Errorf("keel: replica: no leader took the call: %w", err)
		}
		addr := c.Leader()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/call/"+name, bytes.NewReader(args))
		if err != nil {
			return nil, err
		}
		if caller == "" {
			caller = c.Caller
		}
		req.Header.Set("X-Keel-Caller", caller)
		resp, err := c.http.Do(req)
		if err != nil {
			if isRefused(err) {
				// The call never reached the node: try another.
				c.next(addr, "")
				tried++
				if tried%len(c.addrs) == 0 {
					sleepCtx(ctx, 50*time.Millisecond)
				}
				continue
			}
			c.next(addr, "")
			return nil, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case err != nil:
			c.next(addr, "")
			return nil, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
		case resp.StatusCode == http.StatusOK:
			return body, nil
		case resp.StatusCode == http.StatusMisdirectedRequest:
			leader := resp.Header.Get("X-Keel-Leader-Addr")
			c.next(addr, leader)
			tried++
			switch {
			case leader == addr:
				// A leader that does not take calls yet (it is applying
				// the log of the terms before its own) names itself:
				// send the call again after a pause, not at once.
				sleepCtx(ctx, pause)
				pause = min(2*pause, maxPause)
			case leader == "" && tried%len(c.addrs) == 0:
				sleepCtx(ctx, 50*time.Millisecond)
			}
			continue
		case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("X-Keel-Outcome") == "not-run":
			// The call did not run; the node may take it once it has
			// room.
			sleepCtx(ctx, pause)
			pause = min(2*pause, maxPause)
			continue
		case resp.StatusCode == http.StatusServiceUnavailable:
			c.next(addr, "")
			return nil, kerr.Errorf("keel: replica: node at %s: %w", addr, &outcomeUnknown{strings.TrimSpace(string(body))})
		case resp.StatusCode == http.StatusConflict:
			return nil, &RemoteError{Msg: strings.TrimSpace(string(body))}
		default:
			return nil, kerr.Errorf("keel: replica: node at %s: %s: %s", addr, resp.Status, strings.TrimSpace(string(body)))
		}
	}
}

// outcomeUnknown is a node's answer that a call's outcome is unknown
// (503, X-Keel-Outcome: unknown): its message is the node's, which says
// so already, and it matches ErrOutcomeUnknown.
type outcomeUnknown struct{ msg string }

func (e *outcomeUnknown) Error() string {
	if e.msg == "" {
		return ErrOutcomeUnknown.Error()
	}
	return e.msg
}

func (e *outcomeUnknown) Unwrap() error { return ErrOutcomeUnknown }

// minPause and maxPause bound the pause before a call the leader did not
// run is sent again: it starts at minPause and doubles up to maxPause.
const (
	minPause = time.Millisecond
	maxPause = 50 * time.Millisecond
)

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// next moves on from addr: to leader when one is named, else to the next
// node.
func (c *Client) next(addr, leader string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != addr {
		return
	}
	if leader != "" {
		c.cur = leader
		return
	}
	for i, a := range c.addrs {
		if a == addr {
			c.cur = c.addrs[(i+1)%len(c.addrs)]
			return
		}
	}
	c.cur = c.addrs[0]
}

func isRefused(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "no such host")
}

// Do runs call through the leader and waits for its outcome (keel.Conn).
func (c *Client) Do(call *keel.Call) error {
	call.Begin()
	c.run(call)
	return call.Wait(context.Background())
}

// Submit sends call and returns at once (keel.Conn); it reports through
// its Wait or Notify.
func (c *Client) Submit(call *keel.Call) error {
	call.Begin()
	go c.run(call)
	return nil
}

// SubmitAll submits calls in order; each goes on its own, so calls of one
// batch may run in any order.
func (c *Client) SubmitAll(calls []*keel.Call) (int, error) {
	for _, call := range calls {
		c.Submit(call)
	}
	return len(calls), nil
}

func (c *Client) run(call *keel.Call) {
	enc, ok := call.Body.(keel.Encoder)
	if !ok || call.Reducer == nil {
		call.Complete(errors.New("keel: replica: the call has no codec"))
		return
	}
	args, err := enc.AppendArgs(nil)
	if err != nil {
		call.Complete(err)
		return
	}
	ctx := call.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	res, err := c.CallEncoded(ctx, string(call.Caller), call.Reducer.Name(), args)
	if err == nil {
		err = enc.DecodeResult(res)
	}
	call.Complete(err)
}

// Status asks the node at addr for its status.
func (c *Client) Status(ctx context.Context, addr string) (Status, error) {
	var s Status
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/status", nil)
	if err != nil {
		return s, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("keel: replica: %s: %s", addr, resp.Status)
	}
	return s, jsonDecode(resp.Body, &s)
}

func jsonDecode(r io.Reader, v any) error { return json.NewDecoder(r).Decode(v) }
