package baseline

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
)

// Fuzz targets: every parser of host data must return (never panic),
// fail only with the errors it documents, and keep its invariants.
// Run each with: go test -run '^$' -fuzz FuzzXxx -fuzztime 20s ./internal/collect/baseline/

func wantParseErr(t *testing.T, err error) {
	t.Helper()
	if err != nil && !errors.Is(err, errMalformed) && !errors.Is(err, errTooManyLines) {
		t.Fatalf("unexpected error %v", err)
	}
}

func FuzzParseShadow(f *testing.F) {
	f.Add([]byte("root:!:19700:0:99999:7:::\nu:$6$x:1:1:365:7:30::\nv::\n+\n# c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		es, err := parseShadow(bytes.NewReader(b))
		wantParseErr(t, err)
		for _, e := range es {
			if e.Name == "" || strings.ContainsAny(e.Name, ":\n") || e.Password > pwSet {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}

func FuzzParseAccounts(f *testing.F) {
	f.Add([]byte("root:x:0:0:root:/root:/bin/sh\nroot:x:0:\n+::::::\nx:x:y:z\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, parse := range []func(io.Reader) ([]account, error){parsePasswd, parseGroup} {
			as, err := parse(bytes.NewReader(b))
			wantParseErr(t, err)
			for _, a := range as {
				if a.Name == "" || a.ID < -1 || a.ID > 1<<32-1 {
					t.Fatalf("bad account %+v", a)
				}
			}
			_ = accountRule("primaryGroupsExist", as, as)
			_ = accountRule("uniqueUids", as, as)
		}
	})
}

func FuzzParseLoginDefs(f *testing.F) {
	f.Add([]byte("PASS_MAX_DAYS 90 # c\nUMASK\t027\n#x\n"))
	f.Add([]byte("K " + strings.Repeat("v", 5000) + "\r\nU 1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		defs, err := parseLoginDefs(bytes.NewReader(b))
		wantParseErr(t, err)
		for k := range defs {
			if k == "" || strings.ContainsAny(k, " \t\n") {
				t.Fatalf("bad key %q", k)
			}
		}
	})
}

func FuzzParseSshdConfig(f *testing.F) {
	f.Add([]byte("PermitRootLogin no\nMatch User x\n X11Forwarding=yes\nMatch all\nInclude /etc/ssh/sshd_config.d/*.conf\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ds, err := parseSshdConfig(bytes.NewReader(b))
		wantParseErr(t, err)
		for _, d := range ds {
			if d.Key == "" || d.Key != strings.ToLower(d.Key) || d.Key == "match" {
				t.Fatalf("bad directive %+v", d)
			}
		}
	})
}

func FuzzParseSysctlConf(f *testing.F) {
	f.Add([]byte("net.ipv4.ip_forward = 0\n-kernel/x=1\n; c\nbad\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := parseSysctlConf(bytes.NewReader(b))
		wantParseErr(t, err)
		for k := range m {
			if k == "" {
				t.Fatal("empty key")
			}
		}
	})
}

func FuzzParseDpkgStatus(f *testing.F) {
	f.Add([]byte("Package: a\nStatus: install ok installed\nDescription: x\n y\n\nPackage: b\nStatus: deinstall ok config-files\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := parseDpkgStatus(bytes.NewReader(b))
		wantParseErr(t, err)
		if _, ok := pkgs[""]; ok {
			t.Fatal("empty package name")
		}
	})
}

func FuzzParseApkInstalled(f *testing.F) {
	f.Add([]byte("C:Q1\nP:musl\nV:1\n\nP:busybox\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := parseApkInstalled(bytes.NewReader(b))
		wantParseErr(t, err)
		if _, ok := pkgs[""]; ok {
			t.Fatal("empty package name")
		}
	})
}

func FuzzParseModprobe(f *testing.F) {
	f.Add([]byte("install cramfs /bin/true\nblacklist rds\ninstall x /sbin/modprobe x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		m := newModprobeRules()
		wantParseErr(t, parseModprobe(bytes.NewReader(b), m))
		for n := range m.Disabled {
			if strings.Contains(n, "-") {
				t.Fatalf("name %q not normalised", n)
			}
		}
	})
}

func FuzzParseMounts(f *testing.F) {
	f.Add([]byte("/dev/sdb1 /media/a\\040b vfat rw,nodev 0 0\nshort line\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		ms, err := parseMounts(bytes.NewReader(b))
		wantParseErr(t, err)
		for _, m := range ms {
			if m.FSType == "" || len(m.Options) == 0 {
				t.Fatalf("bad mount %+v", m)
			}
		}
		mods, err := parseProcModules(bytes.NewReader(b))
		wantParseErr(t, err)
		if mods[""] {
			t.Fatal("empty module name")
		}
	})
}

func FuzzParseUnitFile(f *testing.F) {
	f.Add([]byte("[Unit]\nDescription=x\n[Install]\nWantedBy=multi-user.target\nAlias=a \\\n b\nAlso=c.socket\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := parseUnitFile(bytes.NewReader(b))
		wantParseErr(t, err)
		if len(u.Alias) > maxChildren || len(u.Also) > maxChildren || len(u.WantedBy) > maxChildren {
			t.Fatalf("unbounded install section %+v", u)
		}
	})
}

// FuzzParseChecks: any checks file either is rejected with errInvalid or
// yields checks that evaluate, on the fixture host, to a valid result.
func FuzzParseChecks(f *testing.F) {
	// Small seeds: the whole built-in file makes every mutation slow.
	f.Add([]byte(checksFile(`{"fileMode":{"path":"/etc/passwd","maxMode":"0644","uid":0,"gid":0}}`)))
	f.Add([]byte(checksFile(`{"allOf":[{"kernelModuleBlacklisted":{"name":"rds"}},{"kernelModuleNotLoaded":{"name":"rds"}}]}`)))
	f.Add([]byte(checksFile(`{"serviceState":{"unit":"cron.service","state":"enabled"}}`)))
	f.Add([]byte(checksFile(`{"sshdConfig":{"key":"MaxAuthTries","op":"le","value":"4","default":"6"}}`)))
	f.Add([]byte(checksFile(`{"shadowPolicy":{"rule":"maxDays","value":365}}`)))
	f.Add([]byte(checksFile(`{"packageAbsent":{"name":"telnet*"}}`)))
	f.Add([]byte(checksFile(`{"anyOf":[{"fileContentMatches":{"path":"/etc/*","pattern":"^root"}},{"sysctl":{"key":"kernel.randomize_va_space","op":"ge","value":"1"}}]}`)))
	f.Add([]byte(checksFile(`{"mountOption":{"removable":true,"options":["nodev"]}}`)))
	if _, err := os.Stat("testdata/host"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checks, err := parseChecks(b)
		if err != nil {
			if !errors.Is(err, errInvalid) {
				t.Fatalf("error %v is not errInvalid", err)
			}
			return
		}
		h := newHost("testdata/host")
		for i := range checks {
			switch r := evaluate(h, &checks[i], sourceCustom); r.Result {
			case "Pass", "Fail", "Err":
			default:
				t.Fatalf("result %q", r.Result)
			}
		}
	})
}
