package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/sirupsen/logrus"
	"golang.org/x/sync/errgroup"

	"github.com/azureiotsecurity/azureiotsecurity/internal/collect"
	_ "github.com/azureiotsecurity/azureiotsecurity/internal/collect/all"
	"github.com/azureiotsecurity/azureiotsecurity/internal/config"
	"github.com/azureiotsecurity/azureiotsecurity/internal/diag"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/hostfs"
	"github.com/azureiotsecurity/azureiotsecurity/internal/metrics"
	"github.com/azureiotsecurity/azureiotsecurity/internal/pipeline"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sink"
	"github.com/azureiotsecurity/azureiotsecurity/internal/stats"
)

// module holds the composed parts.
type module struct {
	log      *logrus.Logger
	reg      *prometheus.Registry
	store    *config.Store
	pipe     *pipeline.Pipeline
	runner   *collect.Runner
	hook     *diag.Hook
	stats    *stats.Stats
	applied  *prometheus.CounterVec
	okGauge  prometheus.Gauge
	once     bool
	override func(*config.Config)
	agentID  string
	mode     transportMode
	link     *edgeLink // nil in local mode
	reports  *reporter
	// twinRead is closed once the first full twin has been applied.
	twinRead     chan struct{}
	twinReadOnce sync.Once
}

// firstTwinWait bounds how long the start-up flush waits for the twin;
// the retired agents waited 30 s for it before doing anything.
const firstTwinWait = 30 * time.Second

// runModule builds the module and runs it until ctx ends (or, with
// --once, until the snapshots are printed).
func runModule(ctx context.Context, o options, log *logrus.Logger, stdout io.Writer) error {
	if err := ensureStateDir(o.stateDir); err != nil {
		return err
	}
	id, err := agentID(o.agentID, o.stateDir)
	if err != nil {
		return err
	}
	m := &module{log: log, reg: prometheus.NewRegistry(), once: o.once, agentID: id, mode: detectMode(o), reports: newReporter(), twinRead: make(chan struct{})}
	if m.once {
		m.mode = modeLocal // --once prints; it never connects
	}
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.applied = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "azureiotsecurity_config_applies_total",
		Help: "Configuration documents applied, by result (ok, errors).",
	}, []string{"result"})
	m.okGauge = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "azureiotsecurity_config_last_apply_successful",
		Help: "1 when the last configuration applied without key errors.",
	})
	m.reg.MustRegister(m.applied, m.okGauge)

	m.store, err = config.NewStore(filepath.Join(o.stateDir, "config.json"))
	if err != nil {
		log.WithError(err).Warn("starting from default configuration")
	}
	if m.override, err = localOverrides(o); err != nil {
		return err
	}
	var snk sink.Sink
	entry := logrus.NewEntry(log)
	if m.mode == modeLocal {
		local, closeSink, err := localSink(o, stdout)
		if err != nil {
			return err
		}
		defer closeSink()
		snk = local
	} else {
		// The twin callbacks only start once Run runs, after every part
		// below exists.
		if m.link, err = newEdgeLink(o, m.mode, entry.WithField("component", "edgehub"), m.reg, m.onTwin, m.onPatch); err != nil {
			return err
		}
		defer m.link.closeAll()
		snk = m.link.session
		m.registerMethods(m.link.session)
	}

	cfg := m.effective(m.store.Current().Config)
	m.stats = stats.New(m.reg)
	var store pipeline.Store // nil: in memory
	if !o.once {
		spooled := openSpool(o, cfg, entry.WithField("component", "spool"), m.reg, m.stats)
		defer func() {
			if err := spooled.Close(); err != nil {
				log.WithError(err).Warn("closing the spool")
			}
		}()
		store = spooled
	}
	m.pipe = pipeline.New(pipeline.Options{
		Store:           store,
		Envelope:        event.Envelope{AgentVersion: version, AgentID: id},
		Sink:            snk,
		Stats:           m.stats,
		Logger:          entry.WithField("component", "pipeline"),
		ShutdownTimeout: o.shutdownWithin,
	}, pipelineSettings(cfg), m.reg)
	minSev, _ := diag.ParseSeverity(cfg.Module.DiagnosticMinimumSeverity)
	m.hook = diag.NewHook(m.pipe.Emit, minSev, cfg.Module.DiagnosticEventsPerMinute, m.reg)
	log.AddHook(m.hook)
	m.runner = collect.NewRunner(collect.Deps{
		Root:       hostfs.Root(o.hostRoot),
		Logger:     entry,
		Registerer: m.reg,
		StateDir:   o.stateDir,
		SelfPID:    os.Getpid(),
		Config:     func() config.Config { return m.effective(m.store.Current().Config) },
	}, m.pipe.Emit)
	m.runner.OnReconciled(m.reports.request)
	if !o.once {
		m.runner.AddInternal("OperationalStatistics", statsCollector{m.stats})
	}
	log.WithFields(logrus.Fields{"agent_id": id, "version": version, "host_root": o.hostRoot, "mode": string(m.mode), "collectors": collect.Registered()}).
		Info("azureiotsecurity starting")
	if m.mode == modeLocal {
		log.Info("local mode: security messages go to the output, not to IoT Hub")
	}

	if o.configFile != "" {
		b, err := os.ReadFile(o.configFile)
		if err != nil {
			return fmt.Errorf("config file: %w", err)
		}
		res, err := m.store.ApplyFull(b)
		if err != nil {
			return fmt.Errorf("config file %s: %w", o.configFile, err)
		}
		m.apply(res)
	} else {
		m.apply(m.store.Current())
	}
	return m.run(ctx, o)
}

