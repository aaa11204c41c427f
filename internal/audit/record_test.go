package audit

import (
	"errors"
	"slices"
	"testing"
	"time"
)

const (
	syscallText = `audit(1764380000.123:4242): arch=c000003e syscall=59 success=yes exit=0 a0=55d0 a1=55d1 a2=55d2 a3=0 items=2 ppid=100 pid=4242 auid=4294967295 uid=1000 gid=1000 euid=0 suid=0 fsuid=0 egid=0 sgid=0 fsgid=0 tty=(none) ses=4294967295 comm="true" exe="/usr/bin/true" subj=unconfined key="azureiotsecurity"`
	execveText  = `audit(1764380000.123:4242): argc=4 a0="/bin/true" a1=68656C6C6F20776F726C64 a2="" a3="x"`
	cwdText     = `audit(1764380000.123:4242): cwd="/tmp"`
	ptText      = `audit(1764380000.123:4242): proctitle=2F62696E2F7472756500612062`
	eoeText     = `audit(1764380000.123:4242): `
	userText    = `audit(1764380001.5:77): pid=1 uid=0 auid=1000 ses=3 msg='op=PAM:authentication grantors=? acct="bob" exe="/usr/sbin/sshd" hostname=10.0.0.1 addr=10.0.0.1 terminal=ssh res=failed'`
)

func mustParse(t testing.TB, typ uint16, text string) Record {
	t.Helper()
	r, err := ParseRecord(typ, []byte(text))
	if err != nil {
		t.Fatalf("ParseRecord(%q): %v", text, err)
	}
	return r
}

