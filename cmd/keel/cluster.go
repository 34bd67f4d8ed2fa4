package main

// keel cluster status: what each node of a replicated cluster (package
// replica) says about itself, from its HTTP status endpoint.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keeldb/keel/replica"
)

// errNodesDown is the error of a status in which some node did not
// answer: exit status 1, after the table.
var errNodesDown = errors.New("keel: cluster status: a node did not answer")

func clusterCmd(w io.Writer, args []string) error {
	top := newFlags("keel cluster", "keel cluster status URL...",
		"Show a replicated cluster's nodes.\n\ncommands:\n  status    each node's id, role, term, leader, commit and applied index")
	rest, err := top.parse(w, args)
	if err != nil {
		return err
	}
	if len(rest) == 0 {
		return usageError{"keel cluster: no command; see keel cluster -h"}
	}
	if rest[0] != "status" {
		return usageError{fmt.Sprintf("keel cluster: unknown command %q; see keel cluster -h", rest[0])}
	}
	fs := flag.NewFlagSet("keel cluster status", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print each node's status as JSON, one a line")
	timeout := fs.Duration("timeout", 3*time.Second, "give up on a node after this long")
	usage := "keel cluster status [-json] [-timeout D] URL..."
	text := "Ask each node (its HTTP address, http://host:port or host:port) for its status\n" +
		"(GET /status) and print one line per node: id, role, term, leader, commit and\n" +
		"applied index, the log's first and last entries, the newest snapshot's entry.\n" +
		"A node that does not answer is shown as down, and the exit status is 1."
	if err := fs.Parse(rest[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			var b strings.Builder
			fs.SetOutput(&b)
			fs.PrintDefaults()
			fmt.Fprintf(w, "usage: %s\n\n%s\n\nflags:\n%s", usage, text, b.String())
			return err
		}
		return usageError{fmt.Sprintf("keel cluster status: %v; see keel cluster status -h", err)}
	}
	if fs.NArg() == 0 {
		return usageError{"usage: " + usage}
	}
	if *timeout <= 0 {
		return usageError{fmt.Sprintf("keel cluster status: -timeout %v: want a positive duration; see keel cluster status -h", *timeout)}
	}
	return clusterStatus(w, fs.Args(), *asJSON, *timeout)
}

// nodeStatus is one node's answer.
type nodeStatus struct {
	url string
	s   replica.Status
	err error
}

func clusterStatus(w io.Writer, urls []string, asJSON bool, timeout time.Duration) error {
	hc := &http.Client{Timeout: timeout}
	res := make([]nodeStatus, len(urls))
	done := make(chan struct{})
	for i, u := range urls {
		go func() {
			defer func() { done <- struct{}{} }()
			res[i].url = u
			res[i].s, res[i].err = fetchStatus(hc, u)
		}()
	}
	for range urls {
		<-done
	}
	down := false
	if asJSON {
		enc := json.NewEncoder(w)
		for _, r := range res {
			if r.err != nil {
				down = true
				enc.Encode(map[string]string{"url": r.url, "error": r.err.Error()})
				continue
			}
			enc.Encode(r.s)
		}
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "URL\tID\tROLE\tTERM\tLEADER\tCOMMIT\tAPPLIED\tLOG\tSNAPSHOT\tMEMBERS")
		for _, r := range res {
			if r.err != nil {
				down = true
				fmt.Fprintf(tw, "%s\t-\tdown\t-\t-\t-\t-\t-\t-\t%v\n", r.url, r.err)
				continue
			}
			s := r.s
			members := make([]string, len(s.Members))
			for i, m := range s.Members {
				members[i] = fmt.Sprint(m)
			}
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%d\t%d\t%d-%d\t%d\t%s\n", r.url, s.ID, s.Role, s.Term, s.Leader,
				s.Commit, s.Applied, s.FirstIndex, s.LastIndex, s.Snapshot, strings.Join(members, ","))
		}
		tw.Flush()
	}
	if down {
		return errNodesDown
	}
	return nil
}

func fetchStatus(hc *http.Client, u string) (replica.Status, error) {
	var s replica.Status
	base := strings.TrimSuffix(u, "/")
	if !strings.Contains(base, "://") {
		base = "http://" + base
	}
	ctx, cancel := context.WithTimeout(context.Background(), hc.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/status", nil)
	if err != nil {
		return s, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return s, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return s, fmt.Errorf("GET /status: %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return s, fmt.Errorf("GET /status: %w", err)
	}
	return s, nil
}
