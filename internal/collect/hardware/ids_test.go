package hardware

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

func TestParseIDs(t *testing.T) {
	want := map[idKey]bool{{0x1d6b, 0x0002}: true, {0x1d6b, 0x9999}: true, {0x0781, 0x5581}: true, {0xdead, 0x0001}: true}
	tests := []struct {
		name, input string
		want        map[idKey]idNames
	}{
		{"vendor and product", "1d6b  Linux Foundation\n\t0002  2.0 root hub\n", map[idKey]idNames{
			{0x1d6b, 0x0002}: {"Linux Foundation", "2.0 root hub"},
			{0x1d6b, 0x9999}: {"Linux Foundation", ""},
		}},
		{"crlf, comments, subsystems", "# c\r\n1d6b  Linux Foundation\r\n\t\t1234 5678  sub\r\n\t0002  2.0 root hub\r\n", map[idKey]idNames{
			{0x1d6b, 0x0002}: {"Linux Foundation", "2.0 root hub"},
			{0x1d6b, 0x9999}: {"Linux Foundation", ""},
		}},
		{"a class section ends the vendor", "1d6b  Linux Foundation\nC 00  Class\n\t0002  Not a product\n", map[idKey]idNames{
			{0x1d6b, 0x9999}: {"Linux Foundation", ""},
			{0x1d6b, 0x0002}: {"Linux Foundation", ""},
		}},
		{"product before any vendor", "\t0002  orphan\n0781  SanDisk Corp.\n", map[idKey]idNames{
			{0x0781, 0x5581}: {"SanDisk Corp.", ""},
		}},
		{"malformed lines skipped", "1d6b\nzzzz  bad\n1d6bX bad\n1d6b  \n0781  SanDisk Corp.\n\t55  short\n\t5581\tUltra\n", map[idKey]idNames{
			{0x0781, 0x5581}: {"SanDisk Corp.", "Ultra"},
		}},
		{"overlong line skipped", "0781  " + strings.Repeat("x", 5000) + "\n0781  SanDisk Corp.\n", map[idKey]idNames{
			{0x0781, 0x5581}: {"SanDisk Corp.", ""},
		}},
		{"no final newline", "0781  SanDisk Corp.\n\t5581  Ultra", map[idKey]idNames{
			{0x0781, 0x5581}: {"SanDisk Corp.", "Ultra"},
		}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseIDs(iotest.HalfReader(strings.NewReader(tt.input)), want)
			if err != nil {
				t.Fatal(err)
			}
			for k := range got {
				if got[k] == (idNames{}) {
					delete(got, k)
				}
			}
			if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(idNames{}), cmp.AllowUnexported(idKey{}), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	if _, err := parseIDs(iotest.ErrReader(errors.New("boom")), want); err == nil {
		t.Error("read error: want an error")
	}
}

func FuzzParseIDs(f *testing.F) {
	f.Add("1d6b  Linux Foundation\n\t0002  2.0 root hub\n")
	f.Add("C 00  x\n\t0002  y\n\t\t1234 5678  z\n")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseIDs(strings.NewReader(s), map[idKey]bool{{0x1d6b, 0x0002}: true})
		if err != nil {
			t.Fatal(err) // only read errors, and strings.Reader has none
		}
		if len(got) != 1 {
			t.Fatalf("got %d names, want exactly the wanted one", len(got))
		}
	})
}

// TestIDsDBLazy: the file is read once for ids not seen before; a missing
// file is looked for again.
func TestIDsDBLazy(t *testing.T) {
	root := t.TempDir()
	db := newIDsDB(hostfs.Root(root), "usb.ids")
	k := idKey{0x0781, 0x5581}
	if n, err := db.names([]idKey{k}); err != nil || n[k] != (idNames{}) {
		t.Fatalf("without a file: %v, %v", n, err)
	}
	p := filepath.Join(root, "usr/share/misc/usb.ids")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte("0781  SanDisk Corp.\n\t5581  Ultra\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.names([]idKey{k}); n[k] != (idNames{"SanDisk Corp.", "Ultra"}) {
		t.Fatalf("names = %v, want them from the file", n)
	}
	if err := os.Remove(p); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.names([]idKey{k}); n[k] != (idNames{"SanDisk Corp.", "Ultra"}) {
		t.Errorf("names = %v, want them cached", n)
	}
}

// BenchmarkParseIDs scans a synthetic file the size of pci.ids for the
// ids of a typical host.
func BenchmarkParseIDs(b *testing.B) {
	var sb strings.Builder
	for v := range 2000 {
		fmt.Fprintf(&sb, "%04x  Vendor number %d\n", v, v)
		for d := range 15 {
			fmt.Fprintf(&sb, "\t%04x  Device number %d of vendor %d\n", d, d, v)
		}
	}
	data := sb.String()
	want := map[idKey]bool{}
	for i := range 30 {
		want[idKey{uint16(i * 60), uint16(i % 15)}] = true
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := parseIDs(strings.NewReader(data), want); err != nil {
			b.Fatal(err)
		}
	}
}
