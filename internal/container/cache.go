package container

import (
	"container/list"
	"time"
)

// cache is a size-capped LRU whose entries also expire, so a renamed or
// re-created container is picked up and a miss is retried. Not safe for
// concurrent use: the Resolver holds its lock around it.
type cache struct {
	max   int
	ll    *list.List // front = most recently used
	items map[string]*list.Element
}

type cacheEntry struct {
	id      string
	info    Info
	found   bool
	expires time.Time
}

func newCache(max int) *cache {
	return &cache{max: max, ll: list.New(), items: make(map[string]*list.Element)}
}

// get returns the live entry for id; an expired one is removed.
func (c *cache) get(id string, now time.Time) (cacheEntry, bool) {
	el, ok := c.items[id]
	if !ok {
		return cacheEntry{}, false
	}
	e := el.Value.(cacheEntry)
	if !now.Before(e.expires) {
		c.ll.Remove(el)
		delete(c.items, id)
		return cacheEntry{}, false
	}
	c.ll.MoveToFront(el)
	return e, true
}

// put stores e, evicting the least recently used entry when full.
func (c *cache) put(e cacheEntry) {
	if el, ok := c.items[e.id]; ok {
		el.Value = e
		c.ll.MoveToFront(el)
		return
	}
	if c.ll.Len() >= c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(cacheEntry).id)
	}
	c.items[e.id] = c.ll.PushFront(e)
}

func (c *cache) len() int { return c.ll.Len() }
