package sysinfo

import (
	"fmt"
	"io"
	"strings"
)

// maxCmdlineBytes is far above any architecture's COMMAND_LINE_SIZE.
const maxCmdlineBytes = 64 << 10

// parseCmdline splits /proc/cmdline into parameters the way the kernel's
// next_arg does: whitespace separates them and double quotes, which are
// removed, may enclose spaces (root="/dev/disk/by-label/my root").
// Parameters after "--" belong to init and are not returned.
func parseCmdline(r io.Reader) ([]string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxCmdlineBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	if len(b) > maxCmdlineBytes {
		return nil, fmt.Errorf("longer than %d bytes", maxCmdlineBytes)
	}
	var params []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, c := range b {
		switch {
		case c == '"':
			quoted = !quoted
			inWord = true
		case !quoted && (c == ' ' || c == '\t' || c == '\n' || c == '\r'):
			if inWord {
				if cur.String() == "--" {
					return params, nil
				}
				params = append(params, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord && cur.String() != "--" {
		params = append(params, cur.String())
	}
	return params, nil
}

// bootDevice returns the value of the last root= parameter, the one the
// kernel acts on: a device path, UUID=…, PARTUUID=… or LABEL=… as given.
func bootDevice(params []string) string {
	var dev string
	for _, p := range params {
		if v, ok := strings.CutPrefix(p, "root="); ok {
			dev = v
		}
	}
	return dev
}
