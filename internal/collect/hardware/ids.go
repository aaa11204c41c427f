package hardware

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

const (
	// maxIDsBytes bounds an ids file; pci.ids is about 1.5 MiB today.
	maxIDsBytes = 16 << 20
	// maxIDsLine bounds one line; longer lines are skipped.
	maxIDsLine = 1024
	// maxIDCache bounds the names remembered between snapshots.
	maxIDCache = 4096
)

// idKey is a vendor id with a product (USB) or device (PCI) id.
type idKey struct{ vendor, product uint16 }

// idNames are the database names of one idKey; either may be empty.
type idNames struct{ vendor, product string }

// parseIDs reads the usb.ids/pci.ids format and returns the names of the
// wanted pairs only, so memory is bounded by the devices present, not by
// the file:
//
//	vvvv  Vendor name
//	<TAB>pppp  Product name
//	<TAB><TAB>ssss ssss  Subsystem name (ignored)
//	C 02  Class (another section: ends the vendor list)
//
// Malformed lines are skipped; only a read error is returned.
func parseIDs(r io.Reader, want map[idKey]bool) (map[idKey]idNames, error) {
	wantVendor := map[uint16]bool{}
	for k := range want {
		wantVendor[k.vendor] = true
	}
	vendors := map[uint16]string{}
	products := map[idKey]string{}
	br := bufio.NewReaderSize(r, maxIDsLine)
	inVendor := false
	var vendor uint16
	for {
		line, err := readLine(br)
		if len(line) > 0 {
			switch {
			case line[0] == '#':
			case len(line) > 1 && line[0] == '\t' && line[1] == '\t':
			case line[0] == '\t':
				if id, name, ok := splitID(line[1:]); ok && inVendor && want[idKey{vendor, id}] {
					products[idKey{vendor, id}] = cleanAttr(name)
				}
			default:
				id, name, ok := splitID(line)
				inVendor, vendor = ok, id
				if ok && wantVendor[id] {
					vendors[id] = cleanAttr(name)
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	out := make(map[idKey]idNames, len(want))
	for k := range want {
		out[k] = idNames{vendor: vendors[k.vendor], product: products[k]}
	}
	return out, nil
}

// readLine returns the next line without its newline, valid until the
// next read; a line longer than the reader's buffer is consumed and
// returned empty.
func readLine(br *bufio.Reader) ([]byte, error) {
	b, err := br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		for errors.Is(err, bufio.ErrBufferFull) {
			_, err = br.ReadSlice('\n')
		}
		return nil, err
	}
	return bytes.TrimRight(b, "\r\n"), err
}

// splitID splits "1d6b  Linux Foundation" into its id and name. It does
// not allocate: most lines of a file are not wanted.
func splitID(s []byte) (uint16, []byte, bool) {
	if len(s) < 6 || (s[4] != ' ' && s[4] != '\t') {
		return 0, nil, false
	}
	var id uint16
	for _, c := range s[:4] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, nil, false
		}
		id = id<<4 | uint16(v)
	}
	name := bytes.TrimSpace(s[5:])
	if len(name) == 0 {
		return 0, nil, false
	}
	return id, name, true
}

// idsDB looks names up in one ids file of the host, lazily: a file is read
// only when a snapshot holds ids not seen before, and one pass resolves
// all of them.
type idsDB struct {
	root  hostfs.Root
	paths [][]string
	cache map[idKey]idNames
}

func newIDsDB(root hostfs.Root, file string) *idsDB {
	return &idsDB{
		root: root,
		// hwdata on Fedora, Alpine and Debian's hwdata; usb.ids and
		// pci.ids packages on Debian and Ubuntu.
		paths: [][]string{{"usr", "share", "hwdata", file}, {"usr", "share", "misc", file}},
		cache: map[idKey]idNames{},
	}
}

// names returns the names of keys, reading the file only for keys not yet
// cached. Without a readable file every name is empty, and the next call
// tries again (hwdata may be installed later).
func (d *idsDB) names(keys []idKey) (map[idKey]idNames, error) {
	want := map[idKey]bool{}
	for _, k := range keys {
		if _, ok := d.cache[k]; !ok {
			want[k] = true
		}
	}
	if len(want) > 0 {
		found, err := d.read(want)
		if err != nil {
			return nil, err
		}
		if len(d.cache)+len(found) > maxIDCache {
			clear(d.cache)
		}
		for k, n := range found {
			d.cache[k] = n
		}
	}
	out := make(map[idKey]idNames, len(keys))
	for _, k := range keys {
		out[k] = d.cache[k]
	}
	return out, nil
}

func (d *idsDB) read(want map[idKey]bool) (map[idKey]idNames, error) {
	for _, p := range d.paths {
		f, err := d.root.Open(p...)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		found, err := parseIDs(hostfs.LimitedReader(f, maxIDsBytes), want)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", f.Name(), err)
		}
		return found, nil
	}
	return nil, nil
}
