package baseline

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

// fixtureModes are the permissions of the hardened fixture host: git
// keeps only the executable bit, so the test sets the rest.
var fixtureModes = map[string]os.FileMode{
	"etc/shadow": 0o640, "etc/shadow-": 0o640, "etc/gshadow": 0o640, "etc/gshadow-": 0o640,
	"etc/ssh/sshd_config": 0o600, "etc/anacrontab": 0o600, "etc/crontab": 0o600,
	"etc/cron.hourly": 0o700, "etc/cron.daily": 0o700, "etc/cron.weekly": 0o700,
	"etc/cron.monthly": 0o700, "etc/cron.d": 0o700, "boot/grub/grub.cfg": 0o600,
	"var/log/syslog": 0o640,
}

// fixtureEntry is one entry of testdata/host, read once per test binary.
type fixtureEntry struct {
	rel, link string
	dir       bool
	data      []byte
}

var fixture = sync.OnceValues(func() ([]fixtureEntry, error) {
	var out []fixtureEntry
	err := filepath.WalkDir("testdata/host", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel("testdata/host", p)
		e := fixtureEntry{rel: rel, dir: d.IsDir()}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			e.link, err = os.Readlink(p)
		case !d.IsDir():
			e.data, err = os.ReadFile(p)
		}
		out = append(out, e)
		return err
	})
	return out, err
})

// hardenedHost copies testdata/host, on which every built-in check
// passes, into a temporary root owned by root with the fixture modes.
func hardenedHost(t testing.TB) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the fixture host must be owned by root: run the tests as root")
	}
	entries, err := fixture()
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(t.TempDir(), "host")
	for _, e := range entries {
		to := filepath.Join(dst, e.rel)
		switch {
		case e.dir:
			err = os.Mkdir(to, 0o755)
		case e.link != "":
			err = os.Symlink(e.link, to)
		default:
			err = os.WriteFile(to, e.data, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for p, m := range fixtureModes {
		if err := os.Chmod(filepath.Join(dst, p), m); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// mutation changes a fixture host so that one check fails.
type mutation func(t testing.TB, root string)

func write(p, content string) mutation {
	return func(t testing.TB, root string) {
		t.Helper()
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func appendLine(p, line string) mutation {
	return func(t testing.TB, root string) {
		t.Helper()
		f, err := os.OpenFile(filepath.Join(root, p), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString(line + "\n"); err != nil {
			t.Fatal(err)
		}
	}
}

// replace substitutes the first old in p; the fixture must hold it.
func replace(p, old, new string) mutation {
	return func(t testing.TB, root string) {
		t.Helper()
		full := filepath.Join(root, p)
		b, err := os.ReadFile(full)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), old) {
			t.Fatalf("%s does not contain %q", p, old)
		}
		if err := os.WriteFile(full, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func remove(p string) mutation {
	return func(t testing.TB, root string) {
		t.Helper()
		if err := os.Remove(filepath.Join(root, p)); err != nil {
			t.Fatal(err)
		}
	}
}

func chmod(p string, m os.FileMode) mutation {
	return func(t testing.TB, root string) {
		t.Helper()
		if err := os.Chmod(filepath.Join(root, p), m); err != nil {
			t.Fatal(err)
		}
	}
}

func chown(p string, uid, gid int) mutation {
	return func(t testing.TB, root string) {
		t.Helper()
		if err := os.Lchown(filepath.Join(root, p), uid, gid); err != nil {
			t.Fatal(err)
		}
	}
}

func symlink(target, p string) mutation {
	return func(t testing.TB, root string) {
		t.Helper()
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, full); err != nil {
			t.Fatal(err)
		}
	}
}

func all(ms ...mutation) mutation {
	return func(t testing.TB, root string) {
		for _, m := range ms {
			m(t, root)
		}
	}
}

// evalOn runs one check on a host root.
func evalOn(root string, c *Check) (result, reason, notApplicable string) {
	r := evaluate(newHost(hostfs.Root(root)), c, sourceBuiltin)
	return r.Result, r.Error, r.ExtraDetails[detailNotApplicable]
}
