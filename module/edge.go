package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"

	"github.com/azureiotsecurity/azureiotsecurity/internal/edgehub"
)

// transportMode names how messages leave the module.
type transportMode string

const (
	modeLocal      transportMode = "local"      // JSON lines, no Azure
	modeEdge       transportMode = "edge"       // edgeHub, module identity from IoT Edge
	modeStandalone transportMode = "standalone" // IoT Hub (or a gateway) with a connection string
)

// edgeLink is the MQTT session and what it needs to be closed.
type edgeLink struct {
	mode     transportMode
	session  *edgehub.Session
	closeAll func()
}

// detectMode: IoT Edge sets IOTEDGE_WORKLOADURI; a connection string
// means standalone; otherwise the module runs locally.
func detectMode(o options) transportMode {
	switch {
	case os.Getenv(edgehub.EnvWorkloadURI) != "":
		return modeEdge
	case o.connString != "":
		return modeStandalone
	}
	return modeLocal
}

// newEdgeLink builds the session for edge or standalone mode. onTwin and
// onPatch receive the whole twin and desired patches, in order, from one
// goroutine.
func newEdgeLink(o options, mode transportMode, log *logrus.Entry, reg prometheus.Registerer, onTwin, onPatch func([]byte)) (*edgeLink, error) {
	opt := edgehub.Options{
		OnTwin:         onTwin,
		OnDesiredPatch: onPatch,
		Registerer:     reg,
		Log:            log,
	}
	if o.mqttPort != "" {
		port, err := strconv.Atoi(o.mqttPort)
		if err != nil || port <= 0 || port > 65535 {
			return nil, fmt.Errorf("AZUREIOTSECURITY_MQTT_PORT %q: not a port number", o.mqttPort)
		}
		opt.Port = port
	}
	var (
		id     edgehub.Identity
		tokens edgehub.TokenSource
		trust  edgehub.TrustSource
		close  = func() {}
	)
	switch mode {
	case modeEdge:
		var err error
		if id, err = edgehub.IdentityFromEnv(os.Getenv); err != nil {
			return nil, err
		}
		wc, err := edgehub.NewWorkloadClient(id, edgehub.WorkloadOptions{Metrics: edgehub.NewWorkloadMetrics(reg), Log: log})
		if err != nil {
			return nil, err
		}
		close = wc.Close
		tokens = edgehub.NewWorkloadTokenSource(id, wc, edgehub.DefaultTokenLifetime, nil)
		trust = edgehub.NewWorkloadTrust(wc, id.GatewayHostName)
	case modeStandalone:
		var key edgehub.Key
		var err error
		if id, key, err = edgehub.ParseConnectionString(o.connString); err != nil {
			return nil, err
		}
		if tokens, err = edgehub.NewKeyTokenSource(id, key, edgehub.DefaultTokenLifetime, nil); err != nil {
			return nil, err
		}
		var extraCA []byte
		if o.caFile != "" {
			if extraCA, err = os.ReadFile(o.caFile); err != nil {
				return nil, fmt.Errorf("CA file: %w", err)
			}
		}
		cfg, err := edgehub.SystemTLSConfig(id.BrokerHost(), extraCA)
		if err != nil {
			return nil, err
		}
		if trust, err = edgehub.NewStaticTrust(cfg); err != nil {
			return nil, err
		}
	default:
		return nil, errors.New("no IoT Edge environment and no connection string")
	}
	s, err := edgehub.NewSession(id, tokens, trust, opt)
	if err != nil {
		close()
		return nil, err
	}
	log.WithFields(logrus.Fields{"mode": string(mode), "device": id.DeviceID, "module": id.ModuleID, "broker": id.BrokerHost()}).
		Info("sending security messages over MQTT")
	return &edgeLink{mode: mode, session: s, closeAll: close}, nil
}
