package client_test

import (
	"testing"
	"time"

	"github.com/keeldb/keel/server/client"
)

// TestBackoffBoundedByMaxBackoff: every wait between two dials is at
// most Options.MaxBackoff, the first one too, and grows to it.
func TestBackoffBoundedByMaxBackoff(t *testing.T) {
	for _, limit := range []time.Duration{time.Millisecond, 50 * time.Millisecond, time.Second} {
		waits := client.Backoffs(limit, 20)
		for i, w := range waits {
			if w <= 0 || w > limit {
				t.Errorf("MaxBackoff %v: wait %d is %v", limit, i, w)
			}
		}
		if last := waits[len(waits)-1]; last != limit {
			t.Errorf("MaxBackoff %v: the waits end at %v", limit, last)
		}
	}
}
