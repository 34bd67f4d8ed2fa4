//go:build linux

package powerloss

import (
	"fmt"
	"maps"
	"slices"

	"github.com/keeldb/keel/internal/testmod"
	"github.com/keeldb/keel/table"
)

// keyState is what the database holds under one key: the post of that
// slug and the orders of that shop.
type keyState struct {
	post   bool
	pid    uint64 // 0 in an expected state: any fresh id
	title  string
	orders []int64 // ids, sorted; 0 in an expected state: any fresh id
}

func (s keyState) String() string {
	if !s.post && len(s.orders) == 0 {
		return "nothing"
	}
	out := "no post"
	if s.post {
		out = fmt.Sprintf("post %d %q", s.pid, s.title)
	}
	return fmt.Sprintf("%s, orders %v", out, s.orders)
}

// matches reports whether the observed state got is the expected state s,
// where an id of 0 in s stands for any id.
func (s keyState) matches(got keyState) bool {
	if s.post != got.post || s.title != got.title || len(s.orders) != len(got.orders) {
		return false
	}
	if s.pid != 0 && s.pid != got.pid {
		return false
	}
	for i, id := range s.orders {
		if id != 0 && id != got.orders[i] {
			return false
		}
	}
	return true
}

// observe reads every key's state from a view of the test module.
func observe(v *table.View, m *testmod.Module) map[string]keyState {
	got := map[string]keyState{}
	for p := range table.Read(v, m.Post).All() {
		s := got[p.Slug]
		s.post, s.pid, s.title = true, p.ID, p.Title
		got[p.Slug] = s
	}
	for o := range table.Read(v, m.Order).All() {
		s := got[o.Shop]
		s.orders = append(s.orders, o.ID)
		got[o.Shop] = s
	}
	for k, s := range got {
		slices.Sort(s.orders)
		got[k] = s
	}
	return got
}

// chain is the states a key goes through as its calls apply one by one:
// chain[0] before the first, chain[i] after the i-th.
func chain(ops []*op) []keyState {
	states := []keyState{{}}
	for _, o := range ops {
		s := states[len(states)-1]
		s.orders = slices.Clone(s.orders)
		switch o.kind {
		case "insert":
			s.post, s.pid, s.title = true, o.pid, o.title
			s.orders = append(s.orders, o.oid)
		case "post":
			s.post, s.pid, s.title = true, o.pid, o.title
		case "order":
			s.orders = append(s.orders, o.oid)
		case "update":
			s.title = o.title
		case "delete":
			s = keyState{}
		case "fail": // rolls back
		}
		states = append(states, s)
	}
	return states
}

// model is what the checker knows between rounds: the state of every key
// as the last reopen found it (durable: the checker either closed the
// database cleanly, which fsyncs everything, or opened it read-only and
// changed nothing), and every autoinc value a surviving commit used.
type model struct {
	keys     map[string]keyState
	postIDs  map[uint64]string // id -> the key whose commit used it
	orderIDs map[int64]string
	maxPost  uint64
	maxOrder int64
	// unrepaired says that the last reopen was read-only: the directory
	// still holds what the cut left, for the next child's open to repair.
	unrepaired bool
}

func newModel() *model {
	return &model{keys: map[string]keyState{}, postIDs: map[uint64]string{}, orderIDs: map[int64]string{}}
}

// used records that a surviving commit of key used the post id pid and
// the order ids oids (0: none); an id used by another key is a reused
// autoinc value.
func (m *model) used(key string, pid uint64, oids ...int64) error {
	if pid != 0 {
		if prev, ok := m.postIDs[pid]; ok && prev != key {
			return fmt.Errorf("post id %d handed out twice: to %s and to %s", pid, prev, key)
		}
		m.postIDs[pid] = key
		m.maxPost = max(m.maxPost, pid)
	}
	for _, id := range oids {
		if id == 0 {
			continue
		}
		if prev, ok := m.orderIDs[id]; ok && prev != key {
			return fmt.Errorf("order id %d handed out twice: to %s and to %s", id, prev, key)
		}
		m.orderIDs[id] = key
		m.maxOrder = max(m.maxOrder, id)
	}
	return nil
}

// adopt makes got, the state of a database no ledger describes, the model.
func (m *model) adopt(got map[string]keyState) error {
	for _, k := range sortedKeys(got) {
		if err := m.used(k, got[k].pid, got[k].orders...); err != nil {
			return err
		}
	}
	m.keys = got
	return nil
}

// sortedKeys returns a map's keys in order, for stable messages.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
