package baseline

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

var long = strings.Repeat("x", maxLineBytes+10)

// parserCase is one input of a parser table: what it must return (all
// the good lines) and the error, with a text the error must contain.
type parserCase[T any] struct {
	name    string
	input   string
	want    T
	wantErr error
	errText string
}

func runParser[T any](t *testing.T, parse func(io.Reader) (T, error), tests []parserCase[T]) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parse(strings.NewReader(tt.input))
			if !errors.Is(err, tt.wantErr) || tt.wantErr == nil && err != nil {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), tt.errText) {
				t.Errorf("err = %q, want it to say %q", err, tt.errText)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	t.Run("read error", func(t *testing.T) {
		_, err := parse(io.MultiReader(strings.NewReader("a\n"), iotest.ErrReader(errors.New("disk gone"))))
		if err == nil || !strings.Contains(err.Error(), "disk gone") {
			t.Errorf("err = %v, want the read error", err)
		}
	})
}

func TestParseShadow(t *testing.T) {
	root := shadowEntry{Name: "root", Password: pwLocked, MinDays: 0, MaxDays: 99999, Warn: 7, Inactive: -1}
	runParser(t, parseShadow, []parserCase[[]shadowEntry]{
		{name: "good", input: "root:!:19700:0:99999:7:::\nu:$6$x:1:1:365:7:30::\nv::1::::::\n",
			want: []shadowEntry{root, {"u", pwSet, 1, 365, 7, 30}, {"v", pwEmpty, -1, -1, -1, -1}}},
		{name: "old two-field format", input: "old:\n", want: []shadowEntry{{"old", pwEmpty, -1, -1, -1, -1}}},
		{name: "comments and NIS", input: "# c\n+\n-x\n\nroot:!:19700:0:99999:7:::\n", want: []shadowEntry{root}},
		{name: "no colon", input: "garbage\nroot:!:19700:0:99999:7:::\n", want: []shadowEntry{root},
			wantErr: errMalformed, errText: "line 1: want name:password"},
		{name: "empty name", input: ":x:1:1:1:1:::\nroot:!:19700:0:99999:7:::\n", want: []shadowEntry{root}, wantErr: errMalformed, errText: "line 1"},
		{name: "too many fields", input: "a:b:1:1:1:1:1:1:1:1\nroot:!:19700:0:99999:7:::\n", want: []shadowEntry{root}, wantErr: errMalformed},
		{name: "bad number kept", input: "u:$6$x:1:one:365:7:30::\n", want: []shadowEntry{{"u", pwSet, -1, 365, 7, 30}},
			wantErr: errMalformed, errText: "not a number"},
		{name: "over-long line", input: long + "\nroot:!:19700:0:99999:7:::\n", want: []shadowEntry{root},
			wantErr: errMalformed, errText: "line 1: longer than"},
		{name: "crlf", input: "root:!:19700:0:99999:7:::\r\n", want: []shadowEntry{root}},
	})
}

func TestParseAccounts(t *testing.T) {
	runParser(t, parsePasswd, []parserCase[[]account]{
		{name: "good", input: "root:x:0:0:root:/root:/bin/sh\n", want: []account{{"root", 0, 0}}},
		{name: "short line", input: "root:x:0:0\nu:x:1:1::/:/bin/sh\n", want: []account{{"u", 1, 1}},
			wantErr: errMalformed, errText: "line 1: want 7 fields"},
		{name: "bad uid kept", input: "u:x:one:1::/:/bin/sh\n", want: []account{{"u", -1, 1}}, wantErr: errMalformed, errText: "not a number"},
		{name: "uid overflow", input: "u:x:99999999999:1::/:/bin/sh\n", want: []account{{"u", -1, 1}}, wantErr: errMalformed},
		{name: "NIS skipped", input: "+::::::\n-bad::::::\n", want: nil},
	})
	runParser(t, parseGroup, []parserCase[[]account]{
		{name: "good", input: "root:x:0:\nadm:x:4:a,b\n", want: []account{{"root", 0, -1}, {"adm", 4, -1}}},
		{name: "too many fields", input: "root:x:0::\n", wantErr: errMalformed, errText: "want 4 fields"},
	})
}

