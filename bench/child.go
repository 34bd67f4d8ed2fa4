package main

import (
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// W9 runs every system in a child process of its own (the raw baseline,
// which has no heap to speak of, stays in the parent), and the parent
// interleaves their slices as it does in process. In one process the
// systems' tables were one heap: 110 to 140 MB live during W9, whose GC
// mark phases took 35 to 76 ms each, against 14 to 26 MB and 4 to 8 ms for
// Keel's own, so every system's tail carried the others' data. A child
// idles between its slices: it allocates nothing, so it triggers no GC.

// childReq is the parent's request to a child: a timed run ("run"), its
// log counters and note ("stats"), or the end ("close").
type childReq struct {
	Op      string
	Callers int
	Dur     time.Duration
	MaxOps  int64
	Record  bool
	Profile string // a run's CPU profile goes to this file, if set
}

// childResp is the child's answer: to its start (Err only), to a run (the
// sample), to "stats" (the log's counters, if it has a log, and the
// note).
type childResp struct {
	Err          string
	Lats         []time.Duration
	Elapsed, CPU time.Duration
	HasLog       bool
	Log          logCounters
	Note         string
}

// child is a contender that runs in a child process.
type child struct {
	name string
	cmd  *exec.Cmd
	enc  *gob.Encoder
	dec  *gob.Decoder
	in   io.Closer
	last *childResp // the counters and note asked for as the child closed
	// profile is where the child writes the CPU profile of its next run
	// (-pprof), if set.
	profile string
}

// keynoteChild starts the W9 contender name (Keel pipelined, Keel with
// synchronous callers, or a peer) in mode m in a child process, which
// opens and loads it, and returns it as a contender of this process.
func (e *env) keynoteChild(name string, callers int, m Mode, skewed bool) *contender {
	c := &contender{name: name, callers: callers, scale: 1}
	args := []string{"-w9-child", name, "-w9-mode", strconv.Itoa(int(m)), "-w9-accounts", strconv.FormatUint(e.accounts, 10), "-dir", e.base}
	if skewed {
		args = append(args, "-w9-zipf")
	}
	if e.quick {
		args = append(args, "-quick")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		c.err = err
		return c
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		c.err = err
		return c
	}
	if err := cmd.Start(); err != nil {
		c.err = fmt.Errorf("child: %w", err)
		return c
	}
	ch := &child{name: name, cmd: cmd, enc: gob.NewEncoder(in), dec: gob.NewDecoder(out), in: in}
	c.close = ch.close
	var ready childResp
	if err := ch.dec.Decode(&ready); err != nil {
		c.err = fmt.Errorf("child: %w", err)
		return c
	}
	if ready.Err != "" {
		c.err = errors.New(ready.Err)
		return c
	}
	c.remote = ch
	c.log = ch
	c.note = ch.note
	return c
}

// ask sends req and returns the child's answer.
func (ch *child) ask(req childReq) (childResp, error) {
	var resp childResp
	if err := ch.enc.Encode(req); err != nil {
		return resp, fmt.Errorf("child %s: %w", ch.name, err)
	}
	if err := ch.dec.Decode(&resp); err != nil {
		return resp, fmt.Errorf("child %s: %w", ch.name, err)
	}
	if resp.Err != "" {
		return resp, errors.New(resp.Err)
	}
	return resp, nil
}

// run is runFor in the child.
func (ch *child) run(callers int, dur time.Duration, maxOps int64, record bool) (sample, error) {
	resp, err := ch.ask(childReq{Op: "run", Callers: callers, Dur: dur, MaxOps: maxOps, Record: record, Profile: ch.profile})
	ch.profile = ""
	if err != nil {
		return sample{}, err
	}
	return sample{lats: resp.Lats, elapsed: resp.Elapsed, cpu: resp.CPU}, nil
}

// stats are the child's log counters and note, or the last ones once it
// closed (the report is written after the contenders closed).
func (ch *child) stats() (childResp, error) {
	if ch.last != nil {
		return *ch.last, nil
	}
	return ch.ask(childReq{Op: "stats"})
}

func (ch *child) logStats() (logCounters, bool) {
	resp, err := ch.stats()
	if err != nil || !resp.HasLog {
		return logCounters{}, false
	}
	return resp.Log, true
}

func (ch *child) note() string {
	resp, err := ch.stats()
	if err != nil {
		return err.Error()
	}
	return resp.Note
}

// close has the child close its system and waits for it to exit.
func (ch *child) close() error {
	if ch.last == nil {
		if last, err := ch.ask(childReq{Op: "stats"}); err == nil {
			ch.last = &last
		}
	}
	_, err := ch.ask(childReq{Op: "close"})
	ch.in.Close()
	if werr := ch.cmd.Wait(); err == nil && werr != nil {
		err = fmt.Errorf("child %s: %w", ch.name, werr)
	}
	return err
}

// keynoteChildMain is the child's side: it opens contender name, says
// whether it could, and answers the parent's requests until "close" or
// the end of its input.
func keynoteChildMain(e *env, name string, m Mode, skewed bool) error {
	enc, dec := gob.NewEncoder(os.Stdout), gob.NewDecoder(os.Stdin)
	c := e.keynoteContender(name, m, skewed)
	if c.err != nil {
		closeAll([]*contender{c})
		return enc.Encode(childResp{Err: c.err.Error()})
	}
	if err := enc.Encode(childResp{}); err != nil {
		return err
	}
	for {
		var req childReq
		if err := dec.Decode(&req); err != nil {
			closeAll([]*contender{c})
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		var resp childResp
		switch req.Op {
		case "run":
			stop := func() {}
			if req.Profile != "" {
				stop = startProfile(req.Profile)
			}
			smp, err := runFor(req.Callers, req.Dur, req.MaxOps, c.run(), req.Record)
			stop()
			if err != nil {
				resp.Err = err.Error()
			}
			resp.Lats, resp.Elapsed, resp.CPU = smp.lats, smp.elapsed, smp.cpu
		case "stats":
			if c.log != nil {
				resp.Log, resp.HasLog = c.log.logStats()
			}
			if c.note != nil {
				resp.Note = c.note()
			}
		case "close":
			closeAll([]*contender{c})
			if c.err != nil {
				resp.Err = c.err.Error()
			}
			return enc.Encode(resp)
		default:
			resp.Err = fmt.Sprintf("bench: unknown request %q", req.Op)
		}
		if err := enc.Encode(resp); err != nil {
			return err
		}
	}
}
