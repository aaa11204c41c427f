package deployment

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/azureiotsecurity/azureiotsecurity/internal/event"
	"github.com/azureiotsecurity/azureiotsecurity/internal/schematest"
)

// TestImage starts the container image named by $AZUREIOTSECURITY_TEST_IMAGE
// with the default manifest's createOptions, as far as they apply on one
// machine, and checks that /metrics answers and that --once prints
// schema-valid messages. .ci/image.sh sets the variables after starting
// an isolated dockerd; $AZUREIOTSECURITY_TEST_DOCKER is its docker CLI.
func TestImage(t *testing.T) {
	image, docker := os.Getenv("AZUREIOTSECURITY_TEST_IMAGE"), os.Getenv("AZUREIOTSECURITY_TEST_DOCKER")
	if image == "" || docker == "" {
		t.Skip("skipping the container test: run .ci/image.sh, which builds the image and starts dockerd")
	}
	m := loadManifest(t, "deployment.template.json")
	var co createOptions
	mustDecode(t, "createOptions", m.module.Settings.CreateOptions, &co, true)
	volume := fmt.Sprintf("azureiotsecurity-test-%d", os.Getpid())
	args := runArgs(t, co.HostConfig, volume)
	defer func() { _ = exec.Command(docker, "volume", "rm", "-f", volume).Run() }()
	addr := freeAddr(t)
	for k, v := range m.module.Env {
		if k == "METRICS_ADDR" {
			v.Value = addr // the manifest's :9600 may be taken on this machine
		}
		args = append(args, "-e", k+"="+v.Value)
	}

	name := volume
	run := append([]string{"run", "-d", "--name", name}, args...)
	run = append(run, image, "--snapshot-frequency", "PT2S", "--high-frequency", "PT1S")
	if out, err := exec.Command(docker, run...).CombinedOutput(); err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(run, " "), err, out)
	}
	defer func() {
		if t.Failed() {
			out, _ := exec.Command(docker, "logs", name).CombinedOutput()
			t.Logf("container log:\n%s", tail(string(out), 4000))
		}
		_ = exec.Command(docker, "rm", "-f", name).Run()
	}()
	waitHTTP(t, "http://"+addr+"/metrics", "azureiotsecurity_events_collected_total")
	waitHTTP(t, "http://"+addr+"/readyz", "ready")

	once := append([]string{"run", "--rm"}, args...)
	once = append(once, image, "--once", "--metrics-addr=")
	cmd := exec.Command(docker, once...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("--once in the container: %v\n%s", err, tail(stderr.String(), 4000))
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		n++
		schematest.Validate(t, sc.Bytes())
		if _, err := event.DecodeMessage(sc.Bytes()); err != nil {
			t.Errorf("message %d: %v", n, err)
		}
	}
	if n == 0 {
		t.Fatalf("--once printed no message; log:\n%s", tail(stderr.String(), 4000))
	}
	t.Logf("--once in the container: %d message(s), %d bytes; warnings: %d", n, len(out), strings.Count(stderr.String(), "level=warning"))
}

// runArgs translates the HostConfig fields into docker run flags. Binds of
// host paths missing here are left out, because Docker would create them
// on the host as directories.
func runArgs(t *testing.T, hc hostConfig, volume string) []string {
	args := []string{"--network", hc.NetworkMode, "--pid", hc.PidMode}
	if hc.ReadonlyRootfs {
		args = append(args, "--read-only")
	}
	for _, c := range hc.CapDrop {
		args = append(args, "--cap-drop", c)
	}
	for _, c := range hc.CapAdd {
		args = append(args, "--cap-add", c)
	}
	for _, o := range hc.SecurityOpt {
		args = append(args, "--security-opt", o)
	}
	for _, b := range hc.Binds {
		src, rest, _ := strings.Cut(b, ":")
		if !strings.HasPrefix(src, "/") {
			args = append(args, "-v", volume+":"+rest)
			continue
		}
		if _, err := os.Stat(src); err != nil {
			t.Logf("bind %s left out: %v", b, err)
			continue
		}
		args = append(args, "-v", b)
	}
	if lc := hc.LogConfig; lc != nil {
		args = append(args, "--log-driver", lc.Type)
		for k, v := range lc.Config {
			args = append(args, "--log-opt", k+"="+v)
		}
	}
	return args
}

// waitHTTP polls url until its body contains want.
func waitHTTP(t *testing.T, url, want string) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	var last string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		resp, err := c.Get(url)
		if err != nil {
			last = err.Error()
			continue
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if last = fmt.Sprintf("%d %s", resp.StatusCode, tail(b.String(), 300)); resp.StatusCode == 200 && strings.Contains(b.String(), want) {
			return
		}
	}
	t.Fatalf("%s never answered 200 with %q; last: %s", url, want, last)
}
