package edgehub

import (
	"io"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/sirupsen/logrus"
)

// Options tune a Session. Zero values take the defaults in brackets.
type Options struct {
	Host          string        // broker host to dial [Identity.BrokerHost()]
	Port          int           // [8883]
	OutputName    string        // $.on of every message; "" = none
	RenewFraction float64       // reconnect with a new token after this share of its lifetime [0.8]
	MinBackoff    time.Duration // reconnect and retry backoff [1s]
	MaxBackoff    time.Duration // [60s]
	StableAfter   time.Duration // a connection that lived this long resets the backoff [1m]
	KeepAlive     time.Duration // [60s]
	PingTimeout   time.Duration // [10s]
	// ConnectTimeout bounds the TCP+TLS+MQTT connect [30s].
	ConnectTimeout time.Duration
	WriteTimeout   time.Duration // bounds handing a packet to paho [10s]
	TwinTimeout    time.Duration // per twin request [10s]
	MethodTimeout  time.Duration // per method handler [25s]
	MaxMethods     int           // concurrent method handlers [8]

	// OnTwin receives the whole twin ({"desired":…,"reported":…}) after
	// every (re)connect and after a desired version gap; OnDesiredPatch
	// receives desired patches in $version order. Both are called from one
	// goroutine, never concurrently, and may block (delaying only twin work).
	OnTwin         func(full []byte)
	OnDesiredPatch func(patch []byte)

	Registerer prometheus.Registerer // nil: metrics are not registered
	Log        *logrus.Entry         // nil: silent
}

func (o *Options) defaults(id Identity) {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if o.Host == "" {
		o.Host = id.BrokerHost()
	}
	if o.Port == 0 {
		o.Port = 8883
	}
	if o.RenewFraction <= 0 || o.RenewFraction > 1 {
		o.RenewFraction = 0.8
	}
	def(&o.MinBackoff, time.Second)
	def(&o.MaxBackoff, time.Minute)
	def(&o.StableAfter, time.Minute)
	def(&o.KeepAlive, time.Minute)
	def(&o.PingTimeout, 10*time.Second)
	def(&o.ConnectTimeout, 30*time.Second)
	def(&o.WriteTimeout, 10*time.Second)
	def(&o.TwinTimeout, 10*time.Second)
	def(&o.MethodTimeout, 25*time.Second)
	if o.MaxMethods <= 0 {
		o.MaxMethods = 8
	}
	if o.Log == nil {
		o.Log = discardLog()
	}
}

// discardLog is the logger used when none is injected.
func discardLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}