func TestParseRecord(t *testing.T) {
	r := mustParse(t, TypeSyscall, syscallText)
	if r.Serial != 4242 || !r.Time.Equal(time.Unix(1764380000, 123e6)) {
		t.Errorf("header = %d %v", r.Serial, r.Time)
	}
	if v, _ := r.String("exe"); v != "/usr/bin/true" {
		t.Errorf("exe = %q", v)
	}
	if v, _ := r.Int("ppid"); v != 100 {
		t.Errorf("ppid = %d", v)
	}
	if _, ok := r.String("tty"); !ok {
		t.Error("tty missing")
	}
	u := mustParse(t, TypeUserAuth, userText)
	if v, _ := u.String("acct"); v != "bob" {
		t.Errorf("acct in msg = %q", v)
	}
	if v, _ := u.Get("res"); v != "failed" {
		t.Errorf("res in msg = %q", v)
	}
	if v, ok := u.String("grantors"); ok {
		t.Errorf("grantors=? = %q, want absent", v)
	}

	for name, text := range map[string]string{
		"empty":          "",
		"no header":      "arch=c000003e syscall=59",
		"unclosed":       "audit(1764380000.123:42 arch=1",
		"no serial":      "audit(1764380000.123): a=1",
		"bad serial":     "audit(1764380000.123:x): a=1",
		"bad time":       "audit(abc.123:1): a=1",
		"bad fraction":   "audit(1.-5:1): a=1",
		"long fraction":  "audit(1.1234567890:1): a=1",
		"negative frac ": "audit(1.x:1): a=1",
	} {
		if _, err := ParseRecord(TypeSyscall, []byte(text)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// Odd but harmless bodies parse.
	for _, text := range []string{
		`audit(1.0:1): key="unterminated`, `audit(1.0:1): msg='no end`, `audit(1.0:1): bare words k=v`, `audit(1.0:1):`,
	} {
		if _, err := ParseRecord(TypeSyscall, []byte(text)); err != nil {
			t.Errorf("%q: %v", text, err)
		}
	}
}

func TestDecodeValue(t *testing.T) {
	for in, want := range map[string]string{
		`"plain"`: "plain", "2F746D70": "/tmp", "2f746d70": "/tmp", "abc": "abc", "ZZ": "ZZ",
	} {
		if got, ok := DecodeValue(in); !ok || got != want {
			t.Errorf("DecodeValue(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"(null)", "?", ""} {
		if _, ok := DecodeValue(in); ok {
			t.Errorf("DecodeValue(%q) present, want absent", in)
		}
	}
}

func execEvent(t testing.TB, execve ...string) Event {
	ev := Event{Serial: 4242, Records: []Record{mustParse(t, TypeSyscall, syscallText)}}
	for _, e := range execve {
		ev.Records = append(ev.Records, mustParse(t, TypeExecve, e))
	}
	ev.Records = append(ev.Records, mustParse(t, TypeCWD, cwdText), mustParse(t, TypeProctitle, ptText))
	return ev
}

func TestParseExec(t *testing.T) {
	x, err := ParseExec(execEvent(t, execveText))
	if err != nil {
		t.Fatal(err)
	}
	if x.PID != 4242 || x.PPID != 100 || x.UID != 1000 || x.AUID != 4294967295 || !x.Success ||
		x.Exe != "/usr/bin/true" || x.Comm != "true" || x.CWD != "/tmp" || x.Key != "azureiotsecurity" || x.ArgvTruncated {
		t.Errorf("exec = %+v", x)
	}
	if want := []string{"/bin/true", "hello world", "", "x"}; !slices.Equal(x.Argv, want) {
		t.Errorf("argv = %q, want %q", x.Argv, want)
	}
	// Without EXECVE records, the proctitle stands in, flagged.
	x, err = ParseExec(execEvent(t))
	if err != nil || !slices.Equal(x.Argv, []string{"/bin/true", "a b"}) || !x.ArgvTruncated {
		t.Errorf("proctitle fallback = %q, %v, %v", x.Argv, x.ArgvTruncated, err)
	}
	// A connect is not an exec.
	sc := mustParse(t, TypeSyscall, `audit(1.0:5): arch=c000003e syscall=42 success=yes`)
	if _, err := ParseExec(Event{Records: []Record{sc}}); !errors.Is(err, ErrNotExec) {
		t.Errorf("connect: err = %v", err)
	}
	if _, err := ParseExec(Event{}); !errors.Is(err, ErrNotExec) {
		t.Errorf("empty: err = %v", err)
	}
}

// TestDecodeArgsSplit: a long argument is split into aN[i] chunks, and a
// huge argv over several EXECVE records.
func TestDecodeArgsSplit(t *testing.T) {
	recs := []string{
		`audit(1.0:9): argc=3 a0="sh" a1_len=10 a1[0]=3031323334`,
		`audit(1.0:9): a1[1]=3536373839 a2="-c"`,
	}
	var rs []*Record
	for _, s := range recs {
		r := mustParse(t, TypeExecve, s)
		rs = append(rs, &r)
	}
	argv, err := DecodeArgs(rs)
	if err != nil || !slices.Equal(argv, []string{"sh", "0123456789", "-c"}) {
		t.Errorf("argv = %q, %v", argv, err)
	}
	for name, text := range map[string]string{
		"no argc":          `audit(1.0:9): a0="x"`,
		"bad argc":         `audit(1.0:9): argc=x a0="x"`,
		"negative argc":    `audit(1.0:9): argc=-1`,
		"huge argc":        `audit(1.0:9): argc=99999999`,
		"missing arg":      `audit(1.0:9): argc=2 a0="x"`,
		"chunk not hex":    `audit(1.0:9): argc=1 a0_len=2 a0[0]=zz`,
		"chunk gap":        `audit(1.0:9): argc=1 a0_len=2 a0[1]=41`,
		"huge index":       `audit(1.0:9): argc=1 a99999999="x"`,
		"chunk index junk": `audit(1.0:9): argc=1 a0[x]=41`,
	} {
		r := mustParse(t, TypeExecve, text)
		if _, err := DecodeArgs([]*Record{&r}); !errors.Is(err, ErrArgv) {
			t.Errorf("%s: err = %v, want ErrArgv", name, err)
		}
	}
}

func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{syscallText, execveText, cwdText, ptText, eoeText, userText,
		`audit(1.0:9): argc=3 a0="sh" a1_len=10 a1[0]=3031323334 a1[1]=3536373839 a2="-c"`} {
		f.Add(uint16(TypeExecve), []byte(s))
	}
	f.Fuzz(func(t *testing.T, typ uint16, b []byte) {
		r, err := ParseRecord(typ, b)
		if err != nil {
			return
		}
		if len(r.Fields) > maxFields {
			t.Fatalf("%d fields", len(r.Fields))
		}
		_, _ = DecodeArgs([]*Record{&r})
		_, _ = ParseExec(Event{Records: []Record{{Type: TypeSyscall, Fields: []Field{{"arch", "c000003e"}, {"syscall", "59"}}}, r}})
	})
}
