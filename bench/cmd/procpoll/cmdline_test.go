package main

import (
	"strings"
	"testing"
)

func TestCommandLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/bin/true\x00azis-1\x00", "/bin/true azis-1"},
		{"/bin/true\x00azis-1", "/bin/true azis-1"},
		{"", ""},
		{"\x00\x00\x00", ""},
		{"a\x00\x00b\x00", "a  b"},
		{"nginx: worker process", "nginx: worker process"},
		{"\xff\xfe\x00x\x00", "\xff\xfe x"},
	} {
		if got := commandLine([]byte(tc.in)); got != tc.want {
			t.Errorf("commandLine(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzCommandLine(f *testing.F) {
	f.Add([]byte("/bin/true\x00azis-1\x00"))
	f.Add([]byte("\x00"))
	f.Add([]byte("a\x00\x00b"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		got := commandLine(raw)
		if strings.ContainsRune(got, 0) {
			t.Fatalf("NUL left in %q", got)
		}
		if len(got) > len(raw) {
			t.Fatalf("grew: %d > %d", len(got), len(raw))
		}
		// A trailing NUL terminates the last argument; it never adds a word.
		if again := commandLine(append(raw[:len(raw):len(raw)], 0)); again != got {
			t.Fatalf("trailing NUL changed %q to %q", got, again)
		}
	})
}
