// Package users collects LocalUsers: every account of the host's
// /etc/passwd with its groups from /etc/group, read as files through the
// host root (no cgo, no NSS: directory users are not local users, and NSS
// inside the container would answer for the container).
package users

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

func init() { collect.Register(event.NameLocalUsers, New) }

// maxFileBytes bounds each file read; 100k accounts take about 6 MiB.
const maxFileBytes = 16 << 20

// maxLogged bounds the warnings one file produces per collection, so a
// corrupt file cannot flood the log every period.
const maxLogged = 10

// Collector reads the host's account database.
type Collector struct {
	root hostfs.Root
	log  *logrus.Entry
}

var _ collect.Collector = (*Collector)(nil)

// New returns a LocalUsers collector over d.Root.
func New(d collect.Deps) (collect.Collector, error) {
	log := d.Logger
	if log == nil {
		l := logrus.New()
		l.SetOutput(io.Discard)
		log = logrus.NewEntry(l)
	}
	return &Collector{root: d.Root, log: log.WithField("collector", event.NameLocalUsers)}, nil
}

// Collect emits one LocalUsers event holding every valid account. Only an
// unreadable or entirely invalid /etc/passwd is an error; a missing
// /etc/group leaves every group named by its id.
func (c *Collector) Collect(ctx context.Context, emit func(event.Event)) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	accounts, err := readEntries(c, parsePasswd, "etc", "passwd")
	if err != nil {
		return err
	}
	if len(accounts) == 0 {
		return fmt.Errorf("read %s: no valid accounts", c.root.Path("etc", "passwd"))
	}
	groups, err := readEntries(c, parseGroup, "etc", "group")
	if err != nil {
		c.log.WithError(err).Warn("group names unavailable, using group ids")
	}
	emit(event.New(event.NameLocalUsers, time.Now(), payload(accounts, groups)...))
	return nil
}

// payload builds one item per account, in /etc/passwd order.
func payload(accounts []passwdEntry, groups []groupEntry) []any {
	m := newMembership(groups)
	items := make([]any, 0, len(accounts))
	for _, u := range accounts {
		ids, names := m.groups(u)
		item := &event.LocalUser{
			UserName:   u.Name,
			UserID:     formatID(u.UID),
			GroupNames: names,
			GroupIDs:   ids,
		}
		// Shell and home tell a login account from a service account.
		details := map[string]string{}
		if u.Shell != "" {
			details["Shell"] = u.Shell
		}
		if u.Home != "" {
			details["Home"] = u.Home
		}
		if len(details) > 0 {
			item.ExtraDetails = details
		}
		items = append(items, item)
	}
	return items
}

// readEntries opens a host file, parses it with a bounded reader and logs
// the lines it skipped. Skipped lines are warnings, not errors: one bad
// line must not cost the whole event.
func readEntries[T any](c *Collector, parse func(io.Reader) ([]T, []error), elem ...string) ([]T, error) {
	path := c.root.Path(elem...)
	f, err := c.root.Open(elem...)
	if err != nil {
		return nil, err // *PathError names the file
	}
	defer f.Close()
	entries, errs := parse(hostfs.LimitedReader(f, maxFileBytes))
	log := c.log.WithField("file", path)
	for i, err := range errs {
		if i == maxLogged {
			log.WithField("skipped", len(errs)-i).Warn("further malformed lines not logged")
			break
		}
		var le *LineError
		if errors.As(err, &le) {
			log.WithField("line", le.Line).WithError(le.Err).Warn("skipping malformed line")
			continue
		}
		log.WithError(err).Warn("stopped reading early")
	}
	return entries, nil
}

func formatID(id uint32) string { return strconv.FormatUint(uint64(id), 10) }
