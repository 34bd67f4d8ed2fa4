//go:build linux

package powerloss

import (
	"fmt"
	"testing"

	"github.com/keeldb/keel"
)

// regressions are the rounds of TestPowerLoss that failed, each fixed
// since. Each runs again from its seed, through the failing round: the
// seed repeats the workload, the moment of the kill (as a delay) and the
// tear, though not the exact point the kill lands at. The deterministic
// cut of each bug is in TestCutAtEachSync.
var regressions = []struct {
	seed   uint64 // runRounds' seed for the policy (printed by the failure)
	policy keel.SyncPolicy
	round  int
	bug    string
}{
	{17233552738348703110, keel.SyncAlways, 0,
		"a new data directory and its log directory had no durable name: the reopen found no database (wal/open.go)"},
}

func TestRegressions(t *testing.T) {
	for _, r := range regressions {
		t.Run(fmt.Sprintf("%d-%d", r.seed, r.round), func(t *testing.T) {
			f := runRounds(t, r.policy, r.round+1, r.seed, false)
			t.Logf("%s: %s", r.bug, f.line(r.policy))
		})
	}
}
