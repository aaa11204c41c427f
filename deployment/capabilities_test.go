// Package deployment holds no code: its tests check the deployment
// manifests, the operator documentation and the Grafana dashboard
// against what the module really does.
package deployment

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
)

var update = flag.Bool("update", false, "rewrite the generated tables in deployment/README.md")

// capUse says why the manifest may add one Linux capability: which
// collectors need it, through which kernel mechanism, and what is lost
// without it. It is the single source of the capability table in
// README.md; the manifest tests allow no capability outside it.
type capUse struct {
	Cap        string   // Docker's name, without CAP_
	Collectors []string // event names whose collectors use it
	Mechanism  string   // what the kernel checks it for (kernel-sources.md §3)
	Without    string   // what the module does when it is missing
	Default    bool     // added by deployment.template.json
}

var capabilities = []capUse{
	{
		Cap:        "BPF",
		Collectors: []string{event.NameProcessCreate, event.NameProcessTerminate, event.NameConnectionCreate},
		Mechanism:  "creating eBPF maps and the ring buffer",
		Without:    "the eBPF backend is refused; process events fall back to the proc connector (then audit, then /proc polling). Not added by default: Docker/moby before 23 refuses the whole container with `unknown capability: \"CAP_BPF\"` (measured with 20.10.24), and kernels before 5.8 lack it",
	},
	{
		Cap:        "PERFMON",
		Collectors: []string{event.NameProcessCreate, event.NameProcessTerminate, event.NameConnectionCreate},
		Mechanism:  "loading and attaching the `tp_btf` tracing programs (`sched_process_exec/exit/fork`)",
		Without:    "as without BPF: the eBPF backend needs both; not added by default for the same reason",
	},
	{
		Cap:        "NET_ADMIN",
		Collectors: []string{event.NameFirewallConfiguration, event.NameProcessCreate, event.NameProcessTerminate},
		Mechanism:  "dumping the nftables ruleset over netlink and reading iptables-legacy tables (x_tables getsockopt); the proc connector on kernels before 6.6",
		Without:    "no FirewallConfiguration events (the collector reports its error); on kernels before 6.6 the proc connector is refused and process events come from audit or /proc polling",
		Default:    true,
	},
	{
		Cap:        "AUDIT_READ",
		Collectors: []string{event.NameProcessCreate, event.NameProcessTerminate, event.NameLogin},
		Mechanism:  "joining the kernel audit multicast group (read only; never registers as the audit daemon)",
		Without:    "the audit backend is refused; Login keeps its wtmp/btmp and auth.log sources",
		Default:    true,
	},
	{
		Cap:        "AUDIT_CONTROL",
		Collectors: []string{event.NameProcessCreate, event.NameProcessTerminate},
		Mechanism:  "installing the module's own execve audit rule (only when the audit backend is forced and no rule exists)",
		Without:    "the audit backend only sees what the host's audit rules already log; not added by default",
	},
	{
		Cap:        "SYS_PTRACE",
		Collectors: []string{event.NameProcessCreate, event.NameProcessTerminate, event.NameListeningPorts, event.NameConnectionCreate},
		Mechanism:  "`readlink` of `/proc/PID/exe` and `/proc/PID/fd/N` of other users' processes; hashing the executable",
		Without:    "Executable, Hash and the owning process of sockets are empty for processes of other users",
		Default:    true,
	},
	{
		Cap:        "DAC_READ_SEARCH",
		Collectors: []string{event.NameProcessCreate, event.NameListeningPorts, event.NameConnectionCreate, event.NameLogin},
		Mechanism:  "listing `/proc/PID/fd` of other users' processes; reading root-only logs when the module is not uid 0",
		Without:    "sockets are not attributed to processes of other users; as non-root, btmp and auth.log are unreadable unless the user is in groups utmp and adm",
		Default:    true,
	},
}

func lookupCap(name string) (capUse, bool) {
	i := slices.IndexFunc(capabilities, func(c capUse) bool { return c.Cap == name })
	if i < 0 {
		return capUse{}, false
	}
	return capabilities[i], true
}

// capabilityTable renders capabilities as the Markdown table README.md
// carries between its markers.
func capabilityTable() string {
	var b strings.Builder
	b.WriteString("| Capability | Default | Used by | For | Without it |\n|---|---|---|---|---|\n")
	for _, c := range capabilities {
		def := "no"
		if c.Default {
			def = "yes"
		}
		fmt.Fprintf(&b, "| `CAP_%s` | %s | %s | %s | %s |\n", c.Cap, def, strings.Join(c.Collectors, ", "), c.Mechanism, c.Without)
	}
	return b.String()
}

func TestCapabilityTable(t *testing.T) {
	known := map[string]bool{}
	for _, n := range event.Names() {
		known[n] = true
	}
	seen := map[string]bool{}
	for _, c := range capabilities {
		if seen[c.Cap] || strings.HasPrefix(c.Cap, "CAP_") || c.Cap != strings.ToUpper(c.Cap) {
			t.Errorf("capability %q: duplicate, or not in Docker's form (upper case, no CAP_)", c.Cap)
		}
		seen[c.Cap] = true
		if len(c.Collectors) == 0 || c.Mechanism == "" || c.Without == "" {
			t.Errorf("capability %s: collectors, mechanism and consequence are all required", c.Cap)
		}
		for _, n := range c.Collectors {
			if !known[n] {
				t.Errorf("capability %s: %q is not an event name", c.Cap, n)
			}
		}
	}
	if _, ok := lookupCap("SYS_ADMIN"); ok {
		t.Error("SYS_ADMIN is as good as Privileged; no collector may need it")
	}
}

// TestReadmeCapabilityTable keeps README.md's table generated from the
// Go table, so the documentation cannot drift from what the tests allow.
func TestReadmeCapabilityTable(t *testing.T) {
	replaceGenerated(t, "README.md", "capabilities", capabilityTable())
}

// replaceGenerated checks (or, with -update, rewrites) the text between
// <!-- name:start --> and <!-- name:end --> in file.
func replaceGenerated(t *testing.T, file, name, want string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	open, end := "<!-- "+name+":start -->\n", "<!-- "+name+":end -->"
	i, j := strings.Index(s, open), strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the %s markers", file, name)
	}
	got := s[i+len(open) : j]
	if got == want {
		return
	}
	if !*update {
		t.Fatalf("%s: the %s table is stale; run go test ./deployment -run %s -update", file, name, t.Name())
	}
	if err := os.WriteFile(file, []byte(s[:i+len(open)]+want+s[j:]), 0o644); err != nil {
		t.Fatal(err)
	}
}
