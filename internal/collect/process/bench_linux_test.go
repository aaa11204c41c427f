package process

import (
	"os"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
)

func BenchmarkParseBPFEvent(b *testing.B) {
	rec := bpfRecord(bpfTypeExec, 42, 7, 0, 0, "/usr/bin/python3", []byte("/usr/bin/python3\x00-m\x00http.server\x008080\x00"))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseBPFEvent(rec); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseCnMessages(b *testing.B) {
	d := cnDatagram(procCnExit, 11, 11, 256, 17, 10, 10)
	var evs []cnEvent
	b.ReportAllocs()
	for b.Loop() {
		evs, _ = parseCnMessages(d, evs[:0])
	}
}

// BenchmarkHandleExec is the engine's cost per eBPF exec and exit of a
// live process (payload, parent lookup, hash cache hit, table).
func BenchmarkHandleExec(b *testing.B) {
	log := logrus.New()
	log.SetLevel(logrus.ErrorLevel)
	enr, err := newHostEnricher(hostfs.Root("/"), logrus.NewEntry(log), nil)
	if err != nil {
		b.Skip(err)
	}
	e := newEngine(logrus.NewEntry(log), "/", 0, Options{}, newMetrics(nil), enr, discardSink{})
	e.active = BackendEBPF
	self := int32(os.Getpid())
	p, err := enr.readProcess(self)
	if err != nil {
		b.Skip(err)
	}
	ev := rawEvent{kind: rawExec, time: time.Now(), pid: self, ppid: p.PPID, uid: 0, uidKnown: true,
		exe: p.Exe, argv: p.Argv, argvKnown: true, startTicks: p.StartTicks, cgroupID: 1}
	exit := rawEvent{kind: rawExit, time: time.Now(), pid: self, exitKnown: true}
	b.ReportAllocs()
	for b.Loop() {
		e.handle(ev)
		e.handle(exit)
	}
}

type discardSink struct{}

func (discardSink) wants(rawKind) bool       { return true }
func (discardSink) emit(rawKind, eventEvent) {}
