package procfs

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseStat(t *testing.T) {
	tail := " 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 424242 19 20\n"
	tests := []struct {
		name    string
		input   string
		want    Stat
		wantErr bool
	}{
		{name: "typical", input: "42 (bash) S 7" + tail, want: Stat{PID: 42, Comm: "bash", State: 'S', PPID: 7, StartTicks: 424242}},
		{name: "comm with spaces and parens", input: "5 (a) (b c)) R 1" + tail, want: Stat{PID: 5, Comm: "a) (b c)", State: 'R', PPID: 1, StartTicks: 424242}},
		{name: "empty comm", input: "5 () Z 1" + tail, want: Stat{PID: 5, State: 'Z', PPID: 1, StartTicks: 424242}},
		{name: "pid 0 parent, no newline", input: "2 (kthreadd) S 0" + strings.TrimSuffix(tail, "\n"), want: Stat{PID: 2, Comm: "kthreadd", State: 'S', StartTicks: 424242}},
		{name: "empty", input: "", wantErr: true},
		{name: "no comm", input: "42 bash S 7" + tail, wantErr: true},
		{name: "no pid", input: "(bash) S 7" + tail, wantErr: true},
		{name: "bad pid", input: "x (bash) S 7" + tail, wantErr: true},
		{name: "negative pid", input: "-4 (bash) S 7" + tail, wantErr: true},
		{name: "pid overflows int32", input: "4294967296 (bash) S 7" + tail, wantErr: true},
		{name: "truncated before starttime", input: "42 (bash) S 7 1 2 3\n", wantErr: true},
		{name: "bad state", input: "42 (bash) SS 7" + tail, wantErr: true},
		{name: "bad ppid", input: "42 (bash) S -7" + tail, wantErr: true},
		{name: "bad starttime", input: "42 (bash) S 7 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 -1 19\n", wantErr: true},
		{name: "only close paren before open", input: ") 42 (bash S 7" + tail, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStat([]byte(tt.input))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Errorf("err %v does not wrap ErrMalformed", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestTicksToTime(t *testing.T) {
	boot := time.Unix(1000, 0)
	if got, want := TicksToTime(boot, 12345), time.Unix(1123, 450_000_000); !got.Equal(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestParseBootTime(t *testing.T) {
	tests := []struct {
		name, input string
		want        int64
		wantErr     bool
	}{
		{name: "typical", input: "cpu 1 2\nintr " + strings.Repeat("0 ", 5000) + "\nbtime 1764300000\n", want: 1764300000},
		{name: "missing", input: "cpu 1 2\n", wantErr: true},
		{name: "bad", input: "btime soon\n", wantErr: true},
		{name: "zero", input: "btime 0\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseBootTime(strings.NewReader(tt.input))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && got.Unix() != tt.want {
				t.Errorf("got %d, want %d", got.Unix(), tt.want)
			}
		})
	}
}

func TestParseStatus(t *testing.T) {
	base := "Name:\tsh\nTgid:\t10\nPid:\t11\nPPid:\t1\nUid:\t0\t1\t2\t3\nGid:\t4\t5\t6\t7\n"
	tests := []struct {
		name    string
		input   string
		want    Status
		wantErr bool
	}{
		{name: "no NSpid (old kernel)", input: base, want: Status{Name: "sh", Tgid: 10, PPid: 1, UID: [4]uint32{0, 1, 2, 3}, GID: [4]uint32{4, 5, 6, 7}}},
		{name: "nested namespaces, unknown keys, overlong Groups",
			input: base + "Groups:\t" + strings.Repeat("1000 ", 20000) + "\nNSpid:\t10\t5\t1\nNewKey:\tx\n",
			want:  Status{Name: "sh", Tgid: 10, PPid: 1, UID: [4]uint32{0, 1, 2, 3}, GID: [4]uint32{4, 5, 6, 7}, NSpid: []int32{10, 5, 1}}},
		{name: "max uid", input: strings.Replace(base, "0\t1\t2\t3", "4294967295\t0\t0\t0", 1),
			want: Status{Name: "sh", Tgid: 10, PPid: 1, UID: [4]uint32{4294967295, 0, 0, 0}, GID: [4]uint32{4, 5, 6, 7}}},
		{name: "empty", input: "", wantErr: true},
		{name: "missing Uid", input: "Tgid:\t1\nPPid:\t0\nGid:\t0\t0\t0\t0\n", wantErr: true},
		{name: "three uids", input: strings.Replace(base, "0\t1\t2\t3", "0\t1\t2", 1), wantErr: true},
		{name: "uid overflow", input: strings.Replace(base, "0\t1\t2\t3", "4294967296\t1\t2\t3", 1), wantErr: true},
		{name: "bad PPid", input: strings.Replace(base, "PPid:\t1", "PPid:\t-1", 1), wantErr: true},
		{name: "bad NSpid", input: base + "NSpid:\t10\tx\n", wantErr: true},
		{name: "empty NSpid", input: base + "NSpid:\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStatus(strings.NewReader(tt.input))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseCmdline(t *testing.T) {
	tests := []struct {
		name, input string
		want        []string
		line        string
	}{
		{name: "kernel thread", input: ""},
		{name: "typical", input: "/bin/sh\x00-c\x00echo a  b\x00", want: []string{"/bin/sh", "-c", "echo a  b"}, line: "/bin/sh -c echo a  b"},
		{name: "empty arguments kept", input: "a\x00\x00b\x00", want: []string{"a", "", "b"}, line: "a  b"},
		{name: "no trailing NUL", input: "a\x00b", want: []string{"a", "b"}, line: "a b"},
		{name: "setproctitle rewrite", input: "postgres: writer process   ", want: []string{"postgres: writer process   "}, line: "postgres: writer process   "},
		{name: "single NUL", input: "\x00", want: []string{""}, line: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ParseCmdline([]byte(tt.input))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("argv (-want +got):\n%s", diff)
			}
			if l := JoinArgv(got); l != tt.line {
				t.Errorf("line %q, want %q", l, tt.line)
			}
		})
	}
}

func TestSmallParsers(t *testing.T) {
	if p, del := ParseExeLink("/usr/bin/x (deleted)"); p != "/usr/bin/x" || !del {
		t.Errorf("ParseExeLink deleted = %q %v", p, del)
	}
	if p, del := ParseExeLink("/usr/bin/my (deleted) tool"); p != "/usr/bin/my (deleted) tool" || del {
		t.Errorf("ParseExeLink inner = %q %v", p, del)
	}
	for in, want := range map[string]struct {
		uid    uint32
		ok, er bool
	}{"1000": {1000, true, false}, "4294967295": {4294967295, false, false}, "0\n": {0, true, false}, "": {0, false, true}, "-1": {0, false, true}} {
		uid, ok, err := ParseLoginUID([]byte(in))
		if (uid != want.uid && err == nil) || ok != want.ok || (err != nil) != want.er {
			t.Errorf("ParseLoginUID(%q) = %d %v %v", in, uid, ok, err)
		}
	}
	if id, err := ParseBootID([]byte("6f2b3c1e-1d2a-4b7c-9e3f-0a1b2c3d4e5f\n")); err != nil || id != "6f2b3c1e-1d2a-4b7c-9e3f-0a1b2c3d4e5f" {
		t.Errorf("ParseBootID = %q %v", id, err)
	}
	if _, err := ParseBootID([]byte("nope")); err == nil {
		t.Error("ParseBootID accepted garbage")
	}
}

func TestParseCgroup(t *testing.T) {
	id := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		input   string
		want    []CgroupLine
		wantErr bool
	}{
		{name: "v1 hybrid (this machine)", input: "9:name=systemd:/\n2:cpu,cpuacct:/docker/" + id + "\n0::/\n", want: []CgroupLine{
			{HierarchyID: 9, Controllers: []string{"name=systemd"}, Path: "/"},
			{HierarchyID: 2, Controllers: []string{"cpu", "cpuacct"}, Path: "/docker/" + id},
			{HierarchyID: 0, Path: "/"},
		}},
		{name: "v2 only, colon in path", input: "0::/a:b/c\n", want: []CgroupLine{{Path: "/a:b/c"}}},
		{name: "blank lines", input: "\n0::/x\n\n", want: []CgroupLine{{Path: "/x"}}},
		{name: "empty"},
		{name: "one colon", input: "0:/x\n", wantErr: true},
		{name: "bad id", input: "x::/\n", wantErr: true},
		{name: "negative id", input: "-1::/\n", wantErr: true},
		{name: "relative path", input: "0::x\n", wantErr: true},
		{name: "empty path", input: "0::\n", wantErr: true},
		{name: "too many lines", input: strings.Repeat("0::/\n", maxCgroupLines+1), wantErr: true},
		{name: "overlong line", input: "0::/" + strings.Repeat("a", maxCgroupBytes) + "\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCgroup(strings.NewReader(tt.input))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	l := CgroupLine{HierarchyID: 3, Controllers: []string{"pids"}, Path: "/"}
	if !l.Has("pids") || l.Has("cpu") || l.V2() {
		t.Errorf("CgroupLine methods wrong for %+v", l)
	}
}

func TestParsePasswdNames(t *testing.T) {
	in := "root:x:0:0::/root:/bin/sh\n+nis::::::\n#c:x:5:5\nbad:x:abc:1\nshort:x\ntoor:x:0:0::/:\n" +
		strings.Repeat("z", 70000) + ":x:9:9\nlast:x:7:7::/:"
	want := map[uint32]string{0: "root", 7: "last"}
	if diff := cmp.Diff(want, ParsePasswdNames(strings.NewReader(in))); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
