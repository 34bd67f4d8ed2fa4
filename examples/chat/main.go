// Command chat is SpacetimeDB's quickstart chat on Keel: one binary that
// serves the database over WebSocket (package server) with a web page,
// and a terminal client on the generated Go client.
//
//	go run ./examples/chat                                   # serve on localhost:3000
//	go run ./examples/chat -connect ws://localhost:3000/ws   # chat from the terminal
//
// The server keeps its data, and the key that signs identity tokens, in
// -data (keel-chat-data): restarted, it knows its users again.
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/keeldb/keel"
	"github.com/keeldb/keel/examples/chat/chat"
	"github.com/keeldb/keel/examples/chat/chat/remote"
	"github.com/keeldb/keel/server"
	"github.com/keeldb/keel/server/client"
)

//go:embed page.html
var page []byte

func main() {
	addr := flag.String("addr", "localhost:3000", "the `address` to serve on")
	dir := flag.String("data", "keel-chat-data", "the data `directory`")
	connect := flag.String("connect", "", "run the terminal client against the server at `url` (ws://host:port/ws)")
	name := flag.String("name", "", "terminal client: the `name` to set")
	tokenFile := flag.String("token", ".keel-chat-token", "terminal client: the `file` that keeps the identity token")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	if *connect != "" {
		err = terminal(ctx, *connect, *name, *tokenFile, os.Stdin, os.Stdout)
	} else {
		var ln net.Listener
		if ln, err = net.Listen("tcp", *addr); err == nil {
			err = serve(ctx, ln, *dir, os.Stdout)
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "chat:", err)
		os.Exit(1)
	}
}

// serve runs the chat server on ln until ctx is done.
func serve(ctx context.Context, ln net.Listener, dir string, out io.Writer) error {
	db, err := keel.Open(dir, chat.Module, keel.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	key, err := tokenKey(dir)
	if err != nil {
		return err
	}
	srv, err := server.New(db, server.Options{TokenKey: key})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	hs := &http.Server{Handler: mux}
	fmt.Fprintf(out, "chat: serving http://%s (WebSocket at ws://%s/ws, data in %s)\n", ln.Addr(), ln.Addr(), dir)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	hs.Shutdown(sctx)
	return err
}

// tokenKey reads the key that signs identity tokens, making it the first
// time, so that tokens outlive a restart.
func tokenKey(dir string) ([]byte, error) {
	path := filepath.Join(dir, "token.key")
	if b, err := os.ReadFile(path); err == nil && len(b) == 32 {
		return b, nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	return key, os.WriteFile(path, key, 0o600)
}

// terminal is the terminal client: it prints messages as they arrive and
// sends each line typed (/name NAME sets the name).
func terminal(ctx context.Context, url, name, tokenFile string, in io.Reader, out io.Writer) error {
	tok, _ := os.ReadFile(tokenFile)
	r, err := remote.Dial(ctx, url, client.Options{Token: strings.TrimSpace(string(tok))})
	if err != nil {
		return err
	}
	defer r.Close()
	if tokenFile != "" {
		os.WriteFile(tokenFile, []byte(r.Token()), 0o600)
	}
	nameOf := func(id string) string {
		for u := range r.DB.User.All() {
			if u.Identity == id && u.Name != "" {
				return u.Name
			}
		}
		return id[:8]
	}
	r.DB.Message.OnInsert(func(m chat.Message) { fmt.Fprintf(out, "%s: %s\n", nameOf(m.Sender), m.Text) })
	r.DB.User.OnUpdate(func(old, u chat.User) {
		switch {
		case old.Online != u.Online && u.Online:
			fmt.Fprintf(out, "* %s is online\n", nameOf(u.Identity))
		case old.Online != u.Online:
			fmt.Fprintf(out, "* %s is offline\n", nameOf(u.Identity))
		case old.Name != u.Name:
			// The cache holds the new row already: the old name is old's.
			was := old.Name
			if was == "" {
				was = old.Identity[:8]
			}
			fmt.Fprintf(out, "* %s is now %s\n", was, u.Name)
		}
	})
	if _, err := r.Subscribe(ctx, "SELECT * FROM user", "SELECT * FROM message"); err != nil {
		return err
	}
	if name != "" {
		if err := r.SetName(ctx, name); err != nil {
			return err
		}
	}
	lines := bufio.NewScanner(in)
	for lines.Scan() {
		line := strings.TrimSpace(lines.Text())
		var err error
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "/name "):
			err = r.SetName(ctx, strings.TrimPrefix(line, "/name "))
		default:
			err = r.SendMessage(ctx, line)
		}
		if err != nil {
			fmt.Fprintln(out, "error:", err)
		}
	}
	return lines.Err()
}
