// Command reminders runs the reminders example: scheduled reducers, once
// and repeating, on the wall clock, in a database on disk in a temporary
// directory that is closed while two reminders come due and reopened.
//
//	go run ./examples/reminders
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/keeldb/keel/examples/reminders/remind"
)

func main() {
	dir, err := os.MkdirTemp("", "keel-reminders-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	_, err = remind.Demo(ctx, dir, remind.RealClock{}, os.Stdout)
	cancel()
	if rerr := os.RemoveAll(dir); err == nil {
		err = rerr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
