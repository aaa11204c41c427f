package edgehub

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/azureiotsecurity/azureiotsecurity/internal/edgetest"
	"github.com/azureiotsecurity/azureiotsecurity/internal/sink"
)

// TestMosquittoSmoke runs the session against Debian's mosquitto, a broker
// independent of both paho and mochi, so a coincidence between the two Go
// implementations cannot hide a protocol mistake. mosquitto can only
// compare static passwords, so the token source is given a frozen clock
// and the password file holds that exact token.
func TestMosquittoSmoke(t *testing.T) {
	bin, err := exec.LookPath("mosquitto")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/mosquitto"); serr != nil {
			t.Skip("skipping: mosquitto is not installed (apt-get install mosquitto; .ci/run does)")
		}
		bin = "/usr/sbin/mosquitto"
	}
	pw, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		t.Skip("skipping: mosquitto_passwd is not installed")
	}
	dir, err := os.MkdirTemp("", "mosq")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// mosquitto drops root for its own user: the files must be readable.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ca, err := edgetest.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.ServerCert("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("ca.pem", ca.PEM())
	write("server.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]}))
	write("server.key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))

	id, key, err := ParseConnectionString("HostName=hub.example.net;DeviceId=dev1;ModuleId=sec-mod;SharedAccessKey=" +
		"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=;GatewayHostName=localhost")
	if err != nil {
		t.Fatal(err)
	}
	frozen := time.Now()
	tokens, err := NewKeyTokenSource(id, key, time.Hour, func() time.Time { return frozen })
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokens.Token(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	passwd := write("passwd", nil)
	if out, err := exec.Command(pw, "-b", passwd, id.Username(), tok.Value).CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v\n%s", err, out)
	}
	_ = os.Chmod(passwd, 0o644)
	port := freePort(t)
	conf := write("mosquitto.conf", []byte(fmt.Sprintf(`per_listener_settings false
allow_anonymous false
password_file %s
listener %d 127.0.0.1
cafile %s
certfile %s
keyfile %s
`, passwd, port, filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"))))
	cmd := exec.Command(bin, "-c", conf)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitListening(t, port, &logs)

	// A plain subscriber (also authenticated with the token) watches the
	// telemetry topic the way a route would.
	got := make(chan mqtt.Message, 4)
	sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tls://127.0.0.1:" + strconv.Itoa(port)).
		SetClientID("watcher").SetUsername(id.Username()).SetPassword(tok.Value).
		SetTLSConfig(ca.ClientTLSConfig("localhost")))
	if tk := sub.Connect(); !tk.WaitTimeout(waitTimeout) || tk.Error() != nil {
		t.Fatalf("subscriber connect: %v\n%s", tk.Error(), logs.String())
	}
	defer sub.Disconnect(100)
	if tk := sub.Subscribe("devices/#", 1, func(_ mqtt.Client, m mqtt.Message) { got <- m }); !tk.WaitTimeout(waitTimeout) || tk.Error() != nil {
		t.Fatalf("subscribe: %v", tk.Error())
	}

	tlsCfg, err := SystemTLSConfig(id.BrokerHost(), ca.PEM())
	if err != nil {
		t.Fatal(err)
	}
	trust, err := NewStaticTrust(tlsCfg)
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(id, tokens, trust, Options{Port: port, MinBackoff: 20 * time.Millisecond, MaxBackoff: 200 * time.Millisecond, TwinTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	msg := sink.Message{ID: "mid 1/2", Body: []byte(`{"x":1}`), ContentType: "application/json", ContentEncoding: "utf-8",
		InterfaceID: sink.InterfaceID, Properties: []sink.Property{{Key: "MessagePriority", Value: "High"}}}
	if err := s.Send(ctx, msg); err != nil {
		t.Fatalf("Send to mosquitto: %v\n%s", err, logs.String())
	}
	select {
	case m := <-got:
		want := "devices/dev1/modules/sec-mod/messages/events/%24.mid=mid%201%2F2&%24.ct=application%2Fjson&%24.ce=utf-8&%24.ifid=urn%3Aazureiot%3ASecurity%3ASecurityAgent%3A1&MessagePriority=High"
		if m.Topic() != want || string(m.Payload()) != `{"x":1}` {
			t.Fatalf("mosquitto delivered %q %q\nwant topic %q", m.Topic(), m.Payload(), want)
		}
	case <-ctx.Done():
		t.Fatalf("message never reached the subscriber\n%s", logs.String())
	}
	cancel()
	<-done
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitListening(t *testing.T, port int, logs *strings.Builder) {
	deadline := time.Now().Add(waitTimeout)
	for {
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("mosquitto did not listen: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
