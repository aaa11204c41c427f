package process

import (
	"container/list"
	"time"
)

// entry is what the table remembers of one process: enough to describe it
// as a parent and to report its termination.
type entry struct {
	pid         int32
	ppid        int32
	startTicks  uint64
	start       time.Time
	exe         string
	commandLine string
	entityID    string
	container   containerInfo
	// self marks the module's own process tree.
	self     bool
	lastSeen time.Time
}

// table is a bounded LRU of processes by pid: memory stays flat under any
// churn, the least recently touched process goes first, and entries not
// touched for ttl (their exit missed, e.g. while the pipeline dropped)
// age out.
type table struct {
	max   int
	ttl   time.Duration
	byPID map[int32]*list.Element
	lru   *list.List // front = most recent
}

func newTable(max int, ttl time.Duration) *table {
	return &table{max: max, ttl: ttl, byPID: make(map[int32]*list.Element, max), lru: list.New()}
}

// get returns the entry of pid and marks it recently used.
func (t *table) get(pid int32) (*entry, bool) {
	el, ok := t.byPID[pid]
	if !ok {
		return nil, false
	}
	t.lru.MoveToFront(el)
	return el.Value.(*entry), true
}

// put stores e, replacing any entry of the same pid (pid reuse).
func (t *table) put(e *entry) {
	if el, ok := t.byPID[e.pid]; ok {
		el.Value = e
		t.lru.MoveToFront(el)
		return
	}
	t.byPID[e.pid] = t.lru.PushFront(e)
	for t.lru.Len() > t.max {
		t.removeElement(t.lru.Back())
	}
}

// remove drops pid and returns its entry.
func (t *table) remove(pid int32) (*entry, bool) {
	el, ok := t.byPID[pid]
	if !ok {
		return nil, false
	}
	t.removeElement(el)
	return el.Value.(*entry), true
}

func (t *table) removeElement(el *list.Element) {
	t.lru.Remove(el)
	delete(t.byPID, el.Value.(*entry).pid)
}

// expire drops entries untouched since now-ttl.
func (t *table) expire(now time.Time) {
	for el := t.lru.Back(); el != nil; el = t.lru.Back() {
		if now.Sub(el.Value.(*entry).lastSeen) < t.ttl {
			return
		}
		t.removeElement(el)
	}
}

func (t *table) len() int { return t.lru.Len() }

// cgroupCache maps cgroup ids to containers, bounded: when full it is
// reset, as ids are cheap to learn again.
type cgroupCache struct {
	max int
	m   map[uint64]containerInfo
}

func newCgroupCache(max int) *cgroupCache {
	return &cgroupCache{max: max, m: make(map[uint64]containerInfo)}
}

func (c *cgroupCache) get(id uint64) (containerInfo, bool) {
	v, ok := c.m[id]
	return v, ok
}

func (c *cgroupCache) put(id uint64, v containerInfo) {
	if len(c.m) >= c.max {
		clear(c.m)
	}
	c.m[id] = v
}
