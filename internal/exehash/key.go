package exehash

import (
	"container/list"
	"fmt"
)

// key identifies one version of a file: a replaced binary has a new
// inode, an in-place rewrite a new mtime or size.
type key struct {
	dev, ino uint64
	size     int64
	mtimeNs  int64
}

func (k key) String() string { return fmt.Sprintf("%x:%x:%x:%x", k.dev, k.ino, k.size, k.mtimeNs) }

// lru is a size-capped least-recently-used map from key to digest. Not
// safe for concurrent use: the Hasher holds its lock around it.
type lru struct {
	max   int
	ll    *list.List // front = most recently used
	items map[key]*list.Element
}

type lruEntry struct {
	k   key
	sum string
}

func newLRU(max int) *lru { return &lru{max: max, ll: list.New(), items: make(map[key]*list.Element)} }

func (c *lru) get(k key) (string, bool) {
	el, ok := c.items[k]
	if !ok {
		return "", false
	}
	c.ll.MoveToFront(el)
	return el.Value.(lruEntry).sum, true
}

func (c *lru) put(k key, sum string) {
	if el, ok := c.items[k]; ok {
		el.Value = lruEntry{k, sum}
		c.ll.MoveToFront(el)
		return
	}
	if c.ll.Len() >= c.max {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.(lruEntry).k)
	}
	c.items[k] = c.ll.PushFront(lruEntry{k, sum})
}

func (c *lru) len() int { return c.ll.Len() }
