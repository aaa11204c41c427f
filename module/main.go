// Command azureiotsecurity is an Azure IoT Edge module that watches the
// Linux host it runs on and reports security events in Microsoft's v1.0
// security-message schema. Outside IoT Edge (no IOTEDGE_WORKLOADURI) it
// prints the messages as JSON lines on standard output.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/sirupsen/logrus"
)

// options are the module's local settings: flags, each with an
// environment variable so a deployment manifest can set it.
type options struct {
	once           bool
	hostRoot       string
	stateDir       string
	metricsAddr    string
	logLevel       string
	logFormat      string
	output         string
	agentID        string
	configFile     string
	snapshotEvery  string
	highEvery      string
	lowEvery       string
	connString     string
	caFile         string
	mqttPort       string
	shutdownWithin time.Duration
}

func defaultStateDir() string {
	if os.Geteuid() == 0 {
		return "/var/lib/azureiotsecurity"
	}
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "azureiotsecurity")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "azureiotsecurity")
	}
	return "azureiotsecurity-state"
}

func env(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("azureiotsecurity", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.BoolVar(&o.once, "once", false, "collect every enabled snapshot once, print the messages and exit")
	fs.StringVar(&o.hostRoot, "host-root", env("AZUREIOTSECURITY_HOST_ROOT", "/"), "where the host filesystem is mounted (/host in the container) [AZUREIOTSECURITY_HOST_ROOT]")
	fs.StringVar(&o.stateDir, "state-dir", env("AZUREIOTSECURITY_STATE_DIR", defaultStateDir()), "directory for the agent id, the last good configuration, collector state and the event spool [AZUREIOTSECURITY_STATE_DIR]")
	fs.StringVar(&o.metricsAddr, "metrics-addr", env("METRICS_ADDR", ":9600"), "listen address of /metrics, /healthz and /readyz; empty disables [METRICS_ADDR]")
	fs.StringVar(&o.logLevel, "log-level", env("LOG_LEVEL", "info"), "panic, fatal, error, warning, info, debug or trace [LOG_LEVEL]")
	fs.StringVar(&o.logFormat, "log-format", env("LOG_FORMAT", "text"), "text or json [LOG_FORMAT]")
	fs.StringVar(&o.output, "output", env("AZUREIOTSECURITY_OUTPUT", "-"), "local mode: file to append messages to, - for standard output [AZUREIOTSECURITY_OUTPUT]")
	fs.StringVar(&o.agentID, "agent-id", env("AZUREIOTSECURITY_AGENT_ID", ""), "fixed AgentId GUID; default: generated once and kept in the state directory [AZUREIOTSECURITY_AGENT_ID]")
	fs.StringVar(&o.configFile, "config", env("AZUREIOTSECURITY_CONFIG", ""), "local mode: a desired-properties JSON document applied as the twin would be [AZUREIOTSECURITY_CONFIG]")
	fs.StringVar(&o.snapshotEvery, "snapshot-frequency", env("AZUREIOTSECURITY_SNAPSHOT_FREQUENCY", ""), "local mode: override snapshotFrequency (ISO 8601, e.g. PT1M) [AZUREIOTSECURITY_SNAPSHOT_FREQUENCY]")
	fs.StringVar(&o.highEvery, "high-frequency", env("AZUREIOTSECURITY_HIGH_FREQUENCY", ""), "local mode: override highPriorityMessageFrequency [AZUREIOTSECURITY_HIGH_FREQUENCY]")
	fs.StringVar(&o.lowEvery, "low-frequency", env("AZUREIOTSECURITY_LOW_FREQUENCY", ""), "local mode: override lowPriorityMessageFrequency [AZUREIOTSECURITY_LOW_FREQUENCY]")
	fs.StringVar(&o.connString, "connection-string", "", "standalone mode: module or device connection string (prefer the AZUREIOTSECURITY_CONNECTION_STRING variable, which keeps the key out of the process list)")
	fs.StringVar(&o.caFile, "ca-file", env("AZUREIOTSECURITY_CA_FILE", os.Getenv("EdgeModuleCACertificateFile")), "standalone mode: extra CA certificate (PEM) to trust besides the system roots, e.g. a gateway's [AZUREIOTSECURITY_CA_FILE, EdgeModuleCACertificateFile]")
	fs.DurationVar(&o.shutdownWithin, "shutdown-timeout", 10*time.Second, "how long the final flush may take at shutdown")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	for _, name := range []string{"AZUREIOTSECURITY_CONNECTION_STRING", "EdgeHubConnectionString"} {
		if o.connString == "" {
			o.connString = os.Getenv(name)
		}
	}
	// The MQTT port is 8883 in production; tests and gateways on other
	// ports set it.
	o.mqttPort = os.Getenv("AZUREIOTSECURITY_MQTT_PORT")
	return o, nil
}

func newLogger(o options, w io.Writer) (*logrus.Logger, error) {
	log := logrus.New()
	log.SetOutput(w)
	lvl, err := logrus.ParseLevel(o.logLevel)
	if err != nil {
		return nil, fmt.Errorf("log level: %w", err)
	}
	log.SetLevel(lvl)
	switch o.logFormat {
	case "text":
		log.SetFormatter(&logrus.TextFormatter{FullTimestamp: true})
	case "json":
		log.SetFormatter(&logrus.JSONFormatter{})
	default:
		return nil, fmt.Errorf("log format %q: want text or json", o.logFormat)
	}
	return log, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "azureiotsecurity:", err)
		return 2
	}
	log, err := newLogger(o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "azureiotsecurity:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := runModule(ctx, o, log, stdout); err != nil {
		log.WithError(err).Error("module stopped")
		return 1
	}
	return 0
}
