package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/keeldb/keel/examples/chat/chat"
	"github.com/keeldb/keel/examples/chat/chat/remote"
	"github.com/keeldb/keel/server/client"
)

// startServer runs the chat server on a loopback port for the test.
func startServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() { done <- serve(ctx, ln, t.TempDir(), &out) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return ln.Addr().String()
}

// watcher collects the messages a Go client sees.
type watcher struct {
	mu   sync.Mutex
	seen []string
}

func (w *watcher) add(s string) { w.mu.Lock(); w.seen = append(w.seen, s); w.mu.Unlock() }

func (w *watcher) wait(t *testing.T, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		for _, x := range w.seen {
			if x == s {
				w.mu.Unlock()
				return
			}
		}
		w.mu.Unlock()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("the Go client never saw %q (saw %q)", s, w.seen)
}

func dialGo(t *testing.T, addr string) (*remote.Remote, *watcher) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := remote.Dial(ctx, "ws://"+addr+"/ws", client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	w := &watcher{}
	r.DB.Message.OnInsert(func(m chat.Message) { w.add(m.Text) })
	if _, err := r.Subscribe(ctx, "SELECT * FROM user", "SELECT * FROM message"); err != nil {
		t.Fatal(err)
	}
	return r, w
}

// TestChatGoClients: messages between two Go clients; names; online flags
// kept by the connect and disconnect reducers.
func TestChatGoClients(t *testing.T) {
	addr := startServer(t)
	ctx := context.Background()
	a, wa := dialGo(t, addr)
	b, wb := dialGo(t, addr)
	if err := a.SetName(ctx, "ada"); err != nil {
		t.Fatal(err)
	}
	if err := a.SendMessage(ctx, "hello from ada"); err != nil {
		t.Fatal(err)
	}
	wa.wait(t, "hello from ada")
	wb.wait(t, "hello from ada")
	if err := b.SendMessage(ctx, "  "); err == nil || !strings.Contains(err.Error(), "must not be empty") {
		t.Fatalf("an empty message: %v", err)
	}
	user := func(r *remote.Remote, id string) (chat.User, bool) {
		for u := range r.DB.User.All() {
			if u.Identity == id {
				return u, true
			}
		}
		return chat.User{}, false
	}
	aid := string(a.Identity())
	if u, ok := user(b, aid); !ok || !u.Online || u.Name != "ada" {
		t.Fatalf("b sees ada as %+v (known %v)", u, ok)
	}
	a.Close()
	// The disconnect reducer keeps the row and clears its flag.
	deadline := time.Now().Add(10 * time.Second)
	for {
		u, ok := user(b, aid)
		if !ok {
			t.Fatal("ada's row went with her connection")
		}
		if !u.Online {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("ada never went offline")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestChatTerminal: the terminal client sends what is typed and prints
// what arrives.
func TestChatTerminal(t *testing.T) {
	addr := startServer(t)
	g, w := dialGo(t, addr)
	var out bytes.Buffer
	in := strings.NewReader("/name bob\nhi from the terminal\n")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := terminal(ctx, "ws://"+addr+"/ws", "", "", in, &out); err != nil {
		t.Fatal(err)
	}
	// terminal has closed its connection: its callbacks have run.
	if got := out.String(); strings.Contains(got, "error:") || !strings.Contains(got, "bob: hi from the terminal\n") {
		t.Fatalf("the terminal printed %q", got)
	}
	// The rename names the user as it was before (its identity, having
	// had no name), not by the new name.
	if got := out.String(); !regexp.MustCompile(`(?m)^\* [0-9a-f]{8} is now bob$`).MatchString(got) {
		t.Fatalf("the terminal did not print the rename from the identity to bob: %q", got)
	}
	w.wait(t, "hi from the terminal")
	named := false
	for m := range g.DB.Message.All() {
		for u := range g.DB.User.All() {
			if m.Text == "hi from the terminal" && u.Identity == m.Sender {
				named = u.Name == "bob"
			}
		}
	}
	if !named {
		t.Fatal("the terminal's /name bob did not name the sender of its message")
	}
}

// TestChatBrowser drives the page in headless Chromium: a message sent in
// one tab appears in a second tab and in a Go client, and one a Go client
// sends appears in the tabs.
func TestChatBrowser(t *testing.T) {
	const chromium = "/usr/bin/chromium"
	if _, err := os.Stat(chromium); err != nil {
		t.Skip("no browser: install Debian's chromium package (apt-get install -y chromium) to run the chat page in headless Chromium")
	}
	addr := startServer(t)
	goc, w := dialGo(t, addr)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer acancel()
	tab1, cancel1 := chromedp.NewContext(actx)
	defer cancel1()
	ctx1, c1 := context.WithTimeout(tab1, 60*time.Second)
	defer c1()
	url := "http://" + addr + "/"
	if err := chromedp.Do(ctx1, chromedp.Navigate(url), chromedp.WaitVisible(`#text`),
		waitText(`#status`, "connected as")); err != nil {
		t.Fatalf("tab 1: %v", err)
	}
	tab2, cancel2 := chromedp.NewContext(tab1) // a second tab of the same browser
	defer cancel2()
	ctx2, c2 := context.WithTimeout(tab2, 60*time.Second)
	defer c2()
	if err := chromedp.Do(ctx2, chromedp.Navigate(url), chromedp.WaitVisible(`#text`),
		waitText(`#status`, "connected as")); err != nil {
		t.Fatalf("tab 2: %v", err)
	}
	if err := chromedp.Do(ctx1,
		chromedp.SendKeys(`#name`, "tab-one"), chromedp.Click(`#setname`),
		chromedp.SendKeys(`#text`, "hello from tab one"), chromedp.Click(`#send`)); err != nil {
		t.Fatalf("tab 1 typing: %v", err)
	}
	if err := chromedp.Do(ctx2, waitText(`#messages`, "tab-one: hello from tab one")); err != nil {
		t.Fatalf("tab 2 never showed the message: %v", err)
	}
	w.wait(t, "hello from tab one")
	if err := goc.SendMessage(context.Background(), "hello from Go"); err != nil {
		t.Fatal(err)
	}
	for i, ctx := range []context.Context{ctx1, ctx2} {
		if err := chromedp.Do(ctx, waitText(`#messages`, "hello from Go")); err != nil {
			t.Fatalf("tab %d never showed the Go client's message: %v", i+1, err)
		}
	}
}

// waitText waits until the text of the element sel contains want.
func waitText(sel, want string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
		for {
			got, err := chromedp.Run(ctx, chromedp.TextContent(sel))
			if err != nil {
				return chromedp.Void{}, err
			}
			if strings.Contains(got, want) {
				return chromedp.Void{}, nil
			}
			select {
			case <-ctx.Done():
				return chromedp.Void{}, fmt.Errorf("%s holds %q, want %q: %w", sel, got, want, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
}
