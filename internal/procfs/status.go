package procfs

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
)

// Status holds the fields of /proc/<pid>/status the agent uses.
type Status struct {
	Name  string
	Tgid  int32
	PPid  int32
	UID   [4]uint32 // real, effective, saved, filesystem
	GID   [4]uint32
	NSpid []int32 // outermost namespace first; absent before Linux 4.1
}

// ParseStatus parses /proc/<pid>/status. Tgid, PPid, Uid and Gid are
// required; unknown keys are ignored so new kernels do not break it.
// Lines longer than 64 KiB (a huge Groups: list) are skipped.
func ParseStatus(r io.Reader) (Status, error) {
	var s Status
	const need = 4 // Tgid, PPid, Uid, Gid
	seen := 0
	br := bufio.NewReaderSize(r, 4096)
	for {
		line, err := br.ReadSlice('\n')
		for err == bufio.ErrBufferFull { // overlong line: skip to its end
			line = nil
			_, err = br.ReadSlice('\n')
		}
		if k, v, ok := bytes.Cut(bytes.TrimRight(line, "\n"), []byte(":")); ok {
			v = bytes.TrimSpace(v)
			var perr error
			switch string(k) {
			case "Name":
				s.Name = string(v)
			case "Tgid":
				s.Tgid, perr = parsePID("Tgid", v)
				seen++
			case "PPid":
				s.PPid, perr = parsePID("PPid", v)
				seen++
			case "Uid":
				perr = parseIDs("Uid", v, &s.UID)
				seen++
			case "Gid":
				perr = parseIDs("Gid", v, &s.GID)
				seen++
			case "NSpid":
				s.NSpid, perr = parsePIDList(v)
			}
			if perr != nil {
				return Status{}, perr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return Status{}, err
		}
	}
	if seen < need {
		return Status{}, malformed("status: missing Tgid, PPid, Uid or Gid")
	}
	return s, nil
}

func parsePID(what string, v []byte) (int32, error) {
	n, err := strconv.ParseInt(string(v), 10, 32)
	if err != nil || n < 0 {
		return 0, malformed("status: %s %q", what, v)
	}
	return int32(n), nil
}

func parseIDs(what string, v []byte, ids *[4]uint32) error {
	f := bytes.Fields(v)
	if len(f) != len(ids) {
		return malformed("status: %s has %d ids, want %d", what, len(f), len(ids))
	}
	for i, s := range f {
		n, err := strconv.ParseUint(string(s), 10, 32)
		if err != nil {
			return malformed("status: %s %q", what, s)
		}
		ids[i] = uint32(n)
	}
	return nil
}

// parsePIDList parses NSpid; pid namespaces nest at most 32 deep.
func parsePIDList(v []byte) ([]int32, error) {
	f := bytes.Fields(v)
	if len(f) == 0 || len(f) > 33 {
		return nil, malformed("status: NSpid %q", v)
	}
	out := make([]int32, len(f))
	for i, s := range f {
		p, err := parsePID("NSpid", s)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}
