package process

import (
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/container"
	"github.com/azureiotsecurity/azureiotsecurity/internal/exehash"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
	"github.com/azureiotsecurity/azureiotsecurity/internal/procfs"
)

// containerInfo attributes a process to a container and IoT Edge module.
type containerInfo struct {
	ID, Name, Module string
}

// enricher is what the engine needs from the host beyond the kernel
// event: /proc reads, user names, entity ids, container attribution and
// executable hashes. hostEnricher implements it over the host.
type enricher interface {
	readProcess(pid int32) (*procfs.Process, error)
	entityID(pid int32, startTicks uint64) string
	userName(uid uint32) string
	container(cgroup []procfs.CgroupLine) (containerInfo, bool)
	// hash returns the SHA-256 of the process's executable (through
	// /proc/<pid>/exe, else the path), or why it has none.
	hash(pid int32, exe string) (sum, skipped string)
	startTime(ticks uint64) time.Time
}

// hostEnricher reads the host through procfs, container and exehash.
type hostEnricher struct {
	root       hostfs.Root
	rd         *procfs.Reader
	containers *container.Resolver
	hasher     *exehash.Hasher

	mu     sync.Mutex
	hashes map[string]pathHash // exe path → last digest, by file identity
}

// pathHash is a digest remembered with the identity of the file it was
// made from, so that one stat tells whether it still holds.
type pathHash struct {
	ino, dev     uint64
	size         int64
	mtime        time.Time
	sum, skipped string
}

// maxPathHashes bounds the front cache; it is reset when full.
const maxPathHashes = 1024

var _ enricher = (*hostEnricher)(nil)

func newHostEnricher(root hostfs.Root, log *logrus.Entry, reg prometheus.Registerer) (*hostEnricher, error) {
	rd, err := readerFor(root)
	if err != nil {
		return nil, err
	}
	h, err := exehash.New(root, exehash.Options{Registerer: reg})
	if err != nil {
		return nil, fmt.Errorf("executable hasher: %w", err)
	}
	c := container.NewResolver(root, container.Options{Logger: log})
	return &hostEnricher{root: root, rd: rd, containers: c, hasher: h, hashes: map[string]pathHash{}}, nil
}

// readers shares one procfs.Reader (and its user cache) per root.
var readers sync.Map // hostfs.Root → *procfs.Reader

func readerFor(root hostfs.Root) (*procfs.Reader, error) {
	if r, ok := readers.Load(root); ok {
		return r.(*procfs.Reader), nil
	}
	r, err := procfs.NewReader(root)
	if err != nil {
		return nil, fmt.Errorf("process reader: %w", err)
	}
	actual, _ := readers.LoadOrStore(root, r)
	return actual.(*procfs.Reader), nil
}

func (h *hostEnricher) readProcess(pid int32) (*procfs.Process, error) {
	return h.rd.ReadProcess(pid)
}

func (h *hostEnricher) entityID(pid int32, startTicks uint64) string {
	return h.rd.EntityID(pid, startTicks)
}

func (h *hostEnricher) userName(uid uint32) string {
	name, ok, err := h.rd.Users().Name(uid)
	if err != nil || !ok {
		return ""
	}
	return name
}

func (h *hostEnricher) container(cg []procfs.CgroupLine) (containerInfo, bool) {
	info, ok := h.containers.Lookup(cg)
	if !ok {
		return containerInfo{}, false
	}
	return containerInfo{ID: info.ID, Name: info.Name, Module: info.Module}, true
}

// hash answers from a front cache checked with one stat of the path when
// it can: under an exec storm of one binary, opening /proc/<pid>/exe per
// exec (and the path again when the process is already gone) was a third
// of the engine's CPU. A miss goes to exehash through /proc/<pid>/exe,
// which hashes the exact file the process runs.
func (h *hostEnricher) hash(pid int32, exe string) (string, string) {
	var id fileID
	var idOK bool
	if strings.HasPrefix(exe, "/") {
		id, idOK = statID(h.root.Path(exe))
		if idOK {
			h.mu.Lock()
			c, ok := h.hashes[exe]
			h.mu.Unlock()
			if ok && c.ino == id.ino && c.dev == id.dev && c.size == id.size && c.mtime.Equal(id.mtime) {
				return c.sum, c.skipped
			}
		}
	}
	sum, skipped := h.hashMiss(pid, exe)
	if idOK && (sum != "" || skipped != "") {
		h.mu.Lock()
		if len(h.hashes) >= maxPathHashes {
			clear(h.hashes)
		}
		h.hashes[exe] = pathHash{ino: id.ino, dev: id.dev, size: id.size, mtime: id.mtime, sum: sum, skipped: skipped}
		h.mu.Unlock()
	}
	return sum, skipped
}

func (h *hostEnricher) hashMiss(pid int32, exe string) (string, string) {
	r, err := h.hasher.HashPID(pid)
	if err != nil && strings.HasPrefix(exe, "/") {
		// Gone already: hash the path, which is most likely the same file.
		r, err = h.hasher.HashPath(exe)
	}
	if err != nil {
		return "", ""
	}
	return r.SHA256, r.Skipped
}

func (h *hostEnricher) startTime(ticks uint64) time.Time {
	return procfs.TicksToTime(h.rd.BootTime(), ticks)
}

type fileID struct {
	ino, dev uint64
	size     int64
	mtime    time.Time
}
