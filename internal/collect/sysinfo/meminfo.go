package sysinfo

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

var (
	errNoColon  = errors.New("no ':'")
	errBadValue = errors.New("not a non-negative decimal")
	errBadUnit  = errors.New("unknown unit")
)

// parseMeminfo parses /proc/meminfo into kibibytes ("kB" in the file is
// 1024 bytes). Lines without a unit (HugePages_Total and the like) count
// pages or objects, not memory, and are left out; they are not errors.
// Malformed lines are skipped and reported with their number.
func parseMeminfo(r io.Reader) (map[string]int64, []error) {
	kb := map[string]int64{}
	var errs []error
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLineBytes)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		key, rest, ok := strings.Cut(line, ":")
		if !ok || key == "" {
			errs = append(errs, fmt.Errorf("line %d: %w", n, errNoColon))
			continue
		}
		f := strings.Fields(rest)
		if len(f) == 0 || len(f) > 2 {
			errs = append(errs, fmt.Errorf("line %d: %s: %w", n, key, errBadValue))
			continue
		}
		v, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil || v < 0 {
			errs = append(errs, fmt.Errorf("line %d: %s %q: %w", n, key, f[0], errBadValue))
			continue
		}
		if len(f) == 1 {
			continue
		}
		if f[1] != "kB" {
			errs = append(errs, fmt.Errorf("line %d: %s %q: %w", n, key, f[1], errBadUnit))
			continue
		}
		kb[key] = v
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, fmt.Errorf("read: %w", err))
	}
	return kb, errs
}

// memory is what SystemInformation reports from meminfo, in KiB; nil
// means unknown.
type memory struct {
	TotalPhysical, FreePhysical, TotalVirtual, FreeVirtual *int64
}

// memoryFrom maps meminfo to the schema's Windows-born fields.
//   - Free physical is MemAvailable, the memory that can be used without
//     swapping (what Windows' FreePhysicalMemory means); MemFree, which
//     excludes reclaimable page cache and so looks alarmingly low on any
//     busy host, is used only on kernels before 3.14.
//   - Virtual memory is physical plus swap, as Windows counts RAM plus
//     page file: total = MemTotal + SwapTotal, free = free physical +
//     SwapFree. It is left out when swap is not reported.
func memoryFrom(kb map[string]int64) memory {
	var m memory
	get := func(k string) *int64 {
		if v, ok := kb[k]; ok {
			return &v
		}
		return nil
	}
	m.TotalPhysical = get("MemTotal")
	if m.FreePhysical = get("MemAvailable"); m.FreePhysical == nil {
		m.FreePhysical = get("MemFree")
	}
	m.TotalVirtual = sum(m.TotalPhysical, get("SwapTotal"))
	m.FreeVirtual = sum(m.FreePhysical, get("SwapFree"))
	return m
}

// sum adds two known non-negative values, saturating instead of wrapping.
func sum(a, b *int64) *int64 {
	if a == nil || b == nil {
		return nil
	}
	s := *a + *b
	if s < *a {
		s = 1<<63 - 1
	}
	return &s
}
