package edgetest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
)

func TestInvoke(t *testing.T) {
	e := newEnv(t, nil)
	ctx := ctxT(t)

	st, body, err := e.br.Invoke(ctx, "ping", []byte(`{}`))
	if err != nil || st != 404 || !strings.Contains(string(body), "not connected") {
		t.Fatalf("not connected: %d %s %v", st, body, err)
	}
	c := e.mustConnect(t)
	if err := e.br.WaitConnected(ctx, e.br.ClientID()); err != nil {
		t.Fatal(err)
	}
	st, body, err = e.br.Invoke(ctx, "ping", []byte(`{}`))
	if err != nil || st != 404 || !strings.Contains(string(body), "not subscribed") {
		t.Fatalf("not subscribed: %d %s %v", st, body, err)
	}

	waitTok(t, c.Subscribe("$iothub/methods/POST/#", 1, func(c paho.Client, m paho.Message) {
		rest := strings.TrimPrefix(m.Topic(), "$iothub/methods/POST/")
		name, q, _ := strings.Cut(rest, "/?")
		if name == "silent" {
			return
		}
		status, resp := "200", `{"pong":`+string(m.Payload())+`}`
		if name != "ping" {
			status, resp = "404", `{"error":"unknown method"}`
		}
		go c.Publish("$iothub/methods/res/"+status+"/"+"?"+q, 1, false, []byte(resp)) // never publish inside the callback
	}))
	st, body, err = e.br.Invoke(ctx, "ping", []byte(`{"x":1}`))
	if err != nil || st != 200 || string(body) != `{"pong":{"x":1}}` {
		t.Fatalf("ping: %d %s %v", st, body, err)
	}
	st, body, err = e.br.Invoke(ctx, "nope", []byte(`null`))
	if err != nil || st != 404 || string(body) != `{"error":"unknown method"}` {
		t.Fatalf("unknown: %d %s %v", st, body, err)
	}
	sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if _, _, err := e.br.Invoke(sctx, "silent", []byte(`1`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("silent: %v", err)
	}
}
