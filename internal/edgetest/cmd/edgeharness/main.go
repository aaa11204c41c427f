// Command edgeharness runs the edgetest fake IoT Edge runtime (test CA,
// workload API on a unix socket, edgeHub-like MQTT broker) for manual
// checks. It prints the environment a module needs, logs every captured
// message, and stops on Ctrl-C.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/edgetest"
)

func main() {
	var (
		dir     = flag.String("dir", "", "directory for workload.sock and ca.pem (default: a new temp dir)")
		addr    = flag.String("addr", "127.0.0.1:8883", "broker listen address")
		hub     = flag.String("hub", "hub.example.net", "IoT hub hostname")
		device  = flag.String("device", "dev1", "device id")
		module  = flag.String("module", "azureiotsecurity", "module id")
		genid   = flag.String("genid", "637000000000000000", "module generation id")
		key     = flag.String("key", "", "module key, base64 (default: random)")
		gateway = flag.String("gateway", "localhost", "gateway hostname (server certificate name)")
		verbose = flag.Bool("v", false, "debug logging")
	)
	flag.Parse()
	if err := run(*dir, *addr, *hub, *device, *module, *genid, *key, *gateway, *verbose); err != nil {
		fmt.Fprintln(os.Stderr, "edgeharness:", err)
		os.Exit(1)
	}
}

func run(dir, addr, hub, device, module, genid, keyB64, gateway string, verbose bool) error {
	log := logrus.New()
	if verbose {
		log.SetLevel(logrus.DebugLevel)
	}
	entry := logrus.NewEntry(log)
	if dir == "" {
		d, err := os.MkdirTemp("", "edgeharness-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		dir = d
	}
	key := make([]byte, 32)
	if keyB64 != "" {
		k, err := base64.StdEncoding.DecodeString(keyB64)
		if err != nil {
			return fmt.Errorf("-key: %w", err)
		}
		key = k
	} else if _, err := rand.Read(key); err != nil {
		return err
	}
	ca, err := edgetest.NewCA()
	if err != nil {
		return err
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o644); err != nil {
		return err
	}
	wl, err := edgetest.NewWorkload(edgetest.WorkloadConfig{Dir: dir, ModuleID: module, GenerationID: genid,
		Key: key, TrustBundle: ca.PEM(), Throttle: 10, Logger: entry})
	if err != nil {
		return err
	}
	defer wl.Close()
	br, err := edgetest.NewBroker(edgetest.BrokerConfig{HubHostname: hub, DeviceID: device, ModuleID: module,
		ModuleKey: key, GatewayHostname: gateway, CA: ca, Addr: addr, Logger: entry})
	if err != nil {
		return err
	}
	defer br.Close()

	env := []string{
		"IOTEDGE_WORKLOADURI=" + wl.URI(),
		"IOTEDGE_DEVICEID=" + device,
		"IOTEDGE_MODULEID=" + module,
		"IOTEDGE_MODULEGENERATIONID=" + genid,
		"IOTEDGE_IOTHUBHOSTNAME=" + hub,
		"IOTEDGE_GATEWAYHOSTNAME=" + gateway,
		"IOTEDGE_AUTHSCHEME=sasToken",
		"IOTEDGE_APIVERSION=2018-06-28",
		fmt.Sprintf("EDGETEST_EDGEHUB_PORT=%d", br.Port()),
		"EDGETEST_CA_FILE=" + caFile,
		"EDGETEST_MODULE_KEY=" + base64.StdEncoding.EncodeToString(key),
	}
	fmt.Println("# edgeharness running; broker on", br.Addr(), "- export these:")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Printf("export %s=%q\n", k, v)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	seen := 0
	for {
		msgs, err := br.WaitMessages(ctx, seen+1)
		for _, m := range msgs[seen:] {
			entry.WithFields(logrus.Fields{"client": m.ClientID, "qos": m.QoS, "sys": m.SystemProps, "app": m.AppProps,
				"bytes": len(m.Body)}).Info("telemetry: " + truncate(string(m.Body), 400))
		}
		seen = len(msgs)
		if err != nil {
			entry.Infof("stopping: %d messages, %d connects, %d sign calls, max %d concurrent workload requests",
				seen, len(br.Connects()), wl.SignCalls(), wl.MaxInFlight())
			return nil
		}
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
