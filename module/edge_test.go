package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/config"
	"github.com/azureiotsecurity/azureiotsecurity/internal/edgetest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/schematest"
)

const (
	testHub    = "hub.example.net"
	testDevice = "dev1"
	testModule = "azureiotsecurity"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

type edgeEnv struct {
	ca     *edgetest.CA
	broker *edgetest.Broker
	wl     *edgetest.Workload
}

func newEdgeEnv(t *testing.T) *edgeEnv {
	t.Helper()
	ca, err := edgetest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	b, err := edgetest.NewBroker(edgetest.BrokerConfig{HubHostname: testHub, DeviceID: testDevice, ModuleID: testModule, ModuleKey: testKey, CA: ca})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	// Unix socket paths are limited to 108 bytes; t.TempDir can be longer.
	dir, err := os.MkdirTemp("", "wl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	wl, err := edgetest.NewWorkload(edgetest.WorkloadConfig{Dir: dir, ModuleID: testModule, GenerationID: "637000000000000000", Key: testKey, TrustBundle: ca.PEM()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = wl.Close() })
	return &edgeEnv{ca: ca, broker: b, wl: wl}
}

func (e *edgeEnv) setIoTEdgeEnv(t *testing.T) {
	for k, v := range map[string]string{
		"IOTEDGE_WORKLOADURI": e.wl.URI(), "IOTEDGE_DEVICEID": testDevice, "IOTEDGE_MODULEID": testModule,
		"IOTEDGE_MODULEGENERATIONID": "637000000000000000", "IOTEDGE_IOTHUBHOSTNAME": testHub,
		"IOTEDGE_GATEWAYHOSTNAME": "localhost", "IOTEDGE_AUTHSCHEME": "sasToken", "IOTEDGE_APIVERSION": "2022-08-03",
		"AZUREIOTSECURITY_MQTT_PORT": strconv.Itoa(e.broker.Port()),
	} {
		t.Setenv(k, v)
	}
}

// startModule runs the module as main would, with the environment set.
func startModule(t *testing.T, args ...string) (cancel func()) {
	t.Helper()
	o, err := parseFlags(append([]string{"--state-dir", t.TempDir(), "--metrics-addr", ""}, args...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	log := logrus.New()
	log.SetOutput(io.Discard)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runModule(ctx, o, log, io.Discard) }()
	var stopped bool
	cancel = func() {
		if stopped {
			return
		}
		stopped = true
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("module: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("module did not stop")
		}
	}
	t.Cleanup(cancel)
	return cancel
}

func within(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitEvent waits for a captured message holding an event named name and
// checks every message's topic and body on the way.
func waitEvent(t *testing.T, b *edgetest.Broker, name string) (edgetest.Captured, *event.Message) {
	t.Helper()
	ctx := within(t)
	for n := 1; ; n++ {
		msgs, err := b.WaitMessages(ctx, n)
		if err != nil {
			t.Fatalf("waiting for a %s event: %v", name, err)
		}
		c := msgs[n-1]
		checkTelemetry(t, c)
		m, err := event.DecodeMessage(c.Body)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range m.Events {
			if e.Name == name {
				return c, m
			}
		}
	}
}

func checkTelemetry(t *testing.T, c edgetest.Captured) {
	t.Helper()
	wantPrefix := "devices/" + testDevice + "/modules/" + testModule + "/messages/events/"
	if !strings.HasPrefix(c.Topic, wantPrefix) || strings.ContainsAny(c.Topic, "+#") || c.QoS != 1 {
		t.Fatalf("topic %q qos %d", c.Topic, c.QoS)
	}
	for k, want := range map[string]string{"$.ifid": "urn:azureiot:Security:SecurityAgent:1", "$.ct": "application/json", "$.ce": "utf-8"} {
		if got := c.SystemProps[k]; got != want {
			t.Fatalf("%s = %q, want %q (topic %s)", k, got, want, c.Topic)
		}
	}
	if c.SystemProps["$.mid"] == "" {
		t.Fatal("no $.mid")
	}
	if p, _ := c.App("MessagePriority"); p != "High" && p != "Low" {
		t.Fatalf("MessagePriority %q", p)
	}
	if !strings.Contains(c.Bag, "%24.mid=") || !strings.Contains(c.Bag, "%24.ifid=urn%3Aazureiot%3ASecurity%3ASecurityAgent%3A1") {
		t.Fatalf("bag not encoded as edgeHub expects: %s", c.Bag)
	}
	schematest.Validate(t, c.Body)
}

func reportedObject(t *testing.T, b *edgetest.Broker, name string, cond func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if obj, ok := b.Reported()[name].(map[string]any); ok && cond(obj) {
			return obj
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("reported %s never matched; reported = %v", name, b.Reported())
	return nil
}

func value(obj map[string]any, key string) any {
	if w, ok := obj[key].(map[string]any); ok {
		return w["value"]
	}
	return nil
}

// TestIoTEdgeEndToEnd: environment → trust bundle → sign → CONNECT → twin
// GET → desired applied → reported PATCH → security messages; then a bad
// desired patch, and the direct methods.
func TestIoTEdgeEndToEnd(t *testing.T) {
	e := newEdgeEnv(t)
	e.setIoTEdgeEnv(t)
	e.broker.SetDesired(map[string]any{
		config.ObjectName: map[string]any{
			"eventPrioritySystemInformation": map[string]any{"value": "High"},
			// Operational events ride on the next High send.
			"highPriorityMessageFrequency": map[string]any{"value": "PT1S"},
			"hubResourceId":                map[string]any{"value": "/subscriptions/x/hubs/h 1&2"},
		},
		config.ModuleObjectName: map[string]any{"outputName": "security"},
	})
	stop := startModule(t)

	c, _ := waitEvent(t, e.broker, event.NameSystemInformation)
	if rid, _ := c.App("HubResourceId"); rid != "/subscriptions/x/hubs/h 1&2" {
		t.Errorf("HubResourceId %q", rid)
	}
	if c.SystemProps["$.on"] != "security" {
		t.Errorf("$.on = %q, want the twin's outputName", c.SystemProps["$.on"])
	}
	if e.wl.SignCalls() == 0 || e.wl.TrustBundleCalls() == 0 {
		t.Error("the workload API was not used")
	}
	rep := reportedObject(t, e.broker, config.ObjectName, func(o map[string]any) bool {
		return value(o, "eventPrioritySystemInformation") == "High"
	})
	if value(rep, "snapshotFrequency") != "PT13H" {
		t.Errorf("reported snapshotFrequency %v", value(rep, "snapshotFrequency"))
	}
	reportedObject(t, e.broker, statusObject, func(o map[string]any) bool { return o["agentId"] != "" && o["mode"] == "edge" })

	// A bad value: ConfigurationError event, reported error, last good kept.
	if _, err := e.broker.PushDesired(map[string]any{config.ObjectName: map[string]any{"maxMessageSizeInBytes": map[string]any{"value": "big"}}}); err != nil {
		t.Fatal(err)
	}
	_, m := waitEvent(t, e.broker, event.NameConfigurationError)
	_ = m
	reportedObject(t, e.broker, statusObject, func(o map[string]any) bool {
		errs, _ := o["configurationErrors"].([]any)
		return len(errs) == 1 && strings.Contains(toJSON(errs[0]), "maxMessageSizeInBytes")
	})
	reportedObject(t, e.broker, config.ObjectName, func(o map[string]any) bool {
		return value(o, "maxMessageSizeInBytes") == float64(204800)
	})

	// Live reconfiguration: a collector set to Off stops, back on starts.
	for _, prio := range []string{"Off", "High"} {
		if _, err := e.broker.PushDesired(map[string]any{config.ObjectName: map[string]any{"eventPriorityLocalUsers": map[string]any{"value": prio}}}); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"Off": "off", "High": "running"}[prio]
		reportedObject(t, e.broker, statusObject, func(o map[string]any) bool {
			c, _ := o["collectors"].(map[string]any)
			return c[event.NameLocalUsers] == want
		})
	}

	ctx := within(t)
	status, body, err := e.broker.Invoke(ctx, "GetStatus", []byte(`{}`))
	if err != nil || status != 200 || !bytes.Contains(body, []byte(`"connected":true`)) {
		t.Fatalf("GetStatus: %d %s %v", status, body, err)
	}
	if status, body, _ := e.broker.Invoke(ctx, "Reboot", []byte(`{}`)); status != 501 || !bytes.Contains(body, []byte("unknown method")) {
		t.Fatalf("unknown method: %d %s", status, body)
	}
	before := len(e.broker.Messages())
	if status, body, _ := e.broker.Invoke(ctx, "TriggerSnapshot", nil); status != 200 {
		t.Fatalf("TriggerSnapshot: %d %s", status, body)
	}
	if len(e.broker.Messages()) <= before {
		t.Fatal("TriggerSnapshot sent nothing")
	}
	if status, body, _ := e.broker.Invoke(ctx, "Flush", nil); status != 200 {
		t.Fatalf("Flush: %d %s", status, body)
	}
	stop()
}

// TestStandaloneConnectionString connects with a module connection string
// straight to the broker, trusting a test CA given as a file.
func TestStandaloneConnectionString(t *testing.T) {
	e := newEdgeEnv(t)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, e.ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AZUREIOTSECURITY_MQTT_PORT", strconv.Itoa(e.broker.Port()))
	t.Setenv("AZUREIOTSECURITY_CONNECTION_STRING", "HostName="+testHub+";DeviceId="+testDevice+";ModuleId="+testModule+
		";SharedAccessKey="+base64.StdEncoding.EncodeToString(testKey)+";GatewayHostName=localhost")
	startModule(t, "--ca-file", caFile)
	waitEvent(t, e.broker, event.NameLocalUsers)
	reportedObject(t, e.broker, statusObject, func(o map[string]any) bool { return o["mode"] == "standalone" })
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
