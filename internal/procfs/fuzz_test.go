package procfs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seed adds every fixture file named name under testdata/proc.
func seed(f *testing.F, name string) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "proc", "*", name))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

func FuzzParseStat(f *testing.F) {
	seed(f, "stat")
	f.Add([]byte("1 ((() S 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStat(b)
		if err != nil {
			return
		}
		if s.PID < 0 || s.PPID < 0 || strings.Count(string(b), ")") == 0 {
			t.Fatalf("accepted impossible stat %q: %+v", b, s)
		}
		// comm sits between the first '(' and the last ')'.
		if !bytes.Contains(b, []byte("("+s.Comm+")")) {
			t.Fatalf("comm %q not in %q", s.Comm, b)
		}
	})
}

func FuzzParseStatus(f *testing.F) {
	seed(f, "status")
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStatus(bytes.NewReader(b))
		if err != nil {
			return
		}
		if s.Tgid < 0 || s.PPid < 0 || len(s.NSpid) > 33 {
			t.Fatalf("accepted impossible status: %+v", s)
		}
	})
}

func FuzzParseCgroup(f *testing.F) {
	seed(f, "cgroup")
	f.Add([]byte("9:name=systemd:/\n4:memory:/process_api/6affae0b\n0::/\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		lines, err := ParseCgroup(bytes.NewReader(b))
		if err != nil {
			return
		}
		if len(lines) > maxCgroupLines {
			t.Fatalf("%d lines", len(lines))
		}
		for _, l := range lines {
			if l.HierarchyID < 0 || !strings.HasPrefix(l.Path, "/") {
				t.Fatalf("bad line %+v", l)
			}
		}
	})
}
