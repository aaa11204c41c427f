//go:build !linux

package hostfs

import (
	"os"
	"path/filepath"
)

// openInRoot has no in-root resolution outside Linux; the module only
// runs on Linux, this keeps the package building elsewhere.
func openInRoot(root, rel string) (*os.File, error) { return os.Open(filepath.Join(root, rel)) }
