package queue

// fifo is a slice-backed queue whose head index advances on pop; the
// backing array is compacted once half of it is dead, so memory follows
// the queue's length rather than its history.
type fifo struct {
	items []Item
	head  int
	bytes int64
}

func (f *fifo) len() int { return len(f.items) - f.head }

func (f *fifo) push(it Item) {
	f.items = append(f.items, it)
	f.bytes += int64(len(it.Data))
}

func (f *fifo) peek() (Item, bool) {
	if f.len() == 0 {
		return Item{}, false
	}
	return f.items[f.head], true
}

func (f *fifo) pop() (Item, bool) {
	if f.len() == 0 {
		return Item{}, false
	}
	it := f.items[f.head]
	f.items[f.head] = Item{} // let the bytes be collected
	f.head++
	f.bytes -= int64(len(it.Data))
	if f.head == len(f.items) {
		f.items, f.head = f.items[:0], 0
	} else if f.head > 64 && f.head*2 > len(f.items) {
		n := copy(f.items, f.items[f.head:])
		clear(f.items[n:])
		f.items, f.head = f.items[:n], 0
	}
	return it, true
}