func TestParseLoginDefs(t *testing.T) {
	runParser(t, parseLoginDefs, []parserCase[map[string]string]{
		{name: "good", input: "# c\nPASS_MAX_DAYS\t90 # trailing\nUMASK 027\n\nPASS_MAX_DAYS 30\n",
			want: map[string]string{"PASS_MAX_DAYS": "30", "UMASK": "027"}},
		{name: "key without value", input: "USERGROUPS_ENAB\n", want: map[string]string{"USERGROUPS_ENAB": ""}},
		{name: "over-long line skipped", input: long + "\nUMASK 077\n", want: map[string]string{"UMASK": "077"}},
		{name: "long line kept", input: "K " + strings.Repeat("v", 20000) + "\nUMASK 077", want: map[string]string{"K": strings.Repeat("v", 20000), "UMASK": "077"}},
	})
}

func TestParseSshdConfig(t *testing.T) {
	runParser(t, parseSshdConfig, []parserCase[[]sshdDirective]{
		{name: "forms", input: "PermitRootLogin no\nMaxAuthTries=3\n  LogLevel   \"VERBOSE\" # why\n#X11Forwarding yes\n",
			want: []sshdDirective{{"permitrootlogin", "no", false}, {"maxauthtries", "3", false}, {"loglevel", "VERBOSE", false}}},
		{name: "match blocks", input: "Match User x\nPermitRootLogin yes\nMatch all\nX11Forwarding no\n",
			want: []sshdDirective{{"permitrootlogin", "yes", true}, {"x11forwarding", "no", false}}},
		{name: "keyword alone", input: "Banner\n", want: []sshdDirective{{"banner", "", false}}},
		{name: "equals with spaces", input: "Ciphers = aes256-ctr\n", want: []sshdDirective{{"ciphers", "aes256-ctr", false}}},
	})
	ds, _ := parseSshdConfig(strings.NewReader("Match User x\nPermitRootLogin yes\nMatch all\nPermitRootLogin no\nPermitRootLogin yes\n"))
	if v, _ := sshdValue(ds, "PermitRootLogin"); v != "no" {
		t.Errorf("sshdValue = %q, want the first global value", v)
	}
}

func TestParseSysctlConf(t *testing.T) {
	runParser(t, parseSysctlConf, []parserCase[map[string]string]{
		{name: "good", input: "# c\n; c\nnet.ipv4.ip_forward = 0\n-kernel.x=1\nnet/ipv4/conf/eth0.100/rp_filter = 1\nnet.core.rmem = 1  2\t3\n",
			want: map[string]string{"net.ipv4.ip_forward": "0", "kernel.x": "1", "net.ipv4.conf.eth0.100.rp_filter": "1", "net.core.rmem": "1 2 3"}},
		{name: "no equals", input: "net.ipv4.ip_forward 0\nkernel.y = 2\n", want: map[string]string{"kernel.y": "2"},
			wantErr: errMalformed, errText: "line 1: want key = value"},
		{name: "no key", input: " = 1\n", wantErr: errMalformed},
		{name: "slash only", input: "/ = 1\n", wantErr: errMalformed},
	})
}

func TestParseDpkgStatus(t *testing.T) {
	runParser(t, parseDpkgStatus, []parserCase[map[string]bool]{
		{name: "states", input: "Package: a\nStatus: install ok installed\nDescription: x\n y\n\nPackage: b\nStatus: deinstall ok config-files\n\n" +
			"Package: c\nStatus: install ok half-installed\n\npackage: d\nstatus: hold ok installed\n",
			want: map[string]bool{"a": true, "d": true}},
		{name: "no package", input: "Status: install ok installed\n\nPackage: a\nStatus: install ok installed\n", want: map[string]bool{"a": true},
			wantErr: errMalformed, errText: "without a Package field"},
		{name: "line without colon", input: "Package: a\ngarbage\nStatus: install ok installed\n", want: map[string]bool{"a": true},
			wantErr: errMalformed, errText: "line 2"},
		{name: "short status", input: "Package: a\nStatus: installed\n", want: nil},
	})
}