func (m *module) run(ctx context.Context, o options) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, ctx := errgroup.WithContext(ctx)
	runnerDone := make(chan struct{})
	g.Go(func() error { defer close(runnerDone); return m.runner.Run(ctx) })
	// The transport outlives the pipeline, so the final flush can still
	// be delivered: it stops only once the pipeline has returned.
	linkCtx, stopLink := context.WithCancel(context.Background())
	defer stopLink()
	g.Go(func() error { defer stopLink(); return m.pipe.Run(ctx, runnerDone) })
	if m.link != nil {
		g.Go(func() error { return m.link.session.Run(linkCtx) })
		g.Go(func() error { return m.runReporter(linkCtx, m.link.session, m.reports) })
	}
	if o.metricsAddr != "" && !o.once {
		srv, err := metrics.NewServer(o.metricsAddr, m.reg, m.ready)
		if err != nil {
			cancel()
			_ = g.Wait()
			return err
		}
		m.log.WithField("addr", srv.Addr()).Info("serving /metrics, /healthz and /readyz")
		g.Go(func() error { return srv.Run(ctx) })
	}
	g.Go(func() error {
		// Print the start-up snapshots within seconds instead of waiting
		// for the first High/Low timer.
		select {
		case <-m.runner.FirstSnapshots():
		case <-ctx.Done():
			return nil
		}
		// Under IoT Edge the first messages should carry the twin's
		// settings (hubResourceId, outputName): wait for it, boundedly.
		if m.link != nil {
			select {
			case <-m.twinRead:
			case <-time.After(firstTwinWait):
				m.log.WithField("waited", firstTwinWait).Warn("module twin not read yet; sending with the last good configuration")
			case <-ctx.Done():
				return nil
			}
		}
		if err := m.pipe.Flush(ctx); err != nil && !errors.Is(err, context.Canceled) {
			return fmt.Errorf("initial flush: %w", err)
		}
		if m.once {
			cancel()
		}
		return nil
	})
	return g.Wait()
}

func (m *module) ready() error {
	if !m.runner.Ready() {
		return errors.New("collectors not started")
	}
	if m.link != nil && !m.link.session.Connected() {
		return errors.New("not connected to " + string(m.mode) + " broker")
	}
	return nil
}

// apply makes a configuration result effective in every part and turns
// its key errors into one ConfigurationError event.
func (m *module) apply(res config.Result) {
	cfg := m.effective(res.Config)
	if lvl, err := logrus.ParseLevel(cfg.Module.LogLevel); err == nil && m.log.GetLevel() != lvl && !m.once {
		m.log.SetLevel(lvl)
	}
	minSev, _ := diag.ParseSeverity(cfg.Module.DiagnosticMinimumSeverity)
	m.hook.Update(minSev, cfg.Module.DiagnosticEventsPerMinute)
	m.pipe.Update(pipelineSettings(cfg))
	if m.link != nil {
		m.link.session.SetOutputName(cfg.Module.OutputName)
	}
	m.runner.Apply(plan(cfg, m.once))
	if len(res.Errors) == 0 {
		m.applied.WithLabelValues("ok").Inc()
		m.okGauge.Set(1)
		return
	}
	m.applied.WithLabelValues("errors").Inc()
	m.okGauge.Set(0)
	items := make([]any, 0, len(res.Errors))
	for _, e := range res.Errors {
		items = append(items, e.Payload())
		m.log.WithField("key", e.Key).WithField("error_type", string(e.Type)).Warn(e.Message)
	}
	m.pipe.Emit(event.New(event.NameConfigurationError, time.Now(), items...))
}

func (m *module) effective(c config.Config) config.Config {
	c = c.Clone()
	if m.override != nil {
		m.override(&c)
	}
	return c
}
