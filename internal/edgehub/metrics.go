package edgehub

import "github.com/prometheus/client_golang/prometheus"

const metricPrefix = "azureiotsecurity_edgehub_"

type sessionMetrics struct {
	connected       prometheus.Gauge
	reconnects      prometheus.Counter
	connectFailures prometheus.Counter
	tokenRenewals   prometheus.Counter
	publishLatency  prometheus.Histogram
	inflight        prometheus.Gauge
	sent            prometheus.Counter
	rejected        *prometheus.CounterVec
	twin            *prometheus.CounterVec
	desired         *prometheus.CounterVec
	methods         *prometheus.CounterVec
}

func newSessionMetrics(reg prometheus.Registerer) *sessionMetrics {
	return &sessionMetrics{
		connected: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: metricPrefix + "connected", Help: "1 while the MQTT session with edgeHub is connected."})),
		reconnects: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: metricPrefix + "reconnects_total", Help: "Connections to edgeHub lost and re-established."})),
		connectFailures: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: metricPrefix + "connect_failures_total", Help: "Failed connection attempts (trust, token, TLS, MQTT)."})),
		tokenRenewals: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: metricPrefix + "token_renewals_total", Help: "Proactive reconnects to renew the SAS token."})),
		publishLatency: register(reg, prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: metricPrefix + "publish_duration_seconds", Help: "Time from Send to PUBACK, including waits for a connection.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300}})),
		inflight: register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: metricPrefix + "inflight_messages", Help: "Messages in Send, not yet acknowledged."})),
		sent: register(reg, prometheus.NewCounter(prometheus.CounterOpts{
			Name: metricPrefix + "messages_sent_total", Help: "Messages acknowledged by edgeHub (PUBACK)."})),
		rejected: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricPrefix + "messages_rejected_total", Help: "Messages refused locally, never published."}, []string{"reason"})),
		twin: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricPrefix + "twin_requests_total", Help: "Twin GET and reported PATCH requests by result."},
			[]string{"operation", "result"})),
		desired: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricPrefix + "desired_patches_total", Help: "Desired-property patches received, by outcome."},
			[]string{"result"})),
		methods: register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: metricPrefix + "method_calls_total", Help: "Direct method calls, by outcome."}, []string{"result"})),
	}
}
