package firewall

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// iptTable is one *table section of iptables-save output.
type iptTable struct {
	name   string
	chains []*iptChain
}

// iptChain is a chain with its policy ("-" for a user-defined chain)
// and its -A rules in order.
type iptChain struct {
	name   string
	policy string
	rules  [][]string // arguments after "-A CHAIN"
}

// lineError is a line the parser skipped.
type lineError struct {
	line int
	msg  string
}

func (e lineError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// maxSaveLine bounds one line of iptables-save output.
const maxSaveLine = 64 << 10

// parseSave parses iptables-save (or ip6tables-save) output. Malformed
// lines are skipped and returned, never fatal; err is only a read error.
func parseSave(r io.Reader) (tables []*iptTable, bad []lineError, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxSaveLine)
	var cur *iptTable
	chains := map[string]*iptChain{}
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || line[0] == '#':
		case line[0] == '*':
			cur = &iptTable{name: line[1:]}
			chains = map[string]*iptChain{}
			tables = append(tables, cur)
			if cur.name == "" {
				bad = append(bad, lineError{n, "table without a name"})
			}
		case cur == nil:
			bad = append(bad, lineError{n, "outside a table"})
		case line == "COMMIT":
			cur = nil
		case line[0] == ':':
			f := strings.Fields(line[1:])
			if len(f) < 2 || chains[f[0]] != nil {
				bad = append(bad, lineError{n, "bad or repeated chain header"})
				continue
			}
			ch := &iptChain{name: f[0], policy: f[1]}
			chains[ch.name] = ch
			cur.chains = append(cur.chains, ch)
		case strings.HasPrefix(line, "-A "):
			args, err := splitArgs(line[3:])
			if err != nil || len(args) == 0 {
				bad = append(bad, lineError{n, fmt.Sprintf("bad rule: %v", err)})
				continue
			}
			ch := chains[args[0]]
			if ch == nil {
				// iptables-save always declares chains first; keep the rule
				// anyway rather than lose it.
				bad = append(bad, lineError{n, "rule of undeclared chain " + args[0]})
				ch = &iptChain{name: args[0], policy: "-"}
				chains[ch.name] = ch
				cur.chains = append(cur.chains, ch)
			}
			ch.rules = append(ch.rules, args[1:])
		default:
			bad = append(bad, lineError{n, "unknown line"})
		}
	}
	if err := sc.Err(); err != nil {
		return tables, bad, fmt.Errorf("read iptables-save output: %w", err)
	}
	return tables, bad, nil
}

// splitArgs splits a rule line as iptables-save quotes it: words, and
// "double-quoted strings" with \" and \\ escapes.
func splitArgs(s string) ([]string, error) {
	var args []string
	var b strings.Builder
	inWord, inQuote := false, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case inQuote && c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '"':
			inQuote = !inQuote
			inWord = true
		case !inQuote && (c == ' ' || c == '\t'):
			if inWord {
				args = append(args, b.String())
				b.Reset()
				inWord = false
			}
		default:
			b.WriteByte(c)
			inWord = true
		}
	}
	if inQuote {
		return nil, fmt.Errorf("unterminated quote")
	}
	if inWord {
		args = append(args, b.String())
	}
	return args, nil
}
