package spool

import (
	"strings"
	"testing"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/queue"
)

// A typical encoded ProcessCreate is about 300 bytes.
var benchItem = queue.Item{Name: "ProcessCreate", Data: []byte(`{"EventType":"Security","Category":"Triggered","Name":"ProcessCreate",` +
	`"IsEmpty":false,"PayloadSchemaVersion":"1.0","Id":"5d3a6b8e-0000-4000-8000-000000000000","TimeStampLocal":"2026-12-02T14:00:00+00:00",` +
	`"TimeStampUTC":"2026-12-02T14:00:00Z","Payload":[{"Executable":"/usr/bin/` + strings.Repeat("x", 40) + `","ProcessId":1234}]}`)}

// benchAppend adds b.N events, committing every burst events (the
// pipeline commits once per intake burst of up to 256).
func benchAppend(b *testing.B, burst int) {
	s, _ := mustOpen(b, Options{Dir: b.TempDir(), Budget: 1 << 30})
	b.SetBytes(int64(len(benchItem.Data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if _, err := s.Add(queue.Low, benchItem); err != nil {
			b.Fatal(err)
		}
		if i%burst == burst-1 {
			if _, err := s.Commit(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := s.Commit(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func BenchmarkAppendCommitEach(b *testing.B)     { benchAppend(b, 1) }
func BenchmarkAppendCommitBurst16(b *testing.B)  { benchAppend(b, 16) }
func BenchmarkAppendCommitBurst256(b *testing.B) { benchAppend(b, 256) }

// BenchmarkSendAck measures the send side per message of perMessage
// events: Take, Hold (before the first attempt), Release (after PUBACK).
func BenchmarkSendAck(b *testing.B) {
	const perMessage = 500 // about 150 KB, a full default message
	s, _ := mustOpen(b, Options{Dir: b.TempDir(), Budget: 1 << 30})
	fill := func(n int) {
		for range n {
			if _, err := s.Add(queue.Low, benchItem); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := s.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		fill(perMessage)
		b.StartTimer()
		items := mustTake(b, s, queue.Low, upTo(perMessage))
		if err := s.Hold("5d3a6b8e-0000-4000-8000-000000000000", event.Low, items); err != nil {
			b.Fatal(err)
		}
		if err := s.Release("5d3a6b8e-0000-4000-8000-000000000000", items); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "messages/s")
	b.ReportMetric(float64(b.N*perMessage)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkOpen measures start-up over a spool of 100k events (every
// record is read and checked).
func BenchmarkOpen100k(b *testing.B) {
	dir := b.TempDir()
	s, _, err := Open(Options{Dir: dir, Budget: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	for i := range 100000 {
		if _, err := s.Add(queue.Class(i%3), benchItem); err != nil {
			b.Fatal(err)
		}
	}
	if _, err := s.Commit(); err != nil {
		b.Fatal(err)
	}
	_ = s.Close()
	b.ResetTimer()
	for range b.N {
		s, rep, err := Open(Options{Dir: dir, Budget: 1 << 30})
		if err != nil || rep.Records != 100000 {
			b.Fatalf("open: %v %+v", err, rep)
		}
		_ = s.Close()
	}
}
