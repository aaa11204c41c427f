//go:build !linux

package login

import (
	"context"
	"errors"
	"os"
)

// watcher is Linux-only; elsewhere the collector polls.
type watcher struct{ wake chan struct{} }

func newWatcher([]string) (*watcher, error) { return nil, errors.ErrUnsupported }

func (w *watcher) Run(ctx context.Context) error { <-ctx.Done(); return nil }

// inode is unknown here: rotation is seen only as a file that shrank.
func inode(os.FileInfo) uint64 { return 0 }
