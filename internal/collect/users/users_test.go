package users

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/collect/collecttest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// collectAll runs a fresh collector over root and returns its events.
func collectAll(t *testing.T, root hostfs.Root, log *logrus.Logger) ([]event.Event, error) {
	t.Helper()
	c, err := New(collect.Deps{Root: root, Logger: logrus.NewEntry(log)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	var evs []event.Event
	err = c.Collect(context.Background(), func(ev event.Event) { evs = append(evs, ev) })
	return evs, err
}

func TestCollectFixture(t *testing.T) {
	log, hook := logtest.NewNullLogger()
	evs, err := collectAll(t, "testdata/host", log)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	if len(evs) != 1 || evs[0].Name != event.NameLocalUsers {
		t.Fatalf("got %d events %v, want one LocalUsers event", len(evs), evs)
	}
	collecttest.CheckGolden(t, "localusers.golden.json", evs[0].Payload, *update)
	collecttest.CheckMessage(t, evs)

	// Every skipped line is a warning naming collector, file and line.
	type warning struct {
		Collector, File string
		Line            int
	}
	var got []warning
	for _, e := range hook.AllEntries() {
		if e.Level != logrus.WarnLevel {
			continue
		}
		line, _ := e.Data["line"].(int)
		file, _ := e.Data["file"].(string)
		got = append(got, warning{e.Data["collector"].(string), filepath.Base(file), line})
	}
	want := []warning{
		{"LocalUsers", "passwd", 8}, {"LocalUsers", "passwd", 9}, {"LocalUsers", "passwd", 14},
		{"LocalUsers", "group", 11}, {"LocalUsers", "group", 13},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestCollectWithoutGroupFile(t *testing.T) {
	root := collecttest.WriteHost(t, map[string]string{"etc/passwd": "root:x:0:0::/root:/bin/sh\n"})
	log, _ := logtest.NewNullLogger()
	evs, err := collectAll(t, root, log)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	want := []any{&event.LocalUser{UserName: "root", UserID: "0", GroupNames: "0", GroupIDs: "0",
		ExtraDetails: map[string]string{"Home": "/root", "Shell": "/bin/sh"}}}
	if diff := cmp.Diff(want, evs[0].Payload); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	collecttest.CheckMessage(t, evs)
}

func TestCollectErrors(t *testing.T) {
	log, _ := logtest.NewNullLogger()
	if _, err := collectAll(t, hostfs.Root(t.TempDir()), log); err == nil {
		t.Error("no /etc/passwd: want an error")
	}
	root := collecttest.WriteHost(t, map[string]string{"etc/passwd": "+::::::\n", "etc/group": "root:x:0:\n"})
	if evs, err := collectAll(t, root, log); err == nil || len(evs) != 0 {
		t.Errorf("no valid account: got %d events, err %v; want an error", len(evs), err)
	}
}

// TestCollectHost reads this machine's own account database.
func TestCollectHost(t *testing.T) {
	if _, err := os.Stat("/etc/passwd"); err != nil {
		t.Skipf("no /etc/passwd: %v", err)
	}
	log, _ := logtest.NewNullLogger()
	evs, err := collectAll(t, "/", log)
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	var root *event.LocalUser
	for _, p := range evs[0].Payload {
		if u := p.(*event.LocalUser); u.UserName == "root" {
			root = u
		}
	}
	if root == nil || root.UserID != "0" || root.GroupIDs == "" || root.GroupNames == "" {
		t.Errorf("root account = %+v, want uid 0 with groups", root)
	}
	collecttest.CheckMessage(t, evs)
}
