package main

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// storm launches children with ForkExec (vfork-style clone in the Go
// runtime, the cheapest launch Go offers) and reaps them in a separate
// goroutine; at most cfg.inflight children exist at once.
func storm(cfg config) (result, error) {
	null, err := syscall.Open("/dev/null", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	if err != nil {
		return result{}, fmt.Errorf("open /dev/null: %w", err)
	}
	defer syscall.Close(null)
	attr := &syscall.ProcAttr{Dir: "/", Env: []string{}, Files: []uintptr{uintptr(null), uintptr(null), uintptr(null)}}

	sem := make(chan struct{}, cfg.inflight)
	kids := make(chan struct{}, cfg.inflight)
	reaped := make(chan struct{})
	go func() {
		defer close(reaped)
		for range kids {
			var ws syscall.WaitStatus
			for {
				_, err := syscall.Wait4(-1, &ws, 0, nil)
				if !errors.Is(err, syscall.EINTR) {
					break
				}
			}
			<-sem
		}
	}()

	res := result{Marker: cfg.marker, Rate: cfg.rate}
	start := time.Now()
	deadline := start.Add(cfg.dur)
	var n int64
	for now := start; now.Before(deadline) && n < cfg.max; now = time.Now() {
		target := due(cfg.rate, now.Sub(start), cfg.max)
		if n >= target {
			time.Sleep(2 * time.Millisecond)
			continue
		}
		for ; n < target && time.Now().Before(deadline); n++ {
			sem <- struct{}{}
			argv := []string{cfg.prog, fmt.Sprintf("%s-%d", cfg.marker, n)}
			if _, err := syscall.ForkExec(cfg.prog, argv, attr); err != nil {
				<-sem
				res.Failed++
				if res.FirstError == "" {
					res.FirstError = err.Error()
				}
				continue
			}
			kids <- struct{}{}
			res.Launched++
		}
	}
	close(kids)
	<-reaped
	res.Seconds = time.Since(start).Seconds()
	res.Achieved = float64(res.Launched) / res.Seconds
	var self, children syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &self); err == nil {
		res.CPUSeconds = seconds(self.Utime) + seconds(self.Stime)
	}
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children); err == nil {
		res.ChildrenCPU = seconds(children.Utime) + seconds(children.Stime)
	}
	return res, nil
}

func seconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}
