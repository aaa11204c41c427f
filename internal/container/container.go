// Package container attributes a process to a container, and to an Azure
// IoT Edge module, from its cgroup lines and the engines' on-disk state
// under the host root. No engine socket is used: the module must not be
// able to drive the engine, and a socket round trip per exec is too slow.
//
// Covered: Docker/Moby (config.v2.json under each data root: name,
// image, labels, hence IoT Edge modules) and containerd runtime v2 task
// bundles (CRI annotations: name, image; no labels). CRI-O and Podman
// containers are recognised by cgroup path and reported by id only.
package container

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
	"github.com/azureiotsecurity/azureiotsecurity/internal/procfs"
)

// Info attributes a process to a container. Name, Image and Module are
// empty when the engine's state is not readable.
type Info struct {
	ID      string // 64 hex digits
	Name    string // container name, without Docker's leading "/"
	Image   string // image reference as deployed
	Module  string // IoT Edge module name; set only when IsIoTEdge
	Runtime string // Runtime* constant: what the cgroup path names
	// IsIoTEdge means edgeAgent created the container (its owner label).
	IsIoTEdge bool
}

// Options tune a Resolver; zero values take the defaults.
type Options struct {
	// DockerRoots are Docker data roots (host paths); default
	// /var/lib/docker, which moby-engine on IoT Edge devices also uses.
	DockerRoots []string
	// ContainerdState is containerd's runtime v2 task state directory;
	// default /run/containerd/io.containerd.runtime.v2.task.
	ContainerdState string
	CacheSize       int           // default 1024 containers
	TTL             time.Duration // found entries; default 10 min
	NegativeTTL     time.Duration // not-found entries; default 10 s
	Logger          *logrus.Entry // default: discard
	Now             func() time.Time
}

// maxConfigBytes bounds one engine config file; Docker's config.v2.json
// is a few KiB, larger with many env variables and labels.
const maxConfigBytes = 2 << 20

// maxNamespaces bounds the containerd namespaces tried per lookup.
const maxNamespaces = 32

// Resolver resolves container ids to Info with a bounded cache. It is
// safe for concurrent use.
type Resolver struct {
	root hostfs.Root
	opt  Options

	mu    sync.Mutex
	cache *cache
}

// NewResolver returns a resolver reading engine state under root.
func NewResolver(root hostfs.Root, opt Options) *Resolver {
	if len(opt.DockerRoots) == 0 {
		opt.DockerRoots = []string{"/var/lib/docker"}
	}
	if opt.ContainerdState == "" {
		opt.ContainerdState = "/run/containerd/io.containerd.runtime.v2.task"
	}
	if opt.CacheSize <= 0 {
		opt.CacheSize = 1024
	}
	if opt.TTL <= 0 {
		opt.TTL = 10 * time.Minute
	}
	if opt.NegativeTTL <= 0 {
		opt.NegativeTTL = 10 * time.Second
	}
	if opt.Logger == nil {
		l := logrus.New()
		l.Out = io.Discard
		opt.Logger = logrus.NewEntry(l)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	return &Resolver{root: root, opt: opt, cache: newCache(opt.CacheSize)}
}

// Lookup attributes the process whose /proc/<pid>/cgroup is lines. ok
// is false when the process is not in a container; when it is, Info.ID
// is always set and the rest is filled from the engine state if found.
func (r *Resolver) Lookup(lines []procfs.CgroupLine) (Info, bool) {
	id, runtime, ok := ParseID(lines)
	if !ok {
		return Info{}, false
	}
	return r.LookupID(id, runtime), true
}

// LookupID resolves a container id found elsewhere (e.g. by eBPF).
func (r *Resolver) LookupID(id, runtime string) Info {
	now := r.opt.Now()
	r.mu.Lock()
	e, hit := r.cache.get(id, now)
	r.mu.Unlock()
	if hit {
		return e.info
	}
	// Resolved outside the lock: concurrent misses for one id read the
	// same small file twice, which is cheaper than serialising all misses.
	info, found := r.resolve(id, runtime)
	ttl := r.opt.NegativeTTL
	if found {
		ttl = r.opt.TTL
	}
	r.mu.Lock()
	r.cache.put(cacheEntry{id: id, info: info, found: found, expires: now.Add(ttl)})
	r.mu.Unlock()
	return info
}

// resolve reads the engines' state for id, Docker first.
func (r *Resolver) resolve(id, runtime string) (Info, bool) {
	log := r.opt.Logger.WithField("container", id[:12])
	for _, dr := range r.opt.DockerRoots {
		b, err := r.root.ReadFile(maxConfigBytes, dr, "containers", id, "config.v2.json")
		if err == nil {
			c, perr := ParseContainerConfig(b)
			if perr == nil && c.ID == id {
				if runtime == RuntimeUnknown {
					runtime = RuntimeDocker
				}
				return c.info(runtime), true
			}
			log.WithError(perr).Warn("unreadable docker container config")
		} else if !errors.Is(err, fs.ErrNotExist) {
			log.WithError(err).Debug("docker container config")
		}
	}
	if c, err := r.readContainerd(id); err == nil {
		if runtime == RuntimeUnknown {
			runtime = RuntimeContainerd
		}
		return c.info(runtime), true
	} else if !errors.Is(err, fs.ErrNotExist) {
		log.WithError(err).Debug("containerd task config")
	}
	return Info{ID: id, Runtime: runtime}, false
}

// readContainerd finds id's bundle in any containerd namespace.
func (r *Resolver) readContainerd(id string) (ContainerConfig, error) {
	d, err := r.root.Open(r.opt.ContainerdState)
	if err != nil {
		return ContainerConfig{}, err
	}
	namespaces, err := d.Readdirnames(maxNamespaces)
	d.Close()
	if errors.Is(err, io.EOF) {
		return ContainerConfig{}, fs.ErrNotExist
	}
	if err != nil {
		return ContainerConfig{}, fmt.Errorf("list containerd namespaces: %w", err)
	}
	for _, ns := range namespaces {
		b, err := r.root.ReadFile(maxConfigBytes, path.Join(r.opt.ContainerdState, ns, id, "config.json"))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return ContainerConfig{}, err
		}
		return ParseOCIConfig(id, b)
	}
	return ContainerConfig{}, fs.ErrNotExist
}

// CacheLen is the number of cached containers, for tests and metrics.
func (r *Resolver) CacheLen() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cache.len()
}

// ErrMalformed is wrapped by parser errors on bad engine files.
var ErrMalformed = errors.New("malformed")

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w %s", ErrMalformed, fmt.Sprintf(format, args...))
}
