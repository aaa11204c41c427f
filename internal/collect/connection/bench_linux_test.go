package connection

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	logtest "github.com/sirupsen/logrus/hooks/test"

	"github.com/azureiotsecurity/azureiotsecurity/internal/audit"
	"github.com/azureiotsecurity/azureiotsecurity/internal/audit/audittest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sockdiag"
)

func BenchmarkParseBPFEvent(b *testing.B) {
	rec := bpfRecord(afInet6, bpfDirOut, 0, 42, netip.MustParseAddrPort("[2001:db8::2]:40000"), netip.MustParseAddrPort("[2001:db8::9]:443"), "curl")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseBPFEvent(rec); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseAuditConn is the cost per audit connect: three records
// parsed and assembled (grouping not included).
func BenchmarkParseAuditConn(b *testing.B) {
	texts := []rec{sc(recConnect), sa(recSaddr4), pt(recTitle)}
	b.ReportAllocs()
	for b.Loop() {
		var ev audit.Event
		for _, r := range texts {
			rec, err := audit.ParseRecord(r.typ, []byte(r.text))
			if err != nil {
				b.Fatal(err)
			}
			ev.Records = append(ev.Records, rec)
		}
		if _, err := parseAuditConn(ev, testArches); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDiffConns is the poller's cost per poll of 1000 connections
// with 10 new ones.
func BenchmarkDiffConns(b *testing.B) {
	var socks []sockdiag.Socket
	for i := range 1000 {
		socks = append(socks, sockdiag.Socket{Protocol: sockdiag.TCP, State: sockdiag.Established,
			Local:  netip.AddrPortFrom(netip.MustParseAddr("10.0.0.2"), uint16(30000+i)),
			Remote: netip.MustParseAddrPort("10.0.0.9:443")})
	}
	prevSocks := socks[10:]
	b.ReportAllocs()
	for b.Loop() {
		prev := classify(prevSocks)
		if n := len(diffConns(prev, classify(socks), socks)); n != 10 {
			b.Fatalf("%d new", n)
		}
	}
}

// BenchmarkHandle is the engine's cost per connection of a live process
// (owner from the cache, payload, ExtraDetails), event built, not sent.
func BenchmarkHandle(b *testing.B) {
	log, _ := logtest.NewNullLogger()
	c, err := New(testDepsWith(log, nil), Options{IncludeLoopback: true})
	if err != nil {
		b.Skip(err)
	}
	e := c.eng
	e.active = BackendEBPF
	raw := rawConn{time: time.Now(), dir: dirOut, proto: protoTCP, pid: int32(os.Getpid()), uid: 0, uidKnown: true, comm: "x",
		local: netip.MustParseAddrPort("10.0.0.2:40000"), remote: netip.MustParseAddrPort("93.184.216.34:443")}
	n := 0
	emit := func(event.Event) { n++ }
	b.ReportAllocs()
	for b.Loop() {
		e.handle(raw, emit)
	}
	if n == 0 {
		b.Fatal("no event")
	}
}

// envStorm makes the test binary a storm client: "addr,rate,seconds".
const envStorm = "CONNECTION_TEST_STORM"

func init() {
	if v := os.Getenv(envStorm); v != "" {
		os.Exit(storm(v))
	}
}

// storm connects to addr rate times a second for the given seconds, each
// connection closed at once, and prints how many succeeded.
func storm(v string) int {
	parts := strings.Split(v, ",")
	rate, _ := strconv.Atoi(parts[1])
	secs, _ := strconv.Atoi(parts[2])
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(time.Duration(secs) * time.Second)
	var ok atomic.Int64
	var wg sync.WaitGroup
	work := make(chan struct{}, 64)
	for range 8 { // a few dialers keep the rate when one connect is slow
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if c, err := net.Dial("tcp", parts[0]); err == nil {
					ok.Add(1)
					c.Close()
				}
			}
		}()
	}
	for time.Now().Before(end) {
		<-tick.C
		select {
		case work <- struct{}{}:
		default: // behind: skip rather than burst
		}
	}
	close(work)
	wg.Wait()
	fmt.Println(ok.Load())
	return 0
}

// BenchmarkStorm runs 1000 loopback connects/s for 3 s from a child
// against a server in this process, per backend, and reports the share
// of connections seen in each direction and this process's CPU (server
// plus collector; "none" is the server alone) as a share of all CPUs.
// Run with -benchtime=1x.
func BenchmarkStorm(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	const rate, secs = 1000, 3
	for _, backend := range append([]string{"none"}, chainOrder...) {
		b.Run(backend, func(b *testing.B) {
			if backend == BackendAudit {
				audittest.Lock(b)
			}
			for b.Loop() {
				stormOnce(b, backend, rate, secs)
			}
		})
	}
}

func stormOnce(b *testing.B, backend string, rate, secs int) {
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	log := newEventLog()
	if backend != "none" {
		startCollector(b, testDeps(b), Options{Backend: backend, IncludeLoopback: true}, log)
	}
	cpu0 := selfCPU()
	wall0 := time.Now()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%d,%d", envStorm, l.Addr(), rate, secs))
	out, err := cmd.Output()
	if err != nil {
		b.Fatal(err)
	}
	sent, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	if backend == BackendPoll {
		time.Sleep(time.Second) // let the last polls run
	} else {
		time.Sleep(300 * time.Millisecond)
	}
	cpu := selfCPU() - cpu0
	wall := time.Since(wall0)
	in := len(log.find(func(p *event.ConnectionCreate) bool { return p.Direction == dirIn && p.LocalPort == port }))
	outN := len(log.find(func(p *event.ConnectionCreate) bool { return p.Direction == dirOut && p.RemotePort == port }))
	b.ReportMetric(float64(sent), "connects")
	b.ReportMetric(float64(in)/float64(max(sent, 1)), "in_capture")
	b.ReportMetric(float64(outN)/float64(max(sent, 1)), "out_capture")
	b.ReportMetric(100*cpu.Seconds()/wall.Seconds()/float64(runtime.NumCPU()), "cpu_%_of_all")
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