func TestParseApkInstalled(t *testing.T) {
	runParser(t, parseApkInstalled, []parserCase[map[string]bool]{
		{name: "good", input: "C:Q1x\nP:musl\nV:1.2\n\nP:busybox\nV:1.36\n", want: map[string]bool{"musl": true, "busybox": true}},
		{name: "malformed", input: "P:musl\nthis is not apk\nP:\n", want: map[string]bool{"musl": true}, wantErr: errMalformed, errText: "line 2"},
	})
}

func TestParseModprobe(t *testing.T) {
	parse := func(r io.Reader) (modprobeRules, error) {
		m := newModprobeRules()
		return m, parseModprobe(r, m)
	}
	runParser(t, parse, []parserCase[modprobeRules]{
		{name: "directives", input: "install cramfs /bin/true\ninstall usb-storage /usr/bin/false # CIS\nblacklist rds\ninstall sctp /sbin/modprobe --ignore-install sctp\noptions x y=1\n",
			want: modprobeRules{Disabled: map[string]bool{"cramfs": true, "usb_storage": true}, Blacklisted: map[string]bool{"rds": true}}},
		{name: "incomplete", input: "install\nblacklist\ninstall dccp\n", want: newModprobeRules()},
		{name: "over-long", input: long + "\ninstall tipc /bin/true\n", want: modprobeRules{Disabled: map[string]bool{"tipc": true}, Blacklisted: map[string]bool{}},
			wantErr: errMalformed},
	})
}

func TestParseProcModules(t *testing.T) {
	runParser(t, parseProcModules, []parserCase[map[string]bool]{
		{name: "good", input: "usb_storage 77824 0 - Live 0x0\next4 1 1 - Live 0x0\n", want: map[string]bool{"usb_storage": true, "ext4": true}},
		{name: "odd", input: " leading\nonlyname\n", want: map[string]bool{"onlyname": true}},
	})
}

func TestParseMounts(t *testing.T) {
	runParser(t, parseMounts, []parserCase[[]mountEntry]{
		{name: "escapes", input: "/dev/sdb1 /media/my\\040stick vfat rw,nodev 0 0\n",
			want: []mountEntry{{"/dev/sdb1", "/media/my stick", "vfat", []string{"rw", "nodev"}}}},
		{name: "bad escape kept", input: "a /x\\09 t o 0 0\n", want: []mountEntry{{"a", "/x\\09", "t", []string{"o"}}}},
		{name: "short line", input: "tmpfs /tmp\nproc /proc proc rw 0 0\n", want: []mountEntry{{"proc", "/proc", "proc", []string{"rw"}}},
			wantErr: errMalformed, errText: "line 1: want at least 4 fields"},
	})
}

func TestParseUnitFile(t *testing.T) {
	runParser(t, parseUnitFile, []parserCase[unitInstall]{
		{name: "install", input: "[Unit]\nDescription=x\n[Install]\nWantedBy=multi-user.target\nAlias=a.service \\\n  b.service\nAlso=x.socket\n; comment\n",
			want: unitInstall{Alias: []string{"a.service", "b.service"}, Also: []string{"x.socket"}, WantedBy: []string{"multi-user.target"}}},
		{name: "outside a section", input: "Alias=x\n[Install]\nAlias=y\n", want: unitInstall{Alias: []string{"y"}},
			wantErr: errMalformed, errText: "line 1: want Key=value inside a section"},
		{name: "broken header", input: "[Install\nAlias=y\n", wantErr: errMalformed, errText: "unterminated"},
		{name: "no equals", input: "[Install]\nWantedBy\nAlso=z\n", want: unitInstall{Also: []string{"z"}}, wantErr: errMalformed},
	})
}

func TestTooManyLines(t *testing.T) {
	r := io.LimitReader(&repeat{line: []byte("x\n")}, int64(maxLines+1)*2)
	if _, err := parseLoginDefs(r); !errors.Is(err, errTooManyLines) {
		t.Errorf("err = %v, want errTooManyLines", err)
	}
}

// repeat reads the same line forever.
type repeat struct{ line []byte }

func (r *repeat) Read(p []byte) (int, error) {
	n := 0
	for n+len(r.line) <= len(p) {
		n += copy(p[n:], r.line)
	}
	return n, nil
}
